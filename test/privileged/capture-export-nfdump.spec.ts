import { Lab } from '../lab/lab.js';
import { startExporter } from '../lab/product-processes.js';
import { ping, sendUdp, type ExpectedFlow } from '../lab/traffic.js';
import { startNfcapd, type NfdumpRecord } from '../support/nfdump.js';
import { ATTACH_MODES, describePrivileged } from '../support/privileges.js';

jest.setTimeout(180_000);

const COLLECTOR_PORT = 47_391;

/** The nfdump records of one flow: same addresses, ports (ICMP: none) and protocol. */
function recordsOf(records: readonly NfdumpRecord[], flow: ExpectedFlow): NfdumpRecord[] {
  const [source, destination] = flow.ipVersion === 4 ? ['src4_addr', 'dst4_addr'] : ['src6_addr', 'dst6_addr'];
  const isIcmp = flow.protocol === 1 || flow.protocol === 58;
  return records.filter(
    (record) =>
      record[source] === flow.sourceAddress &&
      record[destination] === flow.destinationAddress &&
      record.proto === flow.protocol &&
      (isIcmp || (record.src_port === flow.sourcePort && record.dst_port === flow.destinationPort)),
  );
}

for (const { mode, unmet } of ATTACH_MODES) {
  describePrivileged(
    `exact counts at nfdump after export, real agent on lab traffic (${mode})`,
    () => {
      it('exports both observations of every stream with exact packets and IP bytes, and no sequence failures', async () => {
        const lab = await Lab.create({ pods: 2 });
        try {
          const [a, b] = lab.podList;
          const nfcapd = await startNfcapd(COLLECTOR_PORT, lab.nodeNamespace);
          const exporter = await startExporter(lab, { collectorPort: COLLECTOR_PORT, env: { EBPF_ATTACH_MODE: mode } });
          const flows: ExpectedFlow[] = [];
          try {
            flows.push(await sendUdp(lab, a, b, { family: 4, count: 1000, payloadBytes: 200, sourcePort: 41_004, destinationPort: 5_404 }));
            flows.push(await sendUdp(lab, b, a, { family: 6, count: 500, payloadBytes: 1000, sourcePort: 41_006, destinationPort: 5_406 }));
            const icmp = await ping(lab, a, b, { family: 4, count: 20, payloadBytes: 56 });
            flows.push(icmp.requests, icmp.replies);
          } finally {
            // SIGTERM: the agent drains the kernel one last time and flushes every flow.
            await exporter.stop();
          }
          const { records, sequenceFailures } = await nfcapd.stop();
          expect(sequenceFailures).toBe(0);
          for (const flow of flows) {
            const observations = recordsOf(records, flow);
            // Sent at the sender's veth (TC ingress) and delivered at the receiver's (TC egress).
            expect(observations.map((record) => [record.in_packets, record.in_bytes])).toEqual([
              [flow.packets, flow.octets],
              [flow.packets, flow.octets],
            ]);
          }
        } finally {
          await lab.destroy();
        }
      });
    },
    { unmet },
  );
}

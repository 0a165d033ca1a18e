import { Lab, type LabPod } from '../lab/lab.js';
import { capturePodFrames, disableOffloads, expectedTcpSender, ping, sendUdp, sendUdpFromEveryCpu, sendUdpTakingTurns, tcpTransfer, type ExpectedFlow } from '../lab/traffic.js';
import { CaptureAgent } from '../support/capture-agent.js';
import { bothObservations, ObservedFlows } from '../support/flow-observations.js';
import { ATTACH_MODES, describePrivileged } from '../support/privileges.js';

jest.setTimeout(120_000);

const ETHERNET_HEADER = 14;

for (const { mode, unmet } of ATTACH_MODES) {
  describePrivileged(
    `exact counts in the drained deltas (${mode})`,
    () => {
      let lab: Lab;
      let agent: CaptureAgent;
      let a: LabPod, b: LabPod, c: LabPod, d: LabPod;

      beforeAll(async () => {
        lab = await Lab.create({ pods: 4 });
        [a, b, c, d] = lab.podList;
        // c sends without offloads, so its host veth sees one skb per segment (checked against tcpdump).
        await disableOffloads(lab, c);
        await disableOffloads(lab, d);
        agent = CaptureAgent.start(lab, { EBPF_ATTACH_MODE: mode, EBPF_BUFFER_SIZE: '16384' });
        const health = await agent.waitUntilReady();
        expect(health.details).toMatchObject({ attachMode: mode, phase: 'running' });
        await agent.waitUntilAttached(lab.podList);
      });

      afterAll(async () => {
        await agent?.stop();
        await lab?.destroy();
      });

      /** Drains what came before, runs the traffic, drains again, and returns the observations. */
      async function observe<T>(traffic: () => Promise<T>): Promise<{ result: T; observed: ObservedFlows }> {
        await agent.drain();
        const result = await traffic();
        const observed = new ObservedFlows();
        await observed.drainFrom(agent);
        expect(observed.drops).toEqual({});
        return { result, observed };
      }

      it.each([4, 6] as const)('counts UDP/IPv%s exactly at both veths', async (family) => {
        const { result: flow, observed } = await observe(() =>
          sendUdp(lab, a, b, { family, count: family === 4 ? 1000 : 500, payloadBytes: family === 4 ? 200 : 1000, sourcePort: 41_000 + family, destinationPort: 5001 }),
        );
        expect(observed.of(flow)).toEqual(bothObservations(flow, a.hostInterface, b.hostInterface));
      });

      // Each CPU counts the last flow of each hook in a slot and moves it to the map when
      // another flow comes: flows taking turns move back and forth, and one drain
      // holds a flow both from the map and from a slot.
      it.each([4, 6] as const)('counts UDP/IPv%s flows that take turns packet by packet exactly', async (family) => {
        const { result, observed } = await observe(() =>
          sendUdpTakingTurns(lab, a, b, { family, sourcePorts: [42_000, 42_001, 42_002], destinationPort: 5002, rounds: 300, payloadBytes: 100 }),
        );
        expect(result.delivered).toBe(900);
        for (const flow of result.flows) expect(observed.of(flow)).toEqual(bothObservations(flow, a.hostInterface, b.hostInterface));
      });

      // Each CPU has slots of its own: the same flow counted on every CPU at once
      // comes out of the drain once per CPU, and the sum is exact.
      it('counts one UDP flow sent from every CPU at once exactly', async () => {
        const { result, observed } = await observe(() =>
          sendUdpFromEveryCpu(lab, a, b, { family: 4, countPerCpu: 10_000, payloadBytes: 64, sourcePort: 43_000, destinationPort: 5003 }),
        );
        expect(result.delivered).toBe(result.cpus * 10_000);
        expect(observed.of(result.flow)).toEqual(bothObservations(result.flow, a.hostInterface, b.hostInterface));
      });

      it.each([4, 6] as const)('counts ICMP (IPv%s) echo requests and replies with type and code', async (family) => {
        const { result, observed } = await observe(() => ping(lab, a, b, { family, count: 20, payloadBytes: 100 }));
        expect(observed.of(result.requests)).toEqual(bothObservations(result.requests, a.hostInterface, b.hostInterface));
        expect(observed.of(result.replies)).toEqual(bothObservations(result.replies, b.hostInterface, a.hostInterface));
      });

      /**
       * TCP_INFO states the truth only when nothing was lost: with both ends on one CPU
       * (ONE_CPU in test/lab/traffic.ts) segments arrive in order, so a retransmission means a segment
       * was dropped, or timed out on a stalled machine, perhaps before one of the
       * observation points. Such an attempt proves nothing, so it is repeated on a
       * fresh port; only a transfer without retransmissions is checked, and it is
       * checked exactly.
       */
      async function observeLosslessTcp<T>(firstPort: number, transfer: (port: number) => Promise<T>, retransmitted: (result: T) => number) {
        const attempts: number[] = [];
        for (let attempt = 0; attempt < 3; attempt++) {
          const port = firstPort + attempt * 100;
          const run = await observe(() => transfer(port));
          if (retransmitted(run.result) === 0) return { ...run, port };
          attempts.push(retransmitted(run.result));
        }
        throw new Error(`every TCP transfer retransmitted (${attempts.join(', ')} bytes): the lab is losing packets or stalling`);
      }

      it('counts TCP with offloads on exactly against the sender TCP_INFO (GSO super-packets expanded)', async () => {
        const { result: transfer, observed, port } = await observeLosslessTcp(
          5101,
          (port) => tcpTransfer(lab, a, b, { family: 4, bytes: 4 << 20, port }),
          (transfer) => transfer.retransmittedBytes,
        );
        const flow = expectedTcpSender(a, b, 4, port, transfer);
        const seen = observed.of(flow);
        expect(seen).toEqual(bothObservations(flow, a.hostInterface, b.hostInterface));
        // SYN, ACK, PSH and FIN all happened on this flow.
        expect(seen[`${a.hostInterface}/ingress`].tcpFlags & 0x1b).toBe(0x1b);
      });

      it('counts TCP over IPv6 with offloads on exactly against the sender TCP_INFO', async () => {
        const { result: transfer, observed, port } = await observeLosslessTcp(
          5102,
          (port) => tcpTransfer(lab, a, b, { family: 6, bytes: 1 << 20, port }),
          (transfer) => transfer.retransmittedBytes,
        );
        const flow = expectedTcpSender(a, b, 6, port, transfer);
        expect(observed.of(flow)).toEqual(bothObservations(flow, a.hostInterface, b.hostInterface));
      });

      it('counts TCP with offloads off exactly against a pod-side tcpdump', async () => {
        const { result, observed, port } = await observeLosslessTcp(
          5103,
          (port) => capturePodFrames(lab, c, `tcp and src host ${c.ipv4} and dst port ${port}`, () => tcpTransfer(lab, c, d, { family: 4, bytes: 1 << 20, port })),
          (capture) => capture.result.retransmittedBytes,
        );
        const frames = result.frameLengths;
        const layer2Octets = frames.reduce((sum, length) => sum + length, 0);
        const flow: ExpectedFlow = {
          ...expectedTcpSender(c, d, 4, port, result.result),
          packets: frames.length,
          octets: layer2Octets - frames.length * ETHERNET_HEADER,
          layer2Octets,
        };
        expect(frames.length).toBe(result.result.segmentsOut);
        expect(observed.of(flow)).toEqual(bothObservations(flow, c.hostInterface, d.hostInterface));
      });
    },
    { unmet },
  );
}

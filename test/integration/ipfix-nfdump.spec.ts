import { Test, type TestingModule } from '@nestjs/testing';
import { ConfigModule } from '../../src/adapters/config/config.module.js';
import { IpfixExportModule } from '../../src/adapters/ipfix/ipfix-export.module.js';
import { FlowSinkPort } from '../../src/application/ports/flow-sink.port.js';
import { FlowDirection, IpProtocol } from '../../src/domain/flow/flow-key.js';
import { enrichedFlow } from '../support/flow-fixtures.js';
import { freeUdpPort } from '../support/ipfix-collector.harness.js';
import { startNfcapd } from '../support/nfdump.js';
import { testConfig } from '../support/test-config.js';

describe('IPFIX export read by nfcapd/nfdump 1.7.1', () => {
  let module: TestingModule | undefined;
  afterEach(async () => {
    await module?.close();
    module = undefined;
  });

  it('stores every flow field by field, with no sequence failures', async () => {
    const port = await freeUdpPort();
    const nfcapd = await startNfcapd(port);
    const config = testConfig({ IPFIX_COLLECTOR_PORT: String(port), IPFIX_OBSERVATION_DOMAIN_ID: '7', NODE_NAME: 'node-a' });
    module = await Test.createTestingModule({ imports: [ConfigModule.forRoot(config), IpfixExportModule] }).compile();
    await module.init();
    const sink = module.get(FlowSinkPort);
    const flows = [
      enrichedFlow(),
      enrichedFlow({ packets: 3, octets: 252, layer2Octets: 294, tcpFlags: 0 }, { protocol: IpProtocol.Icmp, sourcePort: 0, destinationPort: 0, icmpType: 8, icmpCode: 0, direction: FlowDirection.Egress }),
      enrichedFlow({ packets: 5, octets: 640, layer2Octets: 710, tcpFlags: 0 }, { ipVersion: 6, sourceAddress: 'fd00:10:244:1::17', destinationAddress: 'fd00:10:244:2::21', protocol: IpProtocol.Udp, sourcePort: 5353, destinationPort: 53, vlanId: 100 }),
    ];
    sink.export(flows);
    await sink.flush();
    // More batches: the sequence numbers must keep following.
    for (let batch = 0; batch < 5; batch++) sink.export(Array.from({ length: 20 }, (_, index) => enrichedFlow({ packets: 100 + batch * 20 + index })));
    await sink.flush();
    const result = await nfcapd.stop();

    expect(result.sequenceFailures).toBe(0);
    expect(result.log).toMatch(/Sequence Errors: 0, Bad Packets: 0/);
    expect(result.records).toHaveLength(103);
    const common = { type: 'FLOW', first: '2026-01-01T00:00:00.123', last: '2026-01-01T00:00:02.468', ip4_router: '127.0.0.1' };
    const [tcp, icmp, udp6, ...batches] = result.records;
    expect(tcp).toMatchObject({
      ...common,
      in_packets: 12,
      in_bytes: 4321,
      proto: 6,
      tcp_flags: '...AP.SF',
      src_port: 43_512,
      dst_port: 5432,
      src4_addr: '10.244.1.17',
      dst4_addr: '10.244.2.33',
      input_snmp: 17,
      output_snmp: 0,
      direction: 0,
      src_vlan: 0,
    });
    expect(icmp).toMatchObject({ ...common, in_packets: 3, in_bytes: 252, proto: 1, icmp_type: 8, icmp_code: 0, input_snmp: 0, output_snmp: 17, direction: 1 });
    expect(udp6).toMatchObject({
      ...common,
      in_packets: 5,
      in_bytes: 640,
      proto: 17,
      src_port: 5353,
      dst_port: 53,
      src6_addr: 'fd00:10:244:1::17',
      dst6_addr: 'fd00:10:244:2::21',
      src_vlan: 100,
    });
    expect(batches.map((record) => record.in_packets)).toEqual(Array.from({ length: 100 }, (_, index) => 100 + index));
  });
});

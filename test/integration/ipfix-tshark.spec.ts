import { createSocket } from 'node:dgram';
import { Test, type TestingModule } from '@nestjs/testing';
import { ConfigModule } from '../../src/adapters/config/config.module.js';
import { exporterRegistry } from '../../src/adapters/ipfix/information-elements.js';
import { FlowTemplates, type FlowExportRow } from '../../src/adapters/ipfix/flow-templates.js';
import { IpfixExportModule } from '../../src/adapters/ipfix/ipfix-export.module.js';
import { MessagePacker } from '../../src/adapters/ipfix/ipfix-message.packer.js';
import { FlowSinkPort } from '../../src/application/ports/flow-sink.port.js';
import { FlowDirection, IpProtocol } from '../../src/domain/flow/flow-key.js';
import { enrichedFlow, FRONTEND_CONTEXT } from '../support/flow-fixtures.js';
import { freeUdpPort, startCollector, type CollectorHarness } from '../support/ipfix-collector.harness.js';
import { cflowRecords, startTshark } from '../support/tshark.js';
import { testConfig } from '../support/test-config.js';

const DOMAIN = 7;
const asHex = (text: string) => [...Buffer.from(text)].map((octet) => octet.toString(16).padStart(2, '0')).join(':');

describe('IPFIX export dissected by tshark 4.0', () => {
  let module: TestingModule | undefined;
  let collector: CollectorHarness | undefined;
  afterEach(async () => {
    await module?.close();
    await collector?.stop();
    module = undefined;
    collector = undefined;
  });

  it('decodes every flow field, names our elements from RFC 5610 records, and sees no sequence problem', async () => {
    const port = await freeUdpPort();
    collector = await startCollector(port);
    const capture = await startTshark(port);
    const config = testConfig({ IPFIX_COLLECTOR_PORT: String(port), IPFIX_OBSERVATION_DOMAIN_ID: String(DOMAIN), NODE_NAME: 'node-a' });
    module = await Test.createTestingModule({ imports: [ConfigModule.forRoot(config), IpfixExportModule] }).compile();
    await module.init();
    const sink = module.get(FlowSinkPort);
    sink.export([
      enrichedFlow(),
      enrichedFlow({ packets: 3, octets: 252, layer2Octets: 294, tcpFlags: 0 }, { protocol: IpProtocol.Icmp, sourcePort: 0, destinationPort: 0, icmpType: 8, icmpCode: 0, direction: FlowDirection.Egress }),
      enrichedFlow({ packets: 5, octets: 640, layer2Octets: 710, tcpFlags: 0 }, { ipVersion: 6, sourceAddress: 'fd00:10:244:1::17', destinationAddress: 'fd00:10:244:2::21', protocol: IpProtocol.Udp, sourcePort: 5353, destinationPort: 53 }),
    ]);
    for (let batch = 0; batch < 3; batch++) sink.export(Array.from({ length: 10 }, (_, index) => enrichedFlow({ packets: 100 + batch * 10 + index })));
    await sink.flush();
    const result = await capture.stop();

    expect(result.expert).not.toMatch(/Unexpected flow sequence|Malformed/);
    const records = cflowRecords(result.packets);
    const typeRecords = records.filter((record) => record.domain === DOMAIN + 1);
    expect(typeRecords.map((record) => record.fields['cflow.information_element_name'])).toEqual(exporterRegistry(32473).elements.filter((element) => element.enterpriseId !== 0).map((element) => element.name));
    const flows = records.filter((record) => record.domain === DOMAIN);
    expect(flows).toHaveLength(33);
    const [tcp, icmp, udp6, ...batches] = flows.map((record) => record.fields);
    expect(tcp).toMatchObject({
      'cflow.srcaddr': '10.244.1.17',
      'cflow.dstaddr': '10.244.2.33',
      'cflow.srcport': '43512',
      'cflow.dstport': '5432',
      'cflow.protocol': '6',
      'cflow.octets': '4321',
      'cflow.layer2_octet_delta_count': '4489',
      'cflow.packets': '12',
      'cflow.timedelta_tree': { 'cflow.abstimestart': 'Jan  1, 2026 00:00:00.123000000 UTC', 'cflow.abstimeend': 'Jan  1, 2026 00:00:02.468000000 UTC' },
      'cflow.tcpflags': '0x001b',
      'cflow.direction': '0',
      'cflow.inputint': '17',
      'cflow.if_name': 'veth3a9c1f2e',
      'cflow.flow_end_reason': '3',
      'cflow.exporter_addr': '127.0.0.1',
    });
    // tshark shows enterprise values as hex, in template order: observer node first, then the source pod.
    expect((tcp['cflow.enterprise_private_entry'] as string[]).slice(0, 2)).toEqual([asHex('node-a'), asHex(FRONTEND_CONTEXT.pod)]);
    expect(icmp).toMatchObject({ 'cflow.protocol': '1', 'cflow.icmp_type_code_ipv4': '0x0800', 'cflow.direction': '1', 'cflow.outputint': '17', 'cflow.packets': '3' });
    expect(udp6).toMatchObject({ 'cflow.srcaddrv6': 'fd00:10:244:1::17', 'cflow.dstaddrv6': 'fd00:10:244:2::21', 'cflow.srcport': '5353', 'cflow.dstport': '53', 'cflow.octets': '640' });
    expect(batches.map((fields) => Number(fields['cflow.packets']))).toEqual(Array.from({ length: 30 }, (_, index) => 100 + index));
    // Sequence numbers count the data records before each message, per domain.
    const firstOfMessage = new Map<number, number>();
    flows.forEach((record, index) => firstOfMessage.has(record.sequence) || firstOfMessage.set(record.sequence, index));
    for (const [sequence, index] of firstOfMessage) expect(sequence).toBe(index);
  });

  it('flags a sequence gap (control: the check above can fail)', async () => {
    const port = await freeUdpPort();
    const capture = await startTshark(port);
    const templates = new FlowTemplates(exporterRegistry(32473));
    const packer = new MessagePacker<FlowExportRow>({ maxMessageSize: 1400, observationDomainId: DOMAIN });
    const exporter = { address: '127.0.0.1', observerNodeName: 'node-a' };
    const socket = createSocket('udp4');
    for (const sequence of [0, 5]) {
      packer.begin(1_767_225_700);
      packer.addRecord(templates.templateFor(4, 0, 4), { flow: enrichedFlow(), exporter }, true);
      const [message] = packer.finish();
      message.buffer.writeUInt32BE(sequence, 8);
      await new Promise<void>((resolve) => socket.send(message.buffer, port, '127.0.0.1', () => resolve()));
    }
    socket.close();
    const result = await capture.stop();
    expect(result.expert).toMatch(/Unexpected flow sequence/);
  });
});

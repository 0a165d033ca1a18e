import { FlowDirection, IpProtocol } from '../../src/domain/flow/flow-key.js';
import { FlowEndReason, type EnrichedFlow } from '../../src/domain/flow/flow-record.js';
import { EndpointContext } from '../../src/domain/kubernetes/endpoint-context.js';
import { exporterRegistry } from '../../src/adapters/ipfix/information-elements.js';
import { FlowTemplates, type ExporterIdentity, type FlowExportRow, type IpVersion } from '../../src/adapters/ipfix/flow-templates.js';
import { dataRecordEncodingLength, encodeDataRecord, templateRecordEncodingLength } from '../../src/adapters/ipfix/ipfix-message.encoder.js';
import { decodeDataRecords, ianaResolver, IpfixDecoder, type CollectedRecord } from '../../src/adapters/ipfix/ipfix-message.decoder.js';
import { MessagePacker, type PackedMessage } from '../../src/adapters/ipfix/ipfix-message.packer.js';
import { enrichedFlow, FLOW_START_MS } from '../support/flow-fixtures.js';
import { expectRoundTrip, hex } from './round-trip.helper.js';

const registry = exporterRegistry(32473);
const templates = new FlowTemplates(registry);
const EXPORT_TIME = 1_767_225_700;

const exporters = new Map<string, ExporterIdentity>();
function row(flow: EnrichedFlow, address = '192.0.2.10'): FlowExportRow {
  if (!exporters.has(address)) exporters.set(address, Object.freeze({ address, observerNodeName: 'node-a' }));
  return { flow, exporter: exporters.get(address)! };
}

function templateOf(flow: EnrichedFlow, exporterIpVersion: IpVersion = 4) {
  return templates.templateFor(flow.flow.key.ipVersion, flow.flow.key.direction, exporterIpVersion);
}

/** What the decoder must return for a flow: every field by its registry name. */
function expectedFields(flow: EnrichedFlow, exporterAddress = '192.0.2.10') {
  const { key } = flow.flow;
  const v6 = key.ipVersion === 6;
  const context = (prefix: string, end: EndpointContext | undefined) => ({
    [`${prefix}PodName`]: end?.pod ?? '',
    [`${prefix}PodNamespace`]: end?.namespace ?? '',
    [`${prefix}NodeName`]: end?.node ?? '',
    [`${prefix}ContainerName`]: end?.container ?? '',
    [`${prefix}ServiceName`]: end?.serviceName ?? '',
    [`${prefix}ServiceNamespace`]: end?.serviceNamespace ?? '',
    [`${prefix}ServicePortName`]: end?.servicePortName ?? '',
    [`${prefix}WorkloadKind`]: end?.workloadKind ?? '',
    [`${prefix}WorkloadName`]: end?.workloadName ?? '',
  });
  return {
    [v6 ? 'sourceIPv6Address' : 'sourceIPv4Address']: key.sourceAddress,
    [v6 ? 'destinationIPv6Address' : 'destinationIPv4Address']: key.destinationAddress,
    sourceTransportPort: key.sourcePort,
    destinationTransportPort: key.destinationPort,
    protocolIdentifier: key.protocol,
    octetDeltaCount: flow.flow.octets,
    layer2OctetDeltaCount: flow.flow.layer2Octets,
    packetDeltaCount: flow.flow.packets,
    flowStartMilliseconds: flow.flow.firstMs,
    flowEndMilliseconds: flow.flow.lastMs,
    tcpControlBits: flow.flow.tcpFlags,
    [v6 ? 'icmpTypeCodeIPv6' : 'icmpTypeCodeIPv4']: key.icmpType * 256 + key.icmpCode,
    vlanId: key.vlanId,
    flowDirection: key.direction,
    [key.direction === FlowDirection.Ingress ? 'ingressInterface' : 'egressInterface']: key.interfaceIndex,
    interfaceName: flow.flow.interfaceName,
    flowEndReason: flow.flow.endReason,
    [exporterAddress.includes(':') ? 'exporterIPv6Address' : 'exporterIPv4Address']: exporterAddress,
    observerNodeName: 'node-a',
    ...context('source', flow.source),
    ...context('destination', flow.destination),
  };
}

function flowCodec(flow: EnrichedFlow, exporterIpVersion: IpVersion = 4) {
  const template = templateOf(flow, exporterIpVersion);
  return {
    encodingLength: (value: FlowExportRow) => dataRecordEncodingLength(template, value),
    encode: (value: FlowExportRow, buf: Buffer, offset: number) => encodeDataRecord(template, value, buf, offset, buf.length),
    decode: (buf: Buffer, start: number, end: number) => decodeDataRecords(template.definition, ianaResolver(registry), buf, start, end)[0],
  };
}

const ICMP_ECHO = enrichedFlow(
  { packets: 3, octets: 252, layer2Octets: 294, tcpFlags: 0, endReason: FlowEndReason.IdleTimeout },
  { protocol: IpProtocol.Icmp, sourcePort: 0, destinationPort: 0, icmpType: 8, icmpCode: 0 },
);
const ICMP_WITHOUT_CONTEXT: EnrichedFlow = { ...ICMP_ECHO, source: undefined, destination: undefined };
const IPV6_EGRESS = enrichedFlow(
  { packets: 1, octets: 104, layer2Octets: 118, tcpFlags: 0, endReason: FlowEndReason.ActiveTimeout },
  {
    ipVersion: 6,
    sourceAddress: 'fd00:10:244:1::17',
    destinationAddress: 'fd00:10:244:2::21',
    protocol: IpProtocol.Icmpv6,
    sourcePort: 0,
    destinationPort: 0,
    icmpType: 128,
    icmpCode: 0,
    direction: FlowDirection.Egress,
    interfaceIndex: 5,
    vlanId: 100,
  },
);

describe('IPFIX flow templates', () => {
  it('has one template per family × direction × exporter family, with the agreed fields', () => {
    const v4Ingress = templates.templateFor(4, FlowDirection.Ingress, 4);
    expect(v4Ingress.definition.templateId).toBe(256);
    expect(v4Ingress.fields.map((field) => field.element.name)).toEqual([
      'sourceIPv4Address', 'destinationIPv4Address', 'sourceTransportPort', 'destinationTransportPort', 'protocolIdentifier',
      'octetDeltaCount', 'layer2OctetDeltaCount', 'packetDeltaCount', 'flowStartMilliseconds', 'flowEndMilliseconds',
      'tcpControlBits', 'icmpTypeCodeIPv4', 'vlanId', 'flowDirection', 'ingressInterface', 'interfaceName', 'flowEndReason',
      'exporterIPv4Address', 'observerNodeName',
      'sourcePodName', 'sourcePodNamespace', 'sourceNodeName', 'sourceContainerName', 'sourceServiceName', 'sourceServiceNamespace',
      'sourceServicePortName', 'sourceWorkloadKind', 'sourceWorkloadName',
      'destinationPodName', 'destinationPodNamespace', 'destinationNodeName', 'destinationContainerName', 'destinationServiceName',
      'destinationServiceNamespace', 'destinationServicePortName', 'destinationWorkloadKind', 'destinationWorkloadName',
    ]);
    const v6Egress = templates.templateFor(6, FlowDirection.Egress, 6).fields.map((field) => field.element.name);
    expect(v6Egress).toEqual(expect.arrayContaining(['sourceIPv6Address', 'icmpTypeCodeIPv6', 'egressInterface', 'exporterIPv6Address']));
    expect(v6Egress).not.toEqual(expect.arrayContaining(['ingressInterface']));
    const ids = [4, 6].flatMap((exporter) => templates.forExporter(exporter as IpVersion).map((template) => template.definition.templateId));
    expect(new Set(ids).size).toBe(8);
    expect(templates.forExporter(4).every((template) => template.fields.some((field) => field.element.name === 'exporterIPv4Address'))).toBe(true);
  });

  it.each([
    ['IPv4 TCP ingress, both ends known', enrichedFlow(), 4],
    ['IPv4 ICMP without context', ICMP_WITHOUT_CONTEXT, 4],
    ['IPv6 ICMPv6 egress, IPv6 exporter', IPV6_EGRESS, 6],
    ['IPv4 UDP egress, large counters', enrichedFlow({ octets: 2 ** 52, layer2Octets: 2 ** 52 + 14, packets: 2 ** 40 }, { protocol: IpProtocol.Udp, direction: FlowDirection.Egress }), 4],
  ] as const)('round-trips a full record: %s', (_name, flow, exporterIpVersion) => {
    const exporter = exporterIpVersion === 6 ? 'fd00::1' : '192.0.2.10';
    expectRoundTrip(flowCodec(flow, exporterIpVersion), row(flow, exporter), expectedFields(flow, exporter));
  });

  it('encodes an ICMP record with type × 256 + code (golden bytes)', () => {
    const bytes = expectRoundTrip(flowCodec(ICMP_WITHOUT_CONTEXT), row(ICMP_WITHOUT_CONTEXT), expectedFields(ICMP_WITHOUT_CONTEXT));
    expect(FLOW_START_MS).toBe(0x19b76daa87b);
    expect(bytes).toEqual(
      hex(`
        0af40111 0af40221          | source, destination 10.244.1.17 → 10.244.2.33
        0000 0000 01               | ports 0, protocol ICMP
        00000000000000fc           | octetDeltaCount 252
        0000000000000126           | layer2OctetDeltaCount 294
        0000000000000003           | packetDeltaCount 3
        0000019b76daa87b           | flowStartMilliseconds
        0000019b76dab1a4           | flowEndMilliseconds (+2345)
        0000 0800 0000 00          | tcpControlBits 0, icmpTypeCodeIPv4 echo request 8/0, vlanId 0, flowDirection ingress
        00000011                   | ingressInterface 17
        0c 766574683361396331663265 | interfaceName "veth3a9c1f2e"
        01 c000020a                | flowEndReason idle timeout, exporter 192.0.2.10
        06 6e6f64652d61            | observerNodeName "node-a"
        000000000000000000 000000000000000000 | 18 unknown context strings
      `),
    );
  });

  it('encodes an IPv6 ICMPv6 egress record (golden bytes)', () => {
    const noContext: EnrichedFlow = { ...IPV6_EGRESS, source: undefined, destination: new EndpointContext({ pod: 'db-0', workloadKind: 'StatefulSet' }) };
    const bytes = expectRoundTrip(flowCodec(noContext, 6), row(noContext, 'fd00::1'), expectedFields(noContext, 'fd00::1'));
    expect(bytes.subarray(0, 37)).toEqual(
      hex(`
        fd000010024400010000000000000017 | source fd00:10:244:1::17
        fd000010024400020000000000000021 | destination fd00:10:244:2::21
        0000 0000 3a                     | ports 0, protocol ICMPv6 (58)
      `),
    );
    const afterCounters = 37 + 5 * 8;
    expect(bytes.subarray(afterCounters, afterCounters + 11)).toEqual(hex('0000 8000 0064 01 00000005'));
    const exporterOffset = afterCounters + 11 + 13 + 1;
    expect(bytes.subarray(exporterOffset, exporterOffset + 16 + 7)).toEqual(hex('fd000000000000000000000000000001 06 6e6f64652d61'));
    // destination context: pod "db-0", then namespace..container, services empty, kind "StatefulSet"
    const destinationOffset = exporterOffset + 16 + 7 + 9;
    expect(bytes.subarray(destinationOffset, destinationOffset + 5 + 6)).toEqual(hex('04 64622d30 00 00 00 00 00 00'));
  });
});

describe('MessagePacker', () => {
  const DOMAIN = 7;
  const decode = (messages: PackedMessage[]): CollectedRecord[] => {
    const decoder = new IpfixDecoder(registry);
    const records = messages.flatMap((message) => {
      const result = decoder.decode(message.buffer, '192.0.2.10:4739');
      expect(result.problems).toEqual([]);
      return result.records;
    });
    return records;
  };
  const packFlows = (packer: MessagePacker<FlowExportRow>, flows: EnrichedFlow[], inline: boolean) => {
    packer.begin(EXPORT_TIME);
    for (const flow of flows) packer.addRecord(templateOf(flow), row(flow), inline);
    return packer.finish();
  };

  it('splits records across messages at maxMessageSize, each message complete and in order', () => {
    const flows = Array.from({ length: 10 }, (_, index) => enrichedFlow({ packets: index + 1 }));
    const recordLength = dataRecordEncodingLength(templateOf(flows[0]), row(flows[0]));
    const maxMessageSize = 16 + 4 + 3 * recordLength + recordLength - 1; // room for 3 records, not 4
    const packer = new MessagePacker<FlowExportRow>({ maxMessageSize, observationDomainId: DOMAIN });
    const messages = packFlows(packer, flows, false);
    expect(messages.map((message) => message.dataRecords)).toEqual([3, 3, 3, 1]);
    for (const message of messages) {
      expect(message.buffer.length).toBeLessThanOrEqual(maxMessageSize);
      expect(message.buffer.length).toBe(16 + 4 + message.dataRecords * recordLength);
      expect(message.buffer.subarray(0, 16)).toEqual(
        Buffer.concat([hex('000a'), hex(message.buffer.length.toString(16).padStart(4, '0')), hex('6955b964 00000000 00000007')]),
      );
      expect(message.buffer.readUInt16BE(16)).toBe(256);
    }
    // Templates were not inlined: a collector needs them first.
    const decoder = new IpfixDecoder(registry);
    expect(decoder.decode(messages[0].buffer, 'x').problems.map((problem) => problem.reason)).toEqual(['missing_template']);
    const withTemplates = new MessagePacker<FlowExportRow>({ maxMessageSize: 1400, observationDomainId: DOMAIN });
    withTemplates.begin(EXPORT_TIME);
    withTemplates.addTemplates(templates.forExporter(4).map((template) => template.definition));
    expect(decode([...withTemplates.finish(), ...messages]).map((record) => record.fields.packetDeltaCount)).toEqual(flows.map((flow) => flow.flow.packets));
  });

  it('keeps records of varying length intact and in order over thousands of messages (records moved to the next message, across slabs)', () => {
    const flows = Array.from({ length: 6000 }, (_, index) =>
      ({ ...enrichedFlow({ packets: index + 1 }), source: new EndpointContext({ pod: `pod-${'x'.repeat(index % 300)}`, namespace: 'shop' }) }));
    const packer = new MessagePacker<FlowExportRow>({ maxMessageSize: 1400, observationDomainId: DOMAIN });
    const messages = packFlows(packer, flows, true);
    expect(messages.every((message) => message.buffer.length <= 1400)).toBe(true);
    const records = decode(messages);
    expect(records.map((record) => record.fields.packetDeltaCount)).toEqual(flows.map((flow) => flow.flow.packets));
    expect(records.map((record) => record.fields.sourcePodName)).toEqual(flows.map((flow) => flow.source!.pod));
  });

  it('writes over released messages only: memory is reused after releaseMessages(), never within a batch', () => {
    const packer = new MessagePacker<FlowExportRow>({ maxMessageSize: 1400, observationDomainId: DOMAIN });
    const flows = Array.from({ length: 20 }, (_, index) => enrichedFlow({ packets: index + 1 }));
    packer.releaseMessages(); // as the exporter does before every batch when no send is in flight
    const first = packFlows(packer, flows, true);
    const firstBytes = first.map((message) => Buffer.from(message.buffer));
    const second = packFlows(packer, flows.slice(0, 5), true);
    // Not released: the second batch follows the first in memory.
    expect(first.map((message) => message.buffer)).toEqual(firstBytes);
    expect(second[0].buffer.byteOffset).toBeGreaterThanOrEqual(first.at(-1)!.buffer.byteOffset + first.at(-1)!.buffer.length);

    packer.releaseMessages();
    const third = packFlows(packer, flows.slice(5, 10), true);
    expect(third[0].buffer.buffer).toBe(first[0].buffer.buffer);
    expect(third[0].buffer.byteOffset).toBe(first[0].buffer.byteOffset);
    expect(decode(third).map((record) => record.fields.packetDeltaCount)).toEqual([6, 7, 8, 9, 10]);

    packer.begin(EXPORT_TIME);
    packer.addRecord(templateOf(flows[0]), row(flows[0]), true);
    expect(() => packer.releaseMessages()).toThrow('in the middle of a batch');
  });

  it('inlines each template ahead of its first records in every message that uses it', () => {
    const v4 = enrichedFlow();
    const v6 = IPV6_EGRESS;
    const packer = new MessagePacker<FlowExportRow>({ maxMessageSize: 1400, observationDomainId: DOMAIN });
    const messages = packFlows(packer, [v4, v6, v4, v6, v4, v6], true);
    expect(messages.length).toBeGreaterThan(1);
    const records = decode(messages);
    expect(records.map((record) => record.templateId)).toEqual([256, 262, 256, 262, 256, 262]);
    for (const message of messages) {
      // Each message opens with a template set (id 2) and decodes on a fresh decoder.
      expect(message.buffer.readUInt16BE(16)).toBe(2);
      expect(new IpfixDecoder(registry).decode(message.buffer, 'fresh').problems).toEqual([]);
    }
  });

  it('cuts strings UTF-8-safely when one record cannot fit a message, and counts it', () => {
    const long = new EndpointContext({ pod: 'é'.repeat(1000), namespace: 'ns-' + '€'.repeat(400), workloadName: 'w'.repeat(900), workloadKind: 'Deployment' });
    const flow: EnrichedFlow = { ...enrichedFlow(), source: long, destination: long };
    const packer = new MessagePacker<FlowExportRow>({ maxMessageSize: 512, observationDomainId: DOMAIN });
    const messages = packFlows(packer, [enrichedFlow(), flow, enrichedFlow()], true);
    expect(packer.stats).toEqual({ truncatedRecords: 1, oversizedRecords: 0, unencodableRecords: 0 });
    expect(messages.every((message) => message.buffer.length <= 512)).toBe(true);
    for (const message of messages) expect(message.buffer.length).toBeLessThanOrEqual(512);
    const records = decode(messages);
    expect(records).toHaveLength(3);
    const cut = records[1].fields;
    for (const [name, original] of [['sourcePodName', long.pod], ['destinationPodNamespace', long.namespace], ['sourceWorkloadName', long.workloadName]] as const) {
      const value = cut[name] as string;
      expect(value.length).toBeGreaterThan(0);
      expect(value.length).toBeLessThan(original.length);
      expect(original.startsWith(value)).toBe(true);
      expect(value).not.toContain('\uFFFD');
    }
    // Short strings are untouched; every cut string got the same octet budget (within one character).
    expect(cut.sourceWorkloadKind).toBe('Deployment');
    const octets = ['sourcePodName', 'sourcePodNamespace', 'sourceWorkloadName'].map((name) => Buffer.byteLength(cut[name] as string));
    expect(Math.max(...octets) - Math.min(...octets)).toBeLessThan(3);
    // At 512 octets a template and a realistic record do not fit together: the template travels alone just ahead.
    const templateMessageLength = 16 + 4 + templateRecordEncodingLength(templateOf(flow).definition);
    // Every data message follows a template-only message.
    expect(messages.map((message) => (message.dataRecords === 0 ? message.buffer.length : 'data'))).toEqual([
      templateMessageLength, 'data', templateMessageLength, 'data', templateMessageLength, 'data',
    ]);
    const truncated = messages[3].buffer;
    // The cut is as long as fits: one more octet per cut string would not.
    expect(truncated.length).toBeGreaterThan(512 - 3 * 3);
    expect(truncated.length - 16 - 4).toBe(dataRecordEncodingLength(templateOf(flow), row({ ...flow, source: new EndpointContext({ ...long, pod: cut.sourcePodName as string, namespace: cut.sourcePodNamespace as string, workloadName: cut.sourceWorkloadName as string }), destination: new EndpointContext({ ...long, pod: cut.destinationPodName as string, namespace: cut.destinationPodNamespace as string, workloadName: cut.destinationWorkloadName as string }) })));
  });

  it('counts records that cannot be encoded or cannot fit at all, and packs the rest', () => {
    const packer = new MessagePacker<FlowExportRow>({ maxMessageSize: 1400, observationDomainId: DOMAIN });
    const bad = enrichedFlow({}, { sourceAddress: '10.0.0.300' });
    const messages = packFlows(packer, [enrichedFlow({ packets: 1 }), bad, enrichedFlow({ packets: 2 })], true);
    expect(packer.stats.unencodableRecords).toBe(1);
    expect(decode(messages).map((record) => record.fields.packetDeltaCount)).toEqual([1, 2]);

    const tiny = new MessagePacker<FlowExportRow>({ maxMessageSize: 100, observationDomainId: DOMAIN });
    expect(packFlows(tiny, [enrichedFlow()], false)).toEqual([]);
    expect(tiny.stats.oversizedRecords).toBe(1);
  });
});

import { Test, type TestingModule } from '@nestjs/testing';
import { register } from 'prom-client';
import { ConfigModule } from '../../src/adapters/config/config.module.js';
import { IpfixExportModule } from '../../src/adapters/ipfix/ipfix-export.module.js';
import { IpfixExporterAdapter } from '../../src/adapters/ipfix/ipfix-exporter.adapter.js';
import type { CollectorStatus } from '../../src/adapters/ipfix/collector-session.js';
import { exporterRegistry } from '../../src/adapters/ipfix/information-elements.js';
import { describedElements } from '../../src/adapters/ipfix/type-records.js';
import { FlowSinkPort } from '../../src/application/ports/flow-sink.port.js';
import { FlowDirection, IpProtocol } from '../../src/domain/flow/flow-key.js';
import { DATABASE_CONTEXT, enrichedFlow, FRONTEND_CONTEXT } from '../support/flow-fixtures.js';
import { freeUdpPort, startCollector, type CollectorHarness } from '../support/ipfix-collector.harness.js';
import { eventually } from '../support/test-app.js';
import { testConfig } from '../support/test-config.js';

const DOMAIN = 40;
/** One RFC 5610 type record per enterprise element. */
const TYPE_RECORDS = describedElements(exporterRegistry(32473)).length;

async function startExporter(env: Record<string, string>): Promise<{ module: TestingModule; sink: IpfixExporterAdapter }> {
  const config = testConfig({ IPFIX_OBSERVATION_DOMAIN_ID: String(DOMAIN), NODE_NAME: 'node-a', ...env });
  const module = await Test.createTestingModule({ imports: [ConfigModule.forRoot(config), IpfixExportModule] }).compile();
  await module.init();
  const sink = module.get(FlowSinkPort);
  expect(sink).toBeInstanceOf(IpfixExporterAdapter);
  return { module, sink: sink as IpfixExporterAdapter };
}

function collectorStatus(sink: IpfixExporterAdapter): CollectorStatus {
  return (sink.health().details.collectors as CollectorStatus[])[0];
}

async function metricValue(name: string, collector: string): Promise<number | undefined> {
  const metric = await register.getSingleMetric(name)?.get();
  return metric?.values.find((value) => value.labels.collector === collector)?.value;
}

describe('IpfixExporterAdapter → built-in collector over UDP', () => {
  let collector: CollectorHarness | undefined;
  let module: TestingModule | undefined;

  afterEach(async () => {
    await module?.close();
    await collector?.stop();
    module = undefined;
    collector = undefined;
  });

  it('sends type records (N+1), templates and flows (N) that decode field by field, in sequence', async () => {
    collector = await startCollector();
    const started = await startExporter({ IPFIX_COLLECTOR_PORT: String(collector.port) });
    module = started.module;
    const { sink } = started;
    const tcp = enrichedFlow();
    const icmp6 = enrichedFlow(
      { packets: 1, octets: 104, layer2Octets: 118, tcpFlags: 0 },
      { ipVersion: 6, sourceAddress: 'fd00:10:244:1::17', destinationAddress: 'fd00:10:244:2::21', protocol: IpProtocol.Icmpv6, sourcePort: 0, destinationPort: 0, icmpType: 128, direction: FlowDirection.Egress },
    );
    const unknownEnds = { ...enrichedFlow({ packets: 2 }, { protocol: IpProtocol.Udp }), source: undefined, destination: undefined };
    sink.export([tcp, icmp6, unknownEnds]);
    await sink.flush();
    const flows = await eventually(() => (collector!.inDomain(DOMAIN).length === 3 ? collector!.inDomain(DOMAIN) : undefined), 5000, 'three flow records');

    expect(collector.inDomain(DOMAIN + 1)).toHaveLength(TYPE_RECORDS);
    expect(collector.problems).toEqual([]);
    expect(collector.collector.stats().sequenceErrors).toBe(0);
    const [tcpRecord, icmpRecord, unknownRecord] = flows.map((record) => record.fields);
    expect(tcpRecord).toMatchObject({
      sourceIPv4Address: '10.244.1.17',
      destinationIPv4Address: '10.244.2.33',
      sourceTransportPort: 43_512,
      destinationTransportPort: 5432,
      protocolIdentifier: 6,
      packetDeltaCount: 12,
      octetDeltaCount: 4321,
      layer2OctetDeltaCount: 4321 + 12 * 14,
      flowStartMilliseconds: tcp.flow.firstMs,
      flowEndMilliseconds: tcp.flow.lastMs,
      tcpControlBits: 0x1b,
      flowDirection: 0,
      ingressInterface: 17,
      interfaceName: 'veth3a9c1f2e',
      flowEndReason: 3,
      exporterIPv4Address: '127.0.0.1',
      observerNodeName: 'node-a',
      sourcePodName: FRONTEND_CONTEXT.pod,
      sourceWorkloadKind: 'Deployment',
      destinationPodName: DATABASE_CONTEXT.pod,
      destinationServicePortName: 'tcp-postgresql',
      destinationWorkloadKind: 'StatefulSet',
    });
    expect(icmpRecord).toMatchObject({ sourceIPv6Address: 'fd00:10:244:1::17', icmpTypeCodeIPv6: 128 * 256, egressInterface: 17, flowDirection: 1 });
    expect(unknownRecord).toMatchObject({ protocolIdentifier: 17, sourcePodName: '', destinationWorkloadKind: '', observerNodeName: 'node-a' });
    expect(flows[0].exporter).toMatch(/^127\.0\.0\.1:\d+$/);
    // One socket per collector: every message came from the same source port.
    expect(new Set(collector.records.map((record) => record.exporter)).size).toBe(1);

    await eventually(() => (collectorStatus(sink).state === 'up' ? true : undefined), 5000, 'collector up');
    const status = collectorStatus(sink);
    expect(status).toMatchObject({ collector: `127.0.0.1:${collector.port}`, records: 3, sendErrors: 0, datagramsLost: 0, exporterAddress: '127.0.0.1' });
    expect(status.templatesSent).toBeGreaterThanOrEqual(2);
    expect(sink.health().ready).toBe(true);
    expect(await metricValue('ebpf_netflow_flows_exported_total', status.collector)).toBe(3);
    expect(await metricValue('ebpf_netflow_exporter_connected', status.collector)).toBe(1);
    expect(sink.drops().every((drop) => drop.stage === 'export' && drop.count === 0)).toBe(true);
  });

  it('delivers every record intact when batches follow with sends still in flight and after a flush (message memory is reused once sent)', async () => {
    collector = await startCollector();
    const started = await startExporter({ IPFIX_COLLECTOR_PORT: String(collector.port) });
    module = started.module;
    const { sink } = started;
    const batch = (firstPackets: number) => Array.from({ length: 40 }, (_, index) => enrichedFlow({ packets: firstPackets + index }));
    sink.export(batch(1));
    sink.export(batch(41)); // the first batch's send callbacks have not run yet
    await sink.flush();
    sink.export(batch(81)); // every send completed: written over the first batches' memory
    await sink.flush();
    const flows = await eventually(() => (collector!.inDomain(DOMAIN).length === 120 ? collector!.inDomain(DOMAIN) : undefined), 5000, '120 flow records');
    expect(flows.map((record) => record.fields.packetDeltaCount)).toEqual(Array.from({ length: 120 }, (_, index) => index + 1));
    expect(collector.problems).toEqual([]);
    expect(collector.collector.stats().sequenceErrors).toBe(0);
  });

  it('exports over IPv6 with the exporterIPv6Address templates', async () => {
    collector = await startCollector(0, '::1');
    const started = await startExporter({ IPFIX_COLLECTOR_HOST: '::1', IPFIX_COLLECTOR_PORT: String(collector.port) });
    module = started.module;
    started.sink.export([enrichedFlow(), enrichedFlow({}, { ipVersion: 6, sourceAddress: 'fd00::17', destinationAddress: 'fd00::21', direction: FlowDirection.Egress })]);
    await started.sink.flush();
    const flows = await eventually(() => (collector!.inDomain(DOMAIN).length === 2 ? collector!.inDomain(DOMAIN) : undefined), 5000, 'two flow records');
    expect(flows.map((record) => record.templateId)).toEqual([257, 263]);
    expect(flows.map((record) => record.fields.exporterIPv6Address)).toEqual(['::1', '::1']);
    expect(flows[1].fields).toMatchObject({ sourceIPv6Address: 'fd00::17', egressInterface: 17, sourcePodName: FRONTEND_CONTEXT.pod });
    expect(flows[0].exporter).toMatch(/^\[::1\]:\d+$/);
    expect(collectorStatus(started.sink)).toMatchObject({ collector: `[::1]:${collector.port}`, address: '::1', exporterAddress: '::1' });
  });

  it('re-sends templates every IPFIX_TEMPLATE_REFRESH seconds without data', async () => {
    collector = await startCollector();
    const started = await startExporter({ IPFIX_COLLECTOR_PORT: String(collector.port), IPFIX_TEMPLATE_REFRESH: '1' });
    module = started.module;
    // Each announcement carries every type record (domain N+1) and the 4 flow templates (domain N).
    await eventually(() => (collector!.inDomain(DOMAIN + 1).length >= 3 * TYPE_RECORDS ? true : undefined), 10_000, 'first announcement and two refreshes');
    expect(collector.inDomain(DOMAIN)).toEqual([]);
    expect(collector.collector.stats().templates).toBeGreaterThanOrEqual(3 * 4);
    expect(collector.problems).toEqual([]);
    expect(collector.collector.stats().sequenceErrors).toBe(0);
  });

  it('marks a collector down on ECONNREFUSED, counts what was lost, and recovers with templates at once', async () => {
    const port = await freeUdpPort();
    const started = await startExporter({ IPFIX_COLLECTOR_PORT: String(port) });
    module = started.module;
    const { sink } = started;
    const name = `127.0.0.1:${port}`;
    for (let round = 0; round < 3; round++) sink.export([enrichedFlow({ packets: round + 1 })]);
    await sink.flush();
    await eventually(() => (collectorStatus(sink).state === 'down' ? true : undefined), 5000, 'collector down');
    expect(sink.health()).toMatchObject({ ready: false, reason: 'every IPFIX collector is down' });
    expect(await metricValue('ebpf_netflow_exporter_connected', name)).toBe(0);
    // While down, data is counted lost instead of sent.
    sink.export([enrichedFlow(), enrichedFlow()]);
    const down = collectorStatus(sink);
    expect(down.datagramsLost).toBeGreaterThan(0);
    expect(down.recordsLost.collector_unreachable).toBeGreaterThanOrEqual(2);
    expect(down.lastError).toMatch(/ECONNREFUSED/);
    expect(sink.drops().find((drop) => drop.reason === 'collector_unreachable')!.count).toBe(down.recordsLost.collector_unreachable);

    collector = await startCollector(port);
    await eventually(() => (collectorStatus(sink).state === 'up' ? true : undefined), 10_000, 'collector up again');
    // Templates arrived without any data export: probes and the re-send on recovery.
    await eventually(() => (collector!.collector.stats().templates >= 5 ? true : undefined), 5000, 'templates after recovery');
    expect(await metricValue('ebpf_netflow_exporter_connected', name)).toBe(1);
    sink.export([enrichedFlow({ packets: 77 })]);
    await sink.flush();
    const [record] = await eventually(() => (collector!.inDomain(DOMAIN).length > 0 ? collector!.inDomain(DOMAIN) : undefined), 5000, 'a flow');
    expect(record.fields).toMatchObject({ packetDeltaCount: 77, sourcePodName: FRONTEND_CONTEXT.pod });
    expect(collector.problems).toEqual([]);
    expect(collectorStatus(sink).stateChanges).toBeGreaterThanOrEqual(2);
  });

  it('counts records as lost while the collector host name does not resolve', async () => {
    const started = await startExporter({ IPFIX_COLLECTOR_HOST: 'no-such-collector.invalid', IPFIX_COLLECTOR_PORT: '4739' });
    module = started.module;
    const { sink } = started;
    sink.export([enrichedFlow(), enrichedFlow()]);
    await sink.flush();
    const status = collectorStatus(sink);
    expect(status).toMatchObject({ state: 'down', address: undefined });
    expect(status.dnsFailures).toBeGreaterThanOrEqual(1);
    expect(status.lastError).toMatch(/^DNS/);
    expect(sink.drops().find((drop) => drop.reason === 'collector_unresolved')!.count).toBe(2);
    expect(sink.health().ready).toBe(false);
  });
});

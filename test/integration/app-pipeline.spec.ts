import { EndpointContext } from '../../src/domain/kubernetes/endpoint-context.js';
import { FlowEndReason } from '../../src/domain/flow/flow-record.js';
import { FlowSinkPort } from '../../src/application/ports/flow-sink.port.js';
import { FlowSourcePort } from '../../src/application/ports/flow-source.port.js';
import { MetadataPort } from '../../src/application/ports/metadata.port.js';
import { SystemClockModule } from '../../src/adapters/clock/system-clock.adapter.js';
import { FixedMetadata } from '../fakes/fixed-metadata.fake.js';
import { fakeFlowNumber, flowDelta, flowKey } from '../fakes/flow-deltas.js';
import { InMemoryFlowSource } from '../fakes/in-memory-flow-source.fake.js';
import { portModule } from '../fakes/port-module.js';
import { RecordingFlowSink } from '../fakes/recording-flow-sink.fake.js';
import { eventually, startTestApp, type RunningApp } from '../support/test-app.js';
import { testConfig } from '../support/test-config.js';

const client = new EndpointContext({ pod: 'web-7d9c', namespace: 'shop', node: 'node-a', workloadKind: 'Deployment', workloadName: 'web' });
const server = new EndpointContext({ pod: 'db-0', namespace: 'shop', node: 'node-a', serviceName: 'db', serviceNamespace: 'shop', workloadKind: 'StatefulSet', workloadName: 'db' });

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

describe('the application around fake adapters', () => {
  let source: InMemoryFlowSource;
  let sink: RecordingFlowSink;
  let running: RunningApp;

  async function start(idleTimeoutSeconds: number): Promise<void> {
    source = new InMemoryFlowSource();
    sink = new RecordingFlowSink();
    const metadata = new FixedMetadata(new Map([['10.244.1.10', client], ['10.244.1.20', server]]));
    const config = testConfig({ IPFIX_FLOW_TIMEOUT: String(idleTimeoutSeconds), IPFIX_EXPORT_INTERVAL: '60', FLOW_DRAIN_INTERVAL: '1' });
    running = await startTestApp(config, {
      flowSource: portModule(FlowSourcePort, source),
      metadata: portModule(MetadataPort, metadata),
      flowSink: portModule(FlowSinkPort, sink),
      clock: SystemClockModule,
    });
  }

  afterEach(async () => {
    await running?.close();
  });

  it('drains, expires idle flows and exports them with both ends enriched', async () => {
    await start(1);
    const now = Date.now();
    source.push(
      flowDelta({ packets: 3, firstMs: now, lastMs: now }),
      flowDelta({ key: flowKey({ destinationAddress: '192.0.2.1' }), packets: 1, firstMs: now, lastMs: now }),
    );
    await eventually(() => (sink.exported.length === 2 ? true : undefined), 10_000, 'two idle flows');
    const toServer = sink.exported.find((e) => e.flow.key.destinationAddress === '10.244.1.20')!;
    expect(toServer.flow).toMatchObject({ packets: 3, octets: 300, endReason: FlowEndReason.IdleTimeout });
    expect(toServer.source).toEqual(client);
    expect(toServer.destination).toEqual(server);
    const toOutside = sink.exported.find((e) => e.flow.key.destinationAddress === '192.0.2.1')!;
    expect(toOutside.source).toEqual(client);
    expect(toOutside.destination).toBeUndefined();
    // The table gave both flow numbers back to the source as it released the flows.
    expect([...source.releasedNumbers].sort((x, y) => x - y)).toEqual([fakeFlowNumber(flowKey()), fakeFlowNumber(flowKey({ destinationAddress: '192.0.2.1' }))].sort((x, y) => x - y));

    const metrics = await (await fetch(running.metricsUrl)).text();
    expect(metrics).toContain('ebpf_netflow_flows_processed_total{status="success"} 2');
    expect(metrics).toContain('ebpf_netflow_metadata_enrichment_total{result="enriched"} 3');
    expect(metrics).toContain('ebpf_netflow_metadata_enrichment_total{result="missing"} 1');
    expect(metrics).toContain('ebpf_netflow_flows_released_total{end_reason="idle"} 2');
    expect(metrics).toMatch(/^process_cpu_user_seconds_total /m);
  });

  it('merges a drain handed over in several batches as one: counts summed, malformed deltas counted across batches', async () => {
    await start(60);
    const now = Date.now();
    source.pushBatch(flowDelta({ packets: 2, firstMs: now, lastMs: now }), flowDelta({ packets: 0, firstMs: now, lastMs: now }));
    source.pushBatch(flowDelta({ packets: 5, firstMs: now, lastMs: now + 1 }), flowDelta({ octets: -1, firstMs: now, lastMs: now }));
    await eventually(() => (source.drains > 0 ? true : undefined));
    const status = await getJson(`${running.healthUrl}/status`);
    expect(status.body.pipeline).toMatchObject({ deltasMerged: 2, deltasRejected: 2, sourceEntries: 4 });
    await running.close();
    expect(sink.exported.map((e) => [e.flow.packets, e.flow.lastMs, e.flow.endReason])).toEqual([[7, now + 1, FlowEndReason.ForcedEnd]]);
  });

  it('flushes every flow with a forced end at shutdown', async () => {
    await start(60);
    const now = Date.now();
    source.push(flowDelta({ packets: 4, firstMs: now, lastMs: now }));
    await eventually(() => (source.drains > 0 ? true : undefined));
    await running.close();
    expect(sink.exported.map((e) => [e.flow.packets, e.flow.endReason])).toEqual([[4, FlowEndReason.ForcedEnd]]);
    expect(sink.flushes).toBe(1);
  });

  it('counts malformed deltas, source losses and failed drains, and keeps running', async () => {
    await start(60);
    const now = Date.now();
    source.push(flowDelta({ packets: 0, firstMs: now, lastMs: now }));
    source.reportDrop('map_full', 7);
    await eventually(() => (source.drains >= 1 ? true : undefined));
    source.failNextDrain = new Error('kernel said no');
    const drainsBefore = source.drains;
    await eventually(() => (source.drains >= drainsBefore + 2 ? true : undefined), 10_000, 'drains after a failure');

    const metrics = await (await fetch(running.metricsUrl)).text();
    expect(metrics).toContain('ebpf_netflow_dropped_total{stage="table",reason="malformed_packets"} 1');
    expect(metrics).toContain('ebpf_netflow_dropped_total{stage="source",reason="map_full"} 7');
    expect(metrics).toContain('ebpf_netflow_dropped_total{stage="export",reason="test_loss"} 2');
    expect(metrics).toContain('ebpf_netflow_flows_processed_total{status="failure"} 1');
    expect(metrics).toContain('ebpf_netflow_drain_failures_total 1');
    expect((await fetch(`${running.healthUrl}/health/live`)).status).toBe(200);
  });

  it('serves liveness, readiness and status from the real component states', async () => {
    await start(60);
    await eventually(() => (source.drains > 0 ? true : undefined));
    const live = await getJson(`${running.healthUrl}/health/live`);
    expect(live.status).toBe(200);
    expect(live.body.info.loop.status).toBe('up');

    const ready = await getJson(`${running.healthUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.body.info).sort()).toEqual(['export', 'metadata', 'pipeline', 'source']);

    source.ready = false;
    sink.ready = false;
    const notReady = await getJson(`${running.healthUrl}/health/ready`);
    expect(notReady.status).toBe(503);
    expect(notReady.body.error.source).toMatchObject({ status: 'down', reason: 'test says not ready' });
    expect(notReady.body.error.export).toMatchObject({ status: 'down', reason: 'collector down' });
    expect((await getJson(`${running.healthUrl}/health`)).status).toBe(503);
    expect((await getJson(`${running.healthUrl}/health/live`)).status).toBe(200);

    const status = await getJson(`${running.healthUrl}/status`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      node: 'test-node',
      ready: false,
      pipeline: { tableCapacity: 100_000, sourceCapacity: 1024 },
      metadata: { ready: true, details: { entries: 2 } },
    });
    expect(status.body.pipeline.drains).toBeGreaterThan(0);
    expect((await fetch(`${running.healthUrl}/metrics`)).status).toBe(404);
  });
});

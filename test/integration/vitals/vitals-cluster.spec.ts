import { FakeKubeApiServer } from '../../fakes/fake-kube-api.server.js';
import { FakeLeaseApi } from '../../fakes/fake-lease-api.js';
import { FakeMetricsApi } from '../../fakes/fake-metrics-api.js';
import { loadLabVitalsCluster, vitalsNode, vitalsPod } from '../../fakes/vitals-objects.js';
import { startCollector, type CollectorHarness } from '../../support/ipfix-collector.harness.js';
import { eventually, startTestApp, type RunningApp } from '../../support/test-app.js';
import { getJson, latestVitals, startVitalsApp, vitalsTestConfig, VITALS_DOMAIN } from './vitals-app.helper.js';
import type { CollectedRecord } from '../../../src/adapters/ipfix/ipfix-message.decoder.js';
import { vitalsModule } from '../../../src/adapters/vitals/kubernetes-vitals.module.js';
import { SystemClockModule } from '../../../src/adapters/clock/system-clock.adapter.js';
import { IpfixExportModule } from '../../../src/adapters/ipfix/ipfix-export.module.js';
import { FlowSourcePort } from '../../../src/application/ports/flow-source.port.js';
import { MetadataPort } from '../../../src/application/ports/metadata.port.js';
import { FixedMetadata } from '../../fakes/fixed-metadata.fake.js';
import { InMemoryFlowSource } from '../../fakes/in-memory-flow-source.fake.js';
import { portModule } from '../../fakes/port-module.js';

/** Template ids of records only the leader sends (everything but nodes, 528–535). */
const clusterScoped = (record: CollectedRecord) => record.domain === VITALS_DOMAIN && (record.templateId < 528 || record.templateId >= 536);
const nodeRecords = (record: CollectedRecord) => record.domain === VITALS_DOMAIN && record.templateId >= 528 && record.templateId < 536;

describe('vitals across agents, metrics server changes and bad objects', () => {
  let server: FakeKubeApiServer;
  let metrics: FakeMetricsApi;
  let leases: FakeLeaseApi;
  let collector: CollectorHarness;
  const apps: RunningApp[] = [];

  beforeEach(async () => {
    server = await new FakeKubeApiServer().start();
    metrics = new FakeMetricsApi(server);
    leases = new FakeLeaseApi(server);
    loadLabVitalsCluster(server, metrics);
    server.apply('nodes', vitalsNode({ name: 'lab-node-2', capacity: { cpu: '2', memory: '8Gi' }, allocatable: { cpu: '1900m', memory: '7Gi' } }));
    metrics.setNodeUsage('lab-node-2', '250m', '2Gi');
    collector = await startCollector();
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await collector.stop();
    await server.stop();
  });

  async function agent(identity: string, node: string, env: Record<string, string> = {}): Promise<RunningApp> {
    const app = await startVitalsApp(vitalsTestConfig(collector.port, identity, node, env), server);
    apps.push(app);
    return app;
  }

  function from(node: string): CollectedRecord[] {
    return collector.records.filter((record) => record.fields.observerNodeName === node);
  }

  it('has only the Lease holder export cluster-scoped vitals; each agent its own node; the other takes over after a graceful stop', async () => {
    const first = await agent('agent-a', 'lab-node');
    await eventually(() => (from('lab-node').some(clusterScoped) ? true : undefined), 15_000, 'agent-a to export cluster vitals');
    await agent('agent-b', 'lab-node-2');
    await eventually(() => (from('lab-node-2').filter(nodeRecords).length >= 3 ? true : undefined), 15_000, 'agent-b node records');

    expect(from('lab-node-2').filter(clusterScoped)).toEqual([]);
    expect(new Set(from('lab-node-2').filter(nodeRecords).map((record) => record.fields.kubernetesName))).toEqual(new Set(['lab-node-2']));
    expect(new Set(from('lab-node').filter(nodeRecords).map((record) => record.fields.kubernetesName))).toEqual(new Set(['lab-node']));
    expect(latestVitals(from('lab-node-2')).get('node:/lab-node-2')!.fields).toMatchObject({ cpuCapacityMillicores: 2000, cpuUsageMillicores: 250, memoryUsageBytes: 2 * 1024 ** 3 });

    // Graceful stop (SIGTERM): the Lease is released and agent-b leads at its next try.
    await first.close();
    apps.splice(apps.indexOf(first), 1);
    expect(leases.lease('observability', 'k8s-flow-exporter')!.spec.holderIdentity).toBe('');
    const stoppedAt = collector.records.length;
    await eventually(() => (collector.records.slice(stoppedAt).some((record) => clusterScoped(record) && record.fields.observerNodeName === 'lab-node-2') ? true : undefined), 15_000, 'agent-b to export cluster vitals');
    const second = apps[0];
    const status = await getJson(`${second.healthUrl}/status`);
    expect(status.vitals.leader).toMatchObject({ leading: true, identity: 'agent-b', holder: 'agent-b' });
    // Pods now come from agent-b, with their usage.
    expect(latestVitals(collector.records.slice(stoppedAt)).get('pod:shop/web-7d9c')!.fields).toMatchObject({ observerNodeName: 'lab-node-2', cpuUsageMillicores: 129 });
  });

  it('goes without usage while the metrics server is absent, with usage while it is there, and follows it flapping', async () => {
    metrics.setAvailable(false);
    const app = await agent('agent-a', 'lab-node');
    const usage = (record: CollectedRecord | undefined) => record?.fields.cpuUsageMillicores;
    await eventually(() => (latestVitals(collector.records).has('pod:shop/web-7d9c') ? true : undefined), 15_000, 'pod vitals');
    let latest = latestVitals(collector.records);
    // Templates without usage: pod 512 + limits (2 + 4), node 528.
    expect(latest.get('pod:shop/web-7d9c')!.templateId).toBe(518);
    expect(latest.get('node:/lab-node')!.templateId).toBe(528);
    expect(usage(latest.get('pod:shop/web-7d9c'))).toBeUndefined();
    expect((await getJson(`${app.healthUrl}/status`)).vitals.metricsServer.available).toBe(false);

    metrics.setAvailable(true);
    let mark = collector.records.length;
    await eventually(() => (usage(latestVitals(collector.records.slice(mark)).get('pod:shop/web-7d9c')) === 129 ? true : undefined), 15_000, 'usage to appear');
    latest = latestVitals(collector.records.slice(mark));
    expect(latest.get('node:/lab-node')!.fields.cpuUsageMillicores).toBe(1235);

    metrics.setAvailable(false);
    mark = collector.records.length;
    // The last usage read ages out after VITALS_CACHE_TIMEOUT (3 s); then records go without it again.
    await eventually(() => {
      const recent = latestVitals(collector.records.slice(mark));
      return recent.get('pod:shop/web-7d9c')?.templateId === 518 && recent.get('node:/lab-node')?.templateId === 528 ? true : undefined;
    }, 15_000, 'usage to disappear');

    metrics.setAvailable(true);
    mark = collector.records.length;
    await eventually(() => (usage(latestVitals(collector.records.slice(mark)).get('pod:shop/web-7d9c')) === 129 ? true : undefined), 15_000, 'usage to reappear');
    const status = (await getJson(`${app.healthUrl}/status`)).vitals;
    expect(status.metricsServer).toMatchObject({ available: true, changes: 3 });
    expect(collector.collector.stats().sequenceErrors).toBe(0);
  });

  it('counts and logs malformed or partial objects, and exports the rest', async () => {
    server.apply('pods', vitalsPod({ name: 'bad-quantity', namespace: 'shop', node: 'lab-node', containers: [{ name: 'main', requests: { cpu: 'lots', memory: '1Gi' } }] }));
    server.apply('pods', { metadata: { name: 'no-containers', namespace: 'shop' }, spec: {}, status: { phase: 'Running' } });
    server.apply('deployments', { metadata: { name: 'negative', namespace: 'shop' }, spec: { replicas: -1 }, status: {} });
    server.apply('horizontalpodautoscalers', { metadata: { name: 'no-target', namespace: 'shop' }, spec: { maxReplicas: 3 }, status: { desiredReplicas: 1 } });
    server.apply('jobs', { metadata: { name: 'time-travel', namespace: 'shop' }, status: { startTime: '2026-01-01T02:00:00Z', completionTime: '2026-01-01T01:00:00Z' } });
    server.apply('cronjobs', { metadata: { name: 'no-schedule', namespace: 'shop' }, spec: {} });
    metrics.setPodMetrics({ metadata: { name: 'db-0', namespace: 'shop' }, containers: [{ name: 'db', usage: { cpu: '-5m', memory: '1Mi' } }] });
    const app = await agent('agent-a', 'lab-node');
    await eventually(() => (latestVitals(collector.records).has('hpametric:shop/web#cpu') ? true : undefined), 15_000, 'vitals');
    // A raw malformed watch event as well.
    server.sendRaw('pods', { type: 'ADDED', object: { metadata: { name: 'broken', namespace: 'shop' }, spec: { containers: 'not-a-list' } } });

    const status = await eventually(async () => {
      const vitals = (await getJson(`${app.healthUrl}/status`)).vitals;
      return vitals.rejectedObjects.kubernetes.total === 7 ? vitals : undefined;
    }, 10_000, 'rejections counted');
    expect(status.rejectedObjects.kubernetes.byKind).toMatchObject({ pods: 3, deployments: 1, horizontalpodautoscalers: 1, jobs: 1, cronjobs: 1 });
    expect(status.rejectedObjects.metricsItems).toBeGreaterThanOrEqual(1);
    const latest = latestVitals(collector.records);
    expect([...latest.keys()].filter((key) => /bad-quantity|no-containers|negative|no-target|time-travel|no-schedule|broken/.test(key))).toEqual([]);
    // db-0's malformed metrics: exported without usage rather than with a wrong one.
    await eventually(() => (latestVitals(collector.records).get('pod:shop/db-0')?.templateId === 512 + 4 ? true : undefined), 10_000, 'db-0 without usage');
    expect(latest.get('pod:shop/web-7d9c')!.fields.cpuUsageMillicores).toBe(129);
  });

  it('is off in standalone mode and says so in /status and /vitals', async () => {
    const config = vitalsTestConfig(collector.port, 'agent-a', 'lab-node');
    const flows = {
      flowSource: portModule(FlowSourcePort, new InMemoryFlowSource()),
      metadata: portModule(MetadataPort, new FixedMetadata(new Map())),
      flowSink: IpfixExportModule,
      clock: SystemClockModule,
    };
    const app = await startTestApp(config, flows, vitalsModule(config, 'standalone', { sink: IpfixExportModule, clock: SystemClockModule }));
    apps.push(app);
    expect((await getJson(`${app.healthUrl}/status`)).vitals).toEqual({ enabled: false, reason: 'standalone mode: no Kubernetes API server' });
    expect(await getJson(`${app.healthUrl}/vitals`)).toEqual({ pods: [], nodes: [], workloads: [], jobs: [], hpas: [] });
    expect(leases.counts.get + metrics.counts.discovery).toBe(0);
  });
});

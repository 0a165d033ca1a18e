import { FakeKubeApiServer } from '../../fakes/fake-kube-api.server.js';
import { FakeLeaseApi } from '../../fakes/fake-lease-api.js';
import { FakeMetricsApi } from '../../fakes/fake-metrics-api.js';
import { loadLabVitalsCluster } from '../../fakes/vitals-objects.js';
import { startCollector, type CollectorHarness } from '../../support/ipfix-collector.harness.js';
import { startTshark, type TsharkPacket } from '../../support/tshark.js';
import { eventually, type RunningApp } from '../../support/test-app.js';
import { getJson, latestVitals, startVitalsApp, vitalsTestConfig, VITALS_DOMAIN } from './vitals-app.helper.js';

const ms = (iso: string) => Date.parse(iso);
const Mi = 1024 * 1024;

/** Every record expected from the lab cluster, by (family, namespace/name), with its template id and fields. */
const EXPECTED: Record<string, { templateId: number; fields: Record<string, unknown> }> = {
  'node:/lab-node': {
    templateId: 529,
    fields: {
      kubernetesName: 'lab-node',
      cpuCapacityMillicores: 4000,
      memoryCapacityBytes: 16_265_612 * 1024,
      cpuAllocatableMillicores: 3800,
      memoryAllocatableBytes: 15_114_636 * 1024,
      nodeConditionReady: 'True',
      nodeConditionMemoryPressure: 'False',
      nodeConditionDiskPressure: 'False',
      nodeConditionPIDPressure: 'False',
      // Not reported by this node: empty, not a made-up False.
      nodeConditionNetworkUnavailable: '',
      // 1234567890n = 1234.56789m, rounded up; 7654321Ki.
      cpuUsageMillicores: 1235,
      memoryUsageBytes: 7_654_321 * 1024,
    },
  },
  'pod:shop/web-7d9c': {
    templateId: 512 + 1 + 2 + 4,
    fields: {
      kubernetesNamespace: 'shop',
      kubernetesName: 'web-7d9c',
      podNodeName: 'lab-node',
      podPhase: 'Running',
      podReady: true,
      podRestartCount: 3,
      cpuRequestMillicores: 350,
      memoryRequestBytes: 192 * Mi,
      cpuLimitMillicores: 700,
      memoryLimitBytes: 320 * Mi,
      // 123456789n + 5m = 128.456789m, rounded up once after the exact sum.
      cpuUsageMillicores: 129,
      memoryUsageBytes: 120 * Mi,
    },
  },
  'pod:shop/db-0': {
    // Usage and memory limit; no CPU limit (unbounded), so no cpuLimitMillicores field.
    templateId: 512 + 1 + 4,
    fields: {
      kubernetesNamespace: 'shop',
      kubernetesName: 'db-0',
      podNodeName: 'lab-node',
      podPhase: 'Running',
      podReady: true,
      podRestartCount: 0,
      cpuRequestMillicores: 1000,
      memoryRequestBytes: 1024 * Mi,
      memoryLimitBytes: 2048 * Mi,
      cpuUsageMillicores: 1500,
      memoryUsageBytes: 812 * Mi,
    },
  },
  'pod:shop/web-pending': {
    templateId: 512,
    fields: {
      kubernetesNamespace: 'shop',
      kubernetesName: 'web-pending',
      podNodeName: '',
      podPhase: 'Pending',
      podReady: false,
      podRestartCount: 0,
      cpuRequestMillicores: 250,
      memoryRequestBytes: 128 * Mi,
    },
  },
  'workload:shop/web': {
    templateId: 536,
    fields: { kubernetesKind: 'Deployment', replicasDesired: 3, replicasReady: 2, replicasAvailable: 2, replicasUpdated: 3, workloadHealth: 'degraded' },
  },
  'workload:shop/db': {
    templateId: 536,
    fields: { kubernetesKind: 'StatefulSet', replicasDesired: 1, replicasReady: 1, replicasAvailable: 1, replicasUpdated: 1, workloadHealth: 'healthy' },
  },
  'workload:kube-system/k8s-flow-exporter': {
    templateId: 536,
    fields: { kubernetesKind: 'DaemonSet', replicasDesired: 1, replicasReady: 0, replicasAvailable: 0, replicasUpdated: 1, workloadHealth: 'unavailable' },
  },
  'job:shop/report-28123': {
    templateId: 543,
    fields: {
      jobActive: 0,
      jobSucceeded: 1,
      jobFailed: 0,
      jobStartMilliseconds: ms('2026-01-01T02:00:00Z'),
      jobCompletionMilliseconds: ms('2026-01-01T02:01:30Z'),
      jobDurationMilliseconds: 90_000,
    },
  },
  'job:shop/backfill': {
    // Running: no completion time and no duration rather than zeros.
    templateId: 541,
    fields: { jobActive: 1, jobSucceeded: 0, jobFailed: 2, jobStartMilliseconds: ms('2026-01-01T03:00:00Z') },
  },
  'cronjob:shop/report': {
    templateId: 547,
    fields: {
      cronJobSchedule: '*/30 * * * *',
      cronJobSuspended: false,
      cronJobActiveJobs: 0,
      cronJobLastScheduleMilliseconds: ms('2026-01-01T02:00:00Z'),
      cronJobLastSuccessfulMilliseconds: ms('2026-01-01T02:01:30Z'),
    },
  },
  'hpa:shop/web': {
    templateId: 548,
    fields: { hpaScaleTargetKind: 'Deployment', hpaScaleTargetName: 'web', hpaMinReplicas: 2, hpaMaxReplicas: 10, hpaCurrentReplicas: 3, hpaDesiredReplicas: 4 },
  },
  'hpametric:shop/web#cpu': {
    templateId: 553,
    fields: { hpaMetricSourceType: 'Resource', hpaMetricTargetType: 'Utilization', hpaMetricUnit: 'percent', hpaMetricTargetValue: 70, hpaMetricCurrentValue: 85 },
  },
  'hpametric:shop/web#memory': {
    templateId: 553,
    fields: { hpaMetricSourceType: 'Resource', hpaMetricTargetType: 'AverageValue', hpaMetricUnit: 'bytes', hpaMetricTargetValue: 200 * Mi, hpaMetricCurrentValue: 180 * Mi },
  },
  'hpametric:shop/web#queue_depth': {
    // No current value reported: the template without hpaMetricCurrentValue.
    templateId: 552,
    fields: { hpaMetricSourceType: 'External', hpaMetricTargetType: 'Value', hpaMetricUnit: 'milli', hpaMetricTargetValue: 1500 },
  },
};

describe('vitals from API objects to decoded IPFIX records', () => {
  let server: FakeKubeApiServer;
  let metrics: FakeMetricsApi;
  let collector: CollectorHarness;
  let app: RunningApp | undefined;

  beforeEach(async () => {
    server = await new FakeKubeApiServer().start();
    metrics = new FakeMetricsApi(server);
    new FakeLeaseApi(server);
    loadLabVitalsCluster(server, metrics);
    collector = await startCollector();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await collector.stop();
    await server.stop();
  });

  it('exports every value field by field (built-in collector and tshark), in sequence, with RFC 5610 names', async () => {
    const tshark = await startTshark(collector.port, 'cflow');
    let packets: TsharkPacket[] = [];
    let expert = '';
    try {
      app = await startVitalsApp(vitalsTestConfig(collector.port, 'agent-a', 'lab-node'), server);
      await eventually(() => (Object.keys(EXPECTED).every((key) => latestVitals(collector.records).has(key)) ? true : undefined), 15_000, 'every vitals record');
      await app.close();
      app = undefined;
    } finally {
      ({ packets, expert } = await tshark.stop());
    }

    const latest = latestVitals(collector.records);
    for (const [key, { templateId, fields }] of Object.entries(EXPECTED)) {
      const record = latest.get(key)!;
      expect({ key, templateId: record.templateId }).toEqual({ key, templateId });
      expect({ key, fields: record.fields }).toEqual({ key, fields: expect.objectContaining({ ...fields, observerNodeName: 'lab-node' }) });
      // Absent optional fields are absent, never 0.
      const allowed = new Set([...Object.keys(fields), 'observationTimeMilliseconds', 'observerNodeName', 'kubernetesNamespace', 'kubernetesName', 'hpaMetricName']);
      expect({ key, extra: Object.keys(record.fields).filter((name) => !allowed.has(name)) }).toEqual({ key, extra: [] });
      expect(record.fields.observationTimeMilliseconds).toBeGreaterThan(Date.now() - 60_000);
    }
    // Only the leader's records, and nothing else in the vitals domain.
    expect(new Set(collector.inDomain(VITALS_DOMAIN).map((record) => record.templateId)).size).toBeGreaterThanOrEqual(10);
    expect(collector.collector.stats().sequenceErrors).toBe(0);
    expect(collector.problems).toEqual([]);

    // tshark: the same records in observation domain N+2, no sequence complaint.
    const vitalsSets = packets
      .map((packet) => packet._source.layers.cflow as Record<string, unknown> | undefined)
      .filter((cflow) => cflow !== undefined && Number(cflow['cflow.od_id']) === VITALS_DOMAIN);
    expect(vitalsSets.length).toBeGreaterThan(0);
    const text = JSON.stringify(vitalsSets);
    // Strings of our records, as tshark shows enterprise fields (hex of the UTF-8 bytes, or text).
    for (const value of ['web-7d9c', 'report-28123', '*/30 * * * *', 'degraded']) {
      const hex = Buffer.from(value).toString('hex').replace(/(..)(?!$)/g, '$1:');
      expect(text.includes(value) || text.includes(hex)).toBe(true);
    }
    expect(expert).not.toMatch(/Unexpected flow sequence/);
  });

  it('serves the same snapshot on GET /vitals and a vitals section on /status', async () => {
    app = await startVitalsApp(vitalsTestConfig(collector.port, 'agent-a', 'lab-node'), server);
    const running = app;
    const vitals = await eventually(async () => {
      const body = await getJson(`${running.healthUrl}/vitals`);
      return body.pods.length === 3 && body.pods.some((pod: any) => pod.usage) && body.hpas.length === 1 ? body : undefined;
    }, 15_000, '/vitals with every kind');

    const web = vitals.pods.find((pod: any) => pod.name === 'web-7d9c');
    expect(web).toMatchObject({
      kind: 'Pod',
      namespace: 'shop',
      name: 'web-7d9c',
      node: 'lab-node',
      requests: { cpuMillicores: 350, memoryBytes: 192 * Mi },
      limits: { cpuMillicores: 700, memoryBytes: 320 * Mi },
      usage: { cpuMillicores: 129, memoryBytes: 120 * Mi },
    });
    expect(web.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(web.ageSeconds).toBeLessThanOrEqual(3);
    expect(vitals.pods.find((pod: any) => pod.name === 'web-pending').usage).toBeUndefined();
    expect(vitals.nodes).toEqual([expect.objectContaining({ kind: 'Node', namespace: '', name: 'lab-node', conditions: expect.objectContaining({ Ready: 'True' }) })]);
    expect(vitals.workloads.map((w: any) => [w.kind, w.namespace, w.name, w.health]).sort()).toEqual([
      ['DaemonSet', 'kube-system', 'k8s-flow-exporter', 'unavailable'],
      ['Deployment', 'shop', 'web', 'degraded'],
      ['StatefulSet', 'shop', 'db', 'healthy'],
    ]);
    expect(vitals.jobs.map((j: any) => [j.kind, j.name]).sort()).toEqual([['CronJob', 'report'], ['Job', 'backfill'], ['Job', 'report-28123']]);
    expect(vitals.jobs.find((j: any) => j.name === 'report-28123').durationSeconds).toBe(90);
    expect(vitals.hpas[0]).toMatchObject({ kind: 'HorizontalPodAutoscaler', namespace: 'shop', name: 'web', desiredReplicas: 4 });
    for (const entry of [...vitals.pods, ...vitals.nodes, ...vitals.workloads, ...vitals.jobs, ...vitals.hpas]) {
      expect(Object.keys(entry)).toEqual(expect.arrayContaining(['kind', 'namespace', 'name', 'ageSeconds']));
    }

    const status = await eventually(async () => {
      const body = await getJson(`${running.healthUrl}/status`);
      // 1 node, 3 pods, 3 workloads, 2 jobs, 1 CronJob, 1 HPA and its 3 metrics.
      return body.vitals?.lastExport?.records === 14 ? body.vitals : undefined;
    }, 10_000, 'a full export in /status');
    expect(status).toMatchObject({
      enabled: true,
      leader: { leading: true, identity: 'agent-a', lease: 'observability/k8s-flow-exporter' },
      metricsServer: { available: true },
      counts: { nodes: 1, pods: 3, workloads: 3, jobs: 2, cronJobs: 1, hpas: 1 },
      rejectedObjects: { kubernetes: { total: 0 }, metricsItems: 0 },
    });
    expect(status.lastCollection.count).toBeGreaterThan(0);
  });

  it('keeps each agent to a constant number of metrics requests per collection', async () => {
    app = await startVitalsApp(vitalsTestConfig(collector.port, 'agent-a', 'lab-node'), server);
    await eventually(() => (latestVitals(collector.records).has('pod:shop/web-7d9c') ? true : undefined), 15_000, 'pod vitals');
    const before = { ...metrics.counts };
    // Twenty times more pods: the same requests per collection.
    for (let i = 0; i < 60; i++) metrics.setPodUsage('shop', `extra-${i}`, [{ name: 'main', cpu: '1m', memory: '1Mi' }]);
    await eventually(() => (metrics.counts.nodeReads - before.nodeReads >= 4 ? true : undefined), 10_000, 'four collections');
    const collections = metrics.counts.nodeReads - before.nodeReads;
    expect(Math.abs(metrics.counts.podLists - before.podLists - collections)).toBeLessThanOrEqual(1);
    expect(metrics.counts.nodeLists).toBe(0);
  });
});

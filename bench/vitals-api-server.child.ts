import { FakeKubeApiServer } from '../test/fakes/fake-kube-api.server.js';
import { FakeLeaseApi } from '../test/fakes/fake-lease-api.js';
import { FakeMetricsApi } from '../test/fakes/fake-metrics-api.js';
import { withRealisticBulk } from '../test/fakes/kubernetes-objects.js';
import { cronJob, daemonSet, deployment, hpa, job, statefulSet, vitalsNode, vitalsPod } from '../test/fakes/vitals-objects.js';

/**
 * The API server of the vitals benchmark, in its own process so that served
 * objects do not count in the measured heap: 10,000 pods (~8 KB each, as real
 * pods with managedFields), 500 nodes, 1,000 workloads (~4 KB), 200 Jobs, 50
 * CronJobs, 100 HPAs, metrics.k8s.io for every pod and node, and Leases. Sends
 * { port, podJsonBytes } when ready; answers 'counts' with its request counters.
 */
export const SCALE = { pods: 10_000, nodes: 500, workloads: 1_000, jobs: 200, cronJobs: 50, hpas: 100, namespaces: 20, podBytes: 8_000, workloadBytes: 4_000 };

export interface ServerCounts {
  readonly listWatch: Record<string, number>;
  readonly metrics: FakeMetricsApi['counts'];
  readonly leases: FakeLeaseApi['counts'];
}

function populate(server: FakeKubeApiServer, metrics: FakeMetricsApi): void {
  const namespaceOf = (i: number) => `team-${i % SCALE.namespaces}`;
  for (let n = 0; n < SCALE.nodes; n++) {
    server.apply('nodes', vitalsNode({ name: `node-${n}`, capacity: { cpu: '16', memory: '65843212Ki' }, allocatable: { cpu: '15800m', memory: '64692236Ki' } }));
    metrics.setNodeUsage(`node-${n}`, `${3_000_000_000 + n}n`, `${20_000_000 + n}Ki`);
  }
  const replicas = { desired: 10, ready: 10, available: 10, updated: 10 };
  for (let w = 0; w < SCALE.workloads; w++) {
    const build = w % 10 < 7 ? deployment : w % 10 < 9 ? statefulSet : daemonSet;
    server.apply(build === deployment ? 'deployments' : build === statefulSet ? 'statefulsets' : 'daemonsets', withRealisticBulk(build(`app-${w}`, replicas, namespaceOf(w)), SCALE.workloadBytes));
  }
  for (let i = 0; i < SCALE.pods; i++) {
    const namespace = namespaceOf(i);
    const name = `app-${i % SCALE.workloads}-5d8f-${i}`;
    const pod = vitalsPod({
      name,
      namespace,
      node: `node-${i % SCALE.nodes}`,
      containers: [
        { name: 'app', requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' }, restarts: i % 3 },
        { name: 'proxy', requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
      ],
    });
    server.apply('pods', withRealisticBulk(pod, SCALE.podBytes));
    metrics.setPodUsage(namespace, name, [
      { name: 'app', cpu: `${123_456_789 + i}n`, memory: `${200_000 + i}Ki` },
      { name: 'proxy', cpu: '5123456n', memory: '45000Ki' },
    ]);
  }
  for (let j = 0; j < SCALE.jobs; j++) {
    server.apply('jobs', job({ name: `batch-${j}`, namespace: namespaceOf(j), succeeded: 1, startTime: '2026-01-01T02:00:00Z', completionTime: '2026-01-01T02:01:30Z' }));
  }
  for (let c = 0; c < SCALE.cronJobs; c++) {
    server.apply('cronjobs', cronJob({ name: `cron-${c}`, namespace: namespaceOf(c), schedule: '*/5 * * * *', lastScheduleTime: '2026-01-01T02:00:00Z', lastSuccessfulTime: '2026-01-01T02:01:30Z' }));
  }
  for (let h = 0; h < SCALE.hpas; h++) {
    server.apply(
      'horizontalpodautoscalers',
      hpa({
        name: `app-${h}`,
        namespace: namespaceOf(h),
        target: { kind: 'Deployment', name: `app-${h}` },
        maxReplicas: 20,
        currentReplicas: 10,
        desiredReplicas: 10,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
        currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 55 } } }],
      }),
    );
  }
}

async function main(): Promise<void> {
  const server = new FakeKubeApiServer();
  const metrics = new FakeMetricsApi(server);
  const leases = new FakeLeaseApi(server);
  populate(server, metrics);
  await server.start();
  process.send?.({ port: server.port, podJsonBytes: JSON.stringify(server.objects('pods')[0]).length });
  process.on('message', (message) => {
    if (message !== 'counts') return;
    const listWatch: Record<string, number> = {};
    for (const request of server.requests) listWatch[`${request.verb} ${request.resource ?? 'other'}`] = (listWatch[`${request.verb} ${request.resource ?? 'other'}`] ?? 0) + 1;
    const counts: ServerCounts = { listWatch, metrics: { ...metrics.counts }, leases: { ...leases.counts } };
    process.send?.(counts);
  });
  process.on('disconnect', () => void server.stop().then(() => process.exit(0)));
}

if (require.main === module) void main();

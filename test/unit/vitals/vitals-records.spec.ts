import { toCronJobVitals, toHpaVitals, toJobVitals, toNodeVitals, toPodUsage, toPodVitals, workloadConverter } from '../../../src/adapters/vitals/vitals-records.js';
import { freshVitals, type VitalsSnapshot } from '../../../src/domain/vitals/vitals-snapshot.js';
import { workloadHealth, type WorkloadVitals } from '../../../src/domain/vitals/vitals.js';
import { cronJob, hpa, job, vitalsNode, vitalsPod } from '../../fakes/vitals-objects.js';

function problemOf(conversion: { problem: string } | { record: unknown }): string | undefined {
  return 'problem' in conversion ? conversion.problem : undefined;
}

describe('vitals records from API objects', () => {
  it('sums pod requests exactly and keeps a limit only when every container has one', () => {
    const pod = toPodVitals(
      vitalsPod({
        name: 'p',
        containers: [
          { name: 'a', requests: { cpu: '333333333n', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' }, restarts: 4 },
          { name: 'b', requests: { cpu: '666666667n' }, limits: { memory: '512Mi' } },
        ],
      }),
    );
    expect('record' in pod && pod.record.vitals).toMatchObject({
      requests: { cpuMillicores: 1000n, memoryBytes: 1_073_741_824n },
      cpuLimitMillicores: undefined,
      memoryLimitBytes: 1_610_612_736n,
      restarts: 4,
    });
  });

  it('reads client-node models too: Date timestamps and numeric quantities', () => {
    const converted = toJobVitals({ metadata: { name: 'j', namespace: 'n' }, status: { startTime: new Date('2026-01-01T00:00:00Z'), completionTime: new Date('2026-01-01T00:00:05Z'), succeeded: 1 } });
    expect('record' in converted && converted.record.vitals).toMatchObject({ startMs: Date.parse('2026-01-01T00:00:00Z'), completionMs: Date.parse('2026-01-01T00:00:05Z') });
    const node = toNodeVitals({ metadata: { name: 'n' }, status: { capacity: { cpu: 8, memory: '32Gi' }, allocatable: { cpu: '7500m', memory: '30Gi' } } });
    expect('record' in node && node.record.vitals).toMatchObject({ capacity: { cpuMillicores: 8000n }, conditions: { Ready: '' } });
  });

  it.each([
    ['a pod without containers', toPodVitals({ metadata: { name: 'p', namespace: 'n' }, spec: {} }), 'no spec.containers'],
    ['a bad CPU request', toPodVitals(vitalsPod({ name: 'p', containers: [{ name: 'a', requests: { cpu: '1 core' } }] })), 'bad quantity in spec.containers[0].resources.requests.cpu'],
    ['a negative restart count', toPodVitals({ ...vitalsPod({ name: 'p', containers: [{ name: 'a' }] }), status: { containerStatuses: [{ restartCount: -1 }] } }), 'bad status.containerStatuses[0].restartCount'],
    ['a node without allocatable', toNodeVitals({ metadata: { name: 'n' }, status: { capacity: { cpu: '1', memory: '1Gi' } } }), 'missing status.allocatable.cpu or .memory'],
    ['a node condition with a made-up status', toNodeVitals({ ...vitalsNode({ name: 'n', capacity: { cpu: '1', memory: '1Gi' }, allocatable: { cpu: '1', memory: '1Gi' } }), status: { capacity: { cpu: '1', memory: '1Gi' }, allocatable: { cpu: '1', memory: '1Gi' }, conditions: [{ type: 'Ready', status: 'Yes' }] } }), 'bad status of condition Ready'],
    ['a fractional replica count', workloadConverter('Deployment')({ metadata: { name: 'd', namespace: 'n' }, spec: { replicas: 1.5 } }), 'bad spec.replicas'],
    ['a job completed before it started', toJobVitals(job({ name: 'j', startTime: '2026-01-01T01:00:00Z', completionTime: '2026-01-01T00:00:00Z' })), 'status.completionTime without or before status.startTime'],
    ['a bad job time', toJobVitals(job({ name: 'j', startTime: 'yesterday' })), 'bad time in status.startTime'],
    ['a CronJob without schedule', toCronJobVitals({ metadata: { name: 'c', namespace: 'n' }, spec: {} }), 'missing spec.schedule'],
    ['an HPA metric of unknown type', toHpaVitals(hpa({ name: 'h', target: { kind: 'Deployment', name: 'd' }, maxReplicas: 2, desiredReplicas: 1, metrics: [{ type: 'Magic' }] })), 'bad spec.metrics[0].type'],
    ['an object without a name', toCronJobVitals(cronJob({ name: '', schedule: '* * * * *' })), 'missing metadata.name'],
    ['a PodMetrics item with a negative usage', toPodUsage({ metadata: { name: 'p', namespace: 'n' }, containers: [{ usage: { cpu: '-1m', memory: '1Mi' } }] }), 'bad quantity in containers[0].usage.cpu'],
  ])('rejects %s with a problem, never an exception', (_what, conversion, problem) => {
    expect(problemOf(conversion)).toBe(problem);
  });

  it('defaults what Kubernetes leaves out: replicas 1, counts 0, minReplicas 1', () => {
    const deployment = workloadConverter('Deployment')({ metadata: { name: 'd', namespace: 'n' }, spec: {}, status: {} });
    expect('record' in deployment && deployment.record.vitals).toEqual({ kind: 'Deployment', namespace: 'n', name: 'd', desired: 1, ready: 0, available: 0, updated: 0 });
    const autoscaler = toHpaVitals(hpa({ name: 'h', target: { kind: 'Deployment', name: 'd' }, maxReplicas: 5, desiredReplicas: 2, metrics: [] }));
    expect('record' in autoscaler && autoscaler.record.vitals).toMatchObject({ minReplicas: 1, currentReplicas: 0, metrics: [] });
  });
});

describe('workload health', () => {
  const workload = (desired: number, available: number, updated: number): WorkloadVitals => ({ kind: 'Deployment', namespace: 'n', name: 'w', desired, ready: available, available, updated });
  it.each([
    [0, 0, 0, 'healthy'],
    [3, 3, 3, 'healthy'],
    [3, 0, 3, 'unavailable'],
    [3, 2, 3, 'degraded'],
    [3, 3, 1, 'degraded'],
  ] as const)('desired %d, available %d, updated %d is %s', (desired, available, updated, health) => {
    expect(workloadHealth(workload(desired, available, updated))).toBe(health);
  });
});

describe('fresh vitals', () => {
  it('leaves out values read longer ago than the cache timeout, and stale usage alone', () => {
    const amounts = { cpuMillicores: 1n, memoryBytes: 1n };
    const pod = (name: string) => ({ namespace: 'n', name, node: '', phase: 'Running', ready: true, restarts: 0, requests: amounts, cpuLimitMillicores: undefined, memoryLimitBytes: undefined });
    const snapshot: VitalsSnapshot = {
      nodes: [],
      pods: [
        { object: { value: pod('fresh'), readAtMs: 9_000 }, usage: { value: amounts, readAtMs: 5_000 } },
        { object: { value: pod('stale'), readAtMs: 4_999 }, usage: undefined },
      ],
      workloads: [],
      jobs: [],
      cronJobs: [],
      hpas: [],
    };
    const fresh = freshVitals(snapshot, 10_000, 5_000);
    expect(fresh.pods.map((entry) => [entry.object.value.name, entry.usage?.readAtMs])).toEqual([['fresh', 5_000]]);
    expect(freshVitals(snapshot, 10_001, 5_000).pods.map((entry) => [entry.object.value.name, entry.usage])).toEqual([['fresh', undefined]]);
  });
});

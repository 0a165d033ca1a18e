import type { FakeKubeApiServer, KubeObject } from './fake-kube-api.server.js';
import type { ContainerUsage, FakeMetricsApi } from './fake-metrics-api.js';

/**
 * Builders of the API objects vitals read (as the API server serves them), and a
 * small lab cluster of them for tests and the demo: a node, pods, a Deployment,
 * a StatefulSet, a DaemonSet, a Job, a CronJob and an HPA, with metrics.k8s.io
 * usage. Timestamps are fixed so expected values can be written down.
 */

export interface ContainerResources {
  readonly name: string;
  readonly requests?: { cpu?: string; memory?: string };
  readonly limits?: { cpu?: string; memory?: string };
  readonly restarts?: number;
}

export interface VitalsPodSpec {
  readonly name: string;
  readonly namespace?: string;
  readonly node?: string;
  readonly phase?: string;
  readonly ready?: boolean;
  readonly containers: readonly ContainerResources[];
}

export function vitalsPod(spec: VitalsPodSpec): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: spec.name, namespace: spec.namespace ?? 'default', uid: `uid-${spec.name}` },
    spec: {
      nodeName: spec.node,
      containers: spec.containers.map(({ name, requests, limits }) => ({ name, image: `registry.example/${name}:1`, resources: { requests, limits } })),
    },
    status: {
      phase: spec.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: spec.ready === false ? 'False' : 'True' }],
      containerStatuses: spec.containers.map(({ name, restarts }) => ({ name, ready: spec.ready !== false, restartCount: restarts ?? 0 })),
    },
  };
}

export interface VitalsNodeSpec {
  readonly name: string;
  readonly capacity: { cpu: string; memory: string };
  readonly allocatable: { cpu: string; memory: string };
  readonly conditions?: Readonly<Record<string, 'True' | 'False' | 'Unknown'>>;
}

export function vitalsNode(spec: VitalsNodeSpec): KubeObject {
  const conditions = spec.conditions ?? { Ready: 'True', MemoryPressure: 'False', DiskPressure: 'False', PIDPressure: 'False' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: spec.name, uid: `uid-${spec.name}` },
    status: {
      capacity: { ...spec.capacity, pods: '110', 'ephemeral-storage': '101430960Ki' },
      allocatable: { ...spec.allocatable, pods: '110' },
      conditions: Object.entries(conditions).map(([type, status]) => ({ type, status, lastTransitionTime: '2026-01-01T00:00:00Z' })),
      addresses: [{ type: 'InternalIP', address: '10.0.0.10' }],
    },
  };
}

export interface ReplicaCounts {
  readonly desired: number;
  readonly ready: number;
  readonly available: number;
  readonly updated: number;
}

export function deployment(name: string, replicas: ReplicaCounts, namespace = 'default'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: { replicas: replicas.desired, selector: { matchLabels: { app: name } } },
    status: { replicas: replicas.desired, readyReplicas: replicas.ready, availableReplicas: replicas.available, updatedReplicas: replicas.updated },
  };
}

export function statefulSet(name: string, replicas: ReplicaCounts, namespace = 'default'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace },
    spec: { replicas: replicas.desired, serviceName: name },
    status: { replicas: replicas.desired, readyReplicas: replicas.ready, availableReplicas: replicas.available, updatedReplicas: replicas.updated },
  };
}

export function daemonSet(name: string, replicas: ReplicaCounts, namespace = 'kube-system'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace },
    spec: { selector: { matchLabels: { app: name } } },
    status: {
      desiredNumberScheduled: replicas.desired,
      numberReady: replicas.ready,
      numberAvailable: replicas.available,
      updatedNumberScheduled: replicas.updated,
      currentNumberScheduled: replicas.desired,
    },
  };
}

export interface JobSpec {
  readonly name: string;
  readonly namespace?: string;
  readonly active?: number;
  readonly succeeded?: number;
  readonly failed?: number;
  readonly startTime?: string;
  readonly completionTime?: string;
}

export function job(spec: JobSpec): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: spec.name, namespace: spec.namespace ?? 'default' },
    spec: { completions: 1, template: { spec: { containers: [{ name: 'main', image: 'busybox' }] } } },
    status: { active: spec.active, succeeded: spec.succeeded, failed: spec.failed, startTime: spec.startTime, completionTime: spec.completionTime },
  };
}

export interface CronJobSpec {
  readonly name: string;
  readonly namespace?: string;
  readonly schedule: string;
  readonly suspend?: boolean;
  readonly lastScheduleTime?: string;
  readonly lastSuccessfulTime?: string;
  readonly activeJobs?: readonly string[];
}

export function cronJob(spec: CronJobSpec): KubeObject {
  const namespace = spec.namespace ?? 'default';
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: spec.name, namespace },
    spec: { schedule: spec.schedule, suspend: spec.suspend, jobTemplate: { spec: {} } },
    status: {
      lastScheduleTime: spec.lastScheduleTime,
      lastSuccessfulTime: spec.lastSuccessfulTime,
      active: spec.activeJobs?.map((name) => ({ kind: 'Job', name, namespace, apiVersion: 'batch/v1' })),
    },
  };
}

export interface HpaSpec {
  readonly name: string;
  readonly namespace?: string;
  readonly target: { kind: string; name: string };
  readonly minReplicas?: number;
  readonly maxReplicas: number;
  readonly currentReplicas?: number;
  readonly desiredReplicas: number;
  /** autoscaling/v2 spec.metrics entries. */
  readonly metrics: readonly object[];
  /** autoscaling/v2 status.currentMetrics entries. */
  readonly currentMetrics?: readonly object[];
}

export function hpa(spec: HpaSpec): KubeObject {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: spec.name, namespace: spec.namespace ?? 'default' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', ...spec.target }, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas, metrics: spec.metrics },
    status: { currentReplicas: spec.currentReplicas, desiredReplicas: spec.desiredReplicas, currentMetrics: spec.currentMetrics },
  };
}

/** What the lab cluster holds, for tests to compare decoded records against. */
export interface LabVitalsCluster {
  readonly node: string;
  readonly podUsage: Readonly<Record<string, readonly ContainerUsage[]>>;
}

/**
 * Loads the lab cluster into a fake API server (and its metrics.k8s.io): node
 * `node`, three shop pods (one unscheduled), a Deployment, a StatefulSet, a
 * DaemonSet, a completed and a running Job, a CronJob and an HPA.
 */
export function loadLabVitalsCluster(server: FakeKubeApiServer, metrics: FakeMetricsApi, node = 'lab-node'): LabVitalsCluster {
  server.apply('nodes', vitalsNode({ name: node, capacity: { cpu: '4', memory: '16265612Ki' }, allocatable: { cpu: '3800m', memory: '15114636Ki' } }));
  server.apply('namespaces', { metadata: { name: 'shop' } });
  server.apply(
    'pods',
    vitalsPod({
      name: 'web-7d9c',
      namespace: 'shop',
      node,
      containers: [
        { name: 'web', requests: { cpu: '250m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' }, restarts: 2 },
        { name: 'proxy', requests: { cpu: '0.1', memory: '64Mi' }, limits: { cpu: '200m', memory: '64Mi' }, restarts: 1 },
      ],
    }),
  );
  server.apply('pods', vitalsPod({ name: 'db-0', namespace: 'shop', node, containers: [{ name: 'db', requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '2Gi' } }] }));
  server.apply('pods', vitalsPod({ name: 'web-pending', namespace: 'shop', phase: 'Pending', ready: false, containers: [{ name: 'web', requests: { cpu: '250m', memory: '128Mi' } }] }));
  server.apply('deployments', deployment('web', { desired: 3, ready: 2, available: 2, updated: 3 }, 'shop'));
  server.apply('statefulsets', statefulSet('db', { desired: 1, ready: 1, available: 1, updated: 1 }, 'shop'));
  server.apply('daemonsets', daemonSet('k8s-flow-exporter', { desired: 1, ready: 0, available: 0, updated: 1 }));
  server.apply('jobs', job({ name: 'report-28123', namespace: 'shop', succeeded: 1, startTime: '2026-01-01T02:00:00Z', completionTime: '2026-01-01T02:01:30Z' }));
  server.apply('jobs', job({ name: 'backfill', namespace: 'shop', active: 1, failed: 2, startTime: '2026-01-01T03:00:00Z' }));
  server.apply(
    'cronjobs',
    cronJob({ name: 'report', namespace: 'shop', schedule: '*/30 * * * *', lastScheduleTime: '2026-01-01T02:00:00Z', lastSuccessfulTime: '2026-01-01T02:01:30Z' }),
  );
  server.apply(
    'horizontalpodautoscalers',
    hpa({
      name: 'web',
      namespace: 'shop',
      target: { kind: 'Deployment', name: 'web' },
      minReplicas: 2,
      maxReplicas: 10,
      currentReplicas: 3,
      desiredReplicas: 4,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
        { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '200Mi' } } },
        { type: 'External', external: { metric: { name: 'queue_depth' }, target: { type: 'Value', value: '1500m' } } },
      ],
      currentMetrics: [
        { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 85, averageValue: '212m' } } },
        { type: 'Resource', resource: { name: 'memory', current: { averageValue: '180Mi' } } },
      ],
    }),
  );
  const podUsage: Record<string, ContainerUsage[]> = {
    'shop/web-7d9c': [
      { name: 'web', cpu: '123456789n', memory: '100Mi' },
      { name: 'proxy', cpu: '5m', memory: '20Mi' },
    ],
    'shop/db-0': [{ name: 'db', cpu: '1500000000n', memory: '812Mi' }],
  };
  for (const [key, containers] of Object.entries(podUsage)) {
    const [namespace, name] = key.split('/');
    metrics.setPodUsage(namespace, name, containers);
  }
  metrics.setNodeUsage(node, '1234567890n', '7654321Ki');
  return { node, podUsage };
}

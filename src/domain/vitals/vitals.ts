/**
 * Vitals: the health of the cluster's objects, as exported beside flows. Amounts
 * are bigint (unsigned64 on the wire): CPU in millicores, memory in bytes. An
 * optional field is absent when its value is unknown; it is never a fake zero.
 */

export interface ResourceAmounts {
  readonly cpuMillicores: bigint;
  readonly memoryBytes: bigint;
}

export interface PodVitals {
  readonly namespace: string;
  readonly name: string;
  /** Empty while the pod is not scheduled. */
  readonly node: string;
  /** Pending, Running, Succeeded, Failed or Unknown. */
  readonly phase: string;
  /** The pod's Ready condition is True. */
  readonly ready: boolean;
  /** Sum of the restart counts of its containers (init containers included). */
  readonly restarts: number;
  /** Sum over the regular containers; a container without a request adds 0 (as the scheduler counts it). */
  readonly requests: ResourceAmounts;
  /** Sum over the regular containers, present only when every container has that limit (else unbounded). */
  readonly cpuLimitMillicores: bigint | undefined;
  readonly memoryLimitBytes: bigint | undefined;
}

export const NODE_CONDITION_TYPES = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable'] as const;
export type NodeConditionType = (typeof NODE_CONDITION_TYPES)[number];
/** A condition's status as Kubernetes reports it; '' when the node does not report that condition. */
export type ConditionStatus = 'True' | 'False' | 'Unknown' | '';

export interface NodeVitals {
  readonly name: string;
  readonly capacity: ResourceAmounts;
  readonly allocatable: ResourceAmounts;
  readonly conditions: Readonly<Record<NodeConditionType, ConditionStatus>>;
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface WorkloadVitals {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
  /** Replicas asked for (a DaemonSet: the nodes it should run on). */
  readonly desired: number;
  readonly ready: number;
  readonly available: number;
  /** Replicas already at the current pod template. */
  readonly updated: number;
}

/**
 * - healthy: nothing asked for (desired 0), or every desired replica is available and updated;
 * - unavailable: replicas are asked for and none is available;
 * - degraded: some but not all are available, or a rollout is still replacing old replicas.
 */
export type WorkloadHealth = 'healthy' | 'degraded' | 'unavailable';

export function workloadHealth(workload: WorkloadVitals): WorkloadHealth {
  if (workload.desired === 0) return 'healthy';
  if (workload.available === 0) return 'unavailable';
  if (workload.available < workload.desired || workload.updated < workload.desired) return 'degraded';
  return 'healthy';
}

export interface JobVitals {
  readonly namespace: string;
  readonly name: string;
  readonly active: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Epoch milliseconds; absent until the job controller starts the job. */
  readonly startMs: number | undefined;
  /** Epoch milliseconds; present only once the job completed successfully. */
  readonly completionMs: number | undefined;
}

/** Completion minus start; unknown (undefined) until the job completed. */
export function jobDurationMs(job: JobVitals): number | undefined {
  return job.startMs !== undefined && job.completionMs !== undefined ? job.completionMs - job.startMs : undefined;
}

export interface CronJobVitals {
  readonly namespace: string;
  readonly name: string;
  readonly schedule: string;
  readonly suspended: boolean;
  readonly lastScheduleMs: number | undefined;
  readonly lastSuccessfulMs: number | undefined;
  readonly activeJobs: number;
}

/**
 * How an HPA metric's values are expressed: utilization in percent of the request,
 * CPU in millicores, memory in bytes, anything else in thousandths of its quantity
 * (Kubernetes' MilliValue).
 */
export type HpaMetricUnit = 'percent' | 'millicores' | 'bytes' | 'milli';

export interface HpaMetricVitals {
  /** Resource, ContainerResource, Pods, Object or External. */
  readonly sourceType: string;
  /** cpu, memory, or the custom or external metric's name. */
  readonly name: string;
  /** Utilization, AverageValue or Value. */
  readonly targetType: string;
  readonly unit: HpaMetricUnit;
  readonly target: bigint;
  /** Absent while the HPA controller has no reading (kubectl shows <unknown>). */
  readonly current: bigint | undefined;
}

export interface HpaVitals {
  readonly namespace: string;
  readonly name: string;
  readonly targetKind: string;
  readonly targetName: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly currentReplicas: number;
  readonly desiredReplicas: number;
  readonly metrics: readonly HpaMetricVitals[];
}

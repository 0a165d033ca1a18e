import type { CronJobVitals, HpaVitals, JobVitals, NodeVitals, PodVitals, ResourceAmounts, WorkloadVitals } from './vitals.js';

/** A value and when this agent last read it successfully (epoch ms): its age is now − readAtMs. */
export interface Observed<T> {
  readonly value: T;
  readonly readAtMs: number;
}

/** A pod or node with its usage from metrics.k8s.io, when known. */
export interface WithUsage<T> {
  readonly object: Observed<T>;
  readonly usage: Observed<ResourceAmounts> | undefined;
}

/** Everything one agent knows: its own node always; cluster-scoped vitals only while it leads. */
export interface VitalsSnapshot {
  readonly nodes: readonly WithUsage<NodeVitals>[];
  readonly pods: readonly WithUsage<PodVitals>[];
  readonly workloads: readonly Observed<WorkloadVitals>[];
  readonly jobs: readonly Observed<JobVitals>[];
  readonly cronJobs: readonly Observed<CronJobVitals>[];
  readonly hpas: readonly Observed<HpaVitals>[];
}

export const EMPTY_SNAPSHOT: VitalsSnapshot = { nodes: [], pods: [], workloads: [], jobs: [], cronJobs: [], hpas: [] };

/**
 * What may be exported at `nowMs`: entries read more than `maxAgeMs` ago are left
 * out, and so is usage that old (the pod or node then goes without usage).
 */
export function freshVitals(snapshot: VitalsSnapshot, nowMs: number, maxAgeMs: number): VitalsSnapshot {
  const fresh = <T>(observed: Observed<T>): boolean => nowMs - observed.readAtMs <= maxAgeMs;
  const withFreshUsage = <T>(entries: readonly WithUsage<T>[]): WithUsage<T>[] =>
    entries.filter((entry) => fresh(entry.object)).map((entry) => (entry.usage === undefined || fresh(entry.usage) ? entry : { ...entry, usage: undefined }));
  return {
    nodes: withFreshUsage(snapshot.nodes),
    pods: withFreshUsage(snapshot.pods),
    workloads: snapshot.workloads.filter(fresh),
    jobs: snapshot.jobs.filter(fresh),
    cronJobs: snapshot.cronJobs.filter(fresh),
    hpas: snapshot.hpas.filter(fresh),
  };
}

export function countVitals(snapshot: VitalsSnapshot): Record<keyof VitalsSnapshot, number> {
  return {
    nodes: snapshot.nodes.length,
    pods: snapshot.pods.length,
    workloads: snapshot.workloads.length,
    jobs: snapshot.jobs.length,
    cronJobs: snapshot.cronJobs.length,
    hpas: snapshot.hpas.length,
  };
}

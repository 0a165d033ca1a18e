import type { CronJobVitals, HpaVitals, JobVitals, NodeVitals, PodVitals, WorkloadVitals } from '../../domain/vitals/vitals.js';

/** One kind of cluster object as known now, and when it was last known to be current (epoch ms). */
export interface KnownObjects<T> {
  readonly items: readonly T[];
  readonly currentAtMs: number;
}

/** Cluster-scoped objects; a kind is undefined until its first complete read. */
export interface ClusterState {
  readonly pods: KnownObjects<PodVitals> | undefined;
  readonly workloads: KnownObjects<WorkloadVitals> | undefined;
  readonly jobs: KnownObjects<JobVitals> | undefined;
  readonly cronJobs: KnownObjects<CronJobVitals> | undefined;
  readonly hpas: KnownObjects<HpaVitals> | undefined;
}

/** API objects that could not be read as vitals (malformed or partial), counted since start. */
export interface RejectedObjects {
  readonly total: number;
  readonly byKind: Readonly<Record<string, number>>;
}

/**
 * The Kubernetes objects vitals are read from. Cluster-scoped objects are only
 * followed while this agent leads (follow/unfollow), so other agents hold and ask
 * nothing for them; every agent reads its own node.
 */
export abstract class ClusterStatePort {
  /** Starts following cluster-scoped objects; calling it again while following does nothing. */
  abstract follow(): void;
  /** Stops following and forgets them. */
  abstract unfollow(): void;
  abstract current(): ClusterState;
  /** One read of a node; rejects when the API server cannot be read or the object is malformed. */
  abstract readNode(name: string): Promise<NodeVitals>;
  abstract rejected(): RejectedObjects;
}

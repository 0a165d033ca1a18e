import { Injectable, Logger } from '@nestjs/common';
import { EMPTY_SNAPSHOT, type Observed, type VitalsSnapshot, type WithUsage } from '../../domain/vitals/vitals-snapshot.js';
import type { NodeVitals, ResourceAmounts } from '../../domain/vitals/vitals.js';
import { AgentConfig } from '../config/agent-config.js';
import { ClockPort } from '../ports/clock.port.js';
import { ClusterStatePort, type KnownObjects } from './cluster-state.port.js';
import { LeaderElectionPort } from './leader-election.port.js';
import { MetricsServerWatch } from './metrics-server.watch.js';
import { ResourceUsagePort } from './resource-usage.port.js';

/** Reads that failed, by what was read, since start. */
export interface CollectionFailures {
  node: number;
  nodeUsage: number;
  podUsage: number;
}

export interface CollectionStats {
  collections: number;
  lastCollectionAtMs: number | undefined;
  lastCollectionDurationMs: number | undefined;
  readonly failures: CollectionFailures;
  lastError: string | undefined;
}

/**
 * Collects this agent's vitals: its own node and that node's usage always; while
 * it leads, every pod (joined with the PodMetrics list), workload, job, CronJob
 * and HPA. Each value keeps the time it was last read successfully: a failed read
 * leaves the previous value in place to age. API requests per collection: 1 (own
 * Node) + 1 (own NodeMetrics) + 1 for the leader (PodMetrics list), whatever the
 * cluster's size; cluster objects come from watches opened while leading.
 */
@Injectable()
export class VitalsCollector {
  private readonly logger = new Logger(VitalsCollector.name);
  readonly stats: CollectionStats = { collections: 0, lastCollectionAtMs: undefined, lastCollectionDurationMs: undefined, failures: { node: 0, nodeUsage: 0, podUsage: 0 }, lastError: undefined };
  private ownNode: Observed<NodeVitals> | undefined;
  private ownNodeUsage: Observed<ResourceAmounts> | undefined;
  private podUsage: Observed<ReadonlyMap<string, ResourceAmounts>> | undefined;
  private current: VitalsSnapshot = EMPTY_SNAPSHOT;

  constructor(
    private readonly config: AgentConfig,
    private readonly cluster: ClusterStatePort,
    private readonly usage: ResourceUsagePort,
    private readonly leadership: LeaderElectionPort,
    private readonly metricsServer: MetricsServerWatch,
    private readonly clock: ClockPort,
  ) {}

  /** The vitals of the last collection (cluster-scoped parts only while leading). */
  snapshot(): VitalsSnapshot {
    return this.current;
  }

  /** Leadership changed: follow or forget the cluster-scoped objects. */
  onLeadershipChange(leading: boolean): void {
    if (leading) {
      this.cluster.follow();
      return;
    }
    this.cluster.unfollow();
    this.podUsage = undefined;
    this.current = { ...EMPTY_SNAPSHOT, nodes: this.current.nodes };
  }

  async collectOnce(): Promise<void> {
    const startedAtMs = this.clock.nowMs();
    const withUsage = this.metricsServer.isAvailable();
    const leading = this.leadership.isLeader();
    await Promise.all([this.readOwnNode(), withUsage ? this.readOwnNodeUsage() : undefined, leading && withUsage ? this.readPodUsage() : undefined]);
    const nodes: WithUsage<NodeVitals>[] = this.ownNode === undefined ? [] : [{ object: this.ownNode, usage: this.ownNodeUsage }];
    // Leadership may have been lost while reading.
    this.current = this.leadership.isLeader() ? { ...this.clusterVitals(), nodes } : { ...EMPTY_SNAPSHOT, nodes };
    const endedAtMs = this.clock.nowMs();
    this.stats.collections++;
    this.stats.lastCollectionAtMs = endedAtMs;
    this.stats.lastCollectionDurationMs = endedAtMs - startedAtMs;
  }

  private clusterVitals(): Omit<VitalsSnapshot, 'nodes'> {
    const state = this.cluster.current();
    const usage = this.podUsage;
    return {
      pods: observedAll(state.pods).map((pod) => {
        const podUsage = usage?.value.get(`${pod.value.namespace}/${pod.value.name}`);
        return { object: pod, usage: podUsage === undefined || usage === undefined ? undefined : { value: podUsage, readAtMs: usage.readAtMs } };
      }),
      workloads: observedAll(state.workloads),
      jobs: observedAll(state.jobs),
      cronJobs: observedAll(state.cronJobs),
      hpas: observedAll(state.hpas),
    };
  }

  private async readOwnNode(): Promise<void> {
    try {
      this.ownNode = { value: await this.cluster.readNode(this.config.nodeName), readAtMs: this.clock.nowMs() };
    } catch (error) {
      this.failed('node', error);
    }
  }

  private async readOwnNodeUsage(): Promise<void> {
    try {
      const usage = await this.usage.nodeUsage(this.config.nodeName);
      this.ownNodeUsage = usage === undefined ? undefined : { value: usage, readAtMs: this.clock.nowMs() };
    } catch (error) {
      this.failed('nodeUsage', error);
    }
  }

  private async readPodUsage(): Promise<void> {
    try {
      this.podUsage = { value: await this.usage.podUsage(), readAtMs: this.clock.nowMs() };
    } catch (error) {
      this.failed('podUsage', error);
    }
  }

  private failed(what: keyof CollectionFailures, error: unknown): void {
    this.stats.failures[what]++;
    this.stats.lastError = `${what}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
    this.logger.warn({ read: what, error: this.stats.lastError }, 'Vitals read failed; the last value read stays until it is too old');
  }
}

function observedAll<T>(known: KnownObjects<T> | undefined): Observed<T>[] {
  return known === undefined ? [] : known.items.map((value) => ({ value, readAtMs: known.currentAtMs }));
}

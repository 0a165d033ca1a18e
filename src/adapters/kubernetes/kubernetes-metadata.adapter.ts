import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { Counter, Gauge } from 'prom-client';
import type { AgentConfig } from '../../application/config/agent-config.js';
import type { ClockPort } from '../../application/ports/clock.port.js';
import type { ComponentHealth } from '../../application/ports/component-health.js';
import { MetadataPort, type EndpointQuery } from '../../application/ports/metadata.port.js';
import type { EndpointContext } from '../../domain/kubernetes/endpoint-context.js';
import { OwnedMetrics } from '../metrics/owned-metrics.js';
import { AddressIndex } from './address-index.js';
import type { CachedRecord } from './kubernetes-records.js';
import { ResourceReflector, type BackoffOptions } from './resource-reflector.js';
import { watchedResources } from './watched-resources.js';

/** Internal knobs; production uses the defaults, tests make them fast and drive time. */
export interface KubernetesCacheOptions {
  /** Delay before restarting a failed list/watch, doubling up to maxMs. */
  readonly backoff: BackoffOptions;
  /** How often deleted pods past their grace period are forgotten. */
  readonly sweepIntervalMs: number;
  /** Time of deletions (grace period) and of events. */
  readonly clock: ClockPort;
}

export const DEFAULT_CACHE_OPTIONS: KubernetesCacheOptions = {
  backoff: { initialMs: 1_000, maxMs: 30_000 },
  sweepIntervalMs: 5_000,
  clock: { nowMs: () => Date.now() },
};

/**
 * MetadataPort backed by a lean list/watch cache of the cluster. lookup() reads
 * the address index synchronously and never waits on the API server: while the
 * server is unreachable the last known state keeps answering.
 */
export class KubernetesMetadataAdapter extends MetadataPort implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(KubernetesMetadataAdapter.name);
  private readonly index: AddressIndex;
  private readonly reflectors: ResourceReflector<CachedRecord>[];
  private readonly server: string | undefined;
  private readonly metrics: OwnedMetrics;
  private readonly options: KubernetesCacheOptions;
  private sweepTimer: NodeJS.Timeout | undefined;
  private syncedAtMs: number | undefined;

  private readonly clock: ClockPort;

  constructor(kubeConfig: KubeConfig, config: AgentConfig, options: Partial<KubernetesCacheOptions> = {}) {
    super();
    this.options = { ...DEFAULT_CACHE_OPTIONS, ...options };
    this.clock = this.options.clock;
    this.index = new AddressIndex(config.kubernetes.deletedPodGraceSeconds * 1000);
    this.server = kubeConfig.getCurrentCluster()?.server;
    const watch = new Watch(kubeConfig);
    this.reflectors = watchedResources(kubeConfig, this.index, () => this.clock.nowMs()).map(
      ({ descriptor, listener }) =>
        new ResourceReflector(descriptor, watch, listener, this.clock, this.options.backoff, () => this.onResourceSynced()),
    );
    this.metrics = new OwnedMetrics(this.buildMetrics());
  }

  onModuleInit(): void {
    this.logger.log({ server: this.server, resources: this.reflectors.map((r) => r.status().resource) }, 'Starting Kubernetes list/watch cache');
    for (const reflector of this.reflectors) reflector.start();
    this.sweepTimer = setInterval(() => this.index.expire(this.clock.nowMs()), this.options.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweepTimer);
    for (const reflector of this.reflectors) reflector.stop();
    this.metrics.release();
  }

  lookup(query: EndpointQuery): EndpointContext | undefined {
    return this.index.lookup(query);
  }

  health(): ComponentHealth {
    const resources = this.reflectors.map((reflector) => reflector.status());
    const waiting = resources.filter((status) => !status.synced).map((status) => status.resource);
    const lastEventAtMs = Math.max(...resources.map((status) => status.lastEventAtMs ?? 0));
    const details = {
      mode: 'cluster',
      synced: waiting.length === 0,
      syncedAtMs: this.syncedAtMs,
      lastEventAtMs: lastEventAtMs > 0 ? lastEventAtMs : undefined,
      watchRestarts: sum(resources.map((status) => status.restarts)),
      errors: sum(resources.map((status) => status.errors)),
      rejectedObjects: sum(resources.map((status) => status.rejected)),
      resources: Object.fromEntries(resources.map(({ resource, ...status }) => [resource, status])),
      index: this.index.sizes(),
    };
    if (waiting.length > 0) return { ready: false, reason: `waiting for the first list of ${waiting.join(', ')}`, details };
    return { ready: true, details };
  }

  private onResourceSynced(): void {
    if (this.syncedAtMs !== undefined || this.reflectors.some((reflector) => !reflector.status().synced)) return;
    this.syncedAtMs = this.clock.nowMs();
    this.logger.log({ index: this.index.sizes() }, 'Kubernetes cache synced: flows are enriched from now on');
  }

  private buildMetrics(): Array<Gauge<string> | Counter<string>> {
    const statuses = () => this.reflectors.map((reflector) => reflector.status());
    const index = this.index;
    return [
      new Gauge({
        name: 'ebpf_netflow_k8s_cache_entries',
        help: 'Objects held in the Kubernetes cache, per resource.',
        labelNames: ['resource'],
        registers: [],
        collect() {
          for (const status of statuses()) this.set({ resource: status.resource }, status.entries);
        },
      }),
      new Gauge({
        name: 'ebpf_netflow_k8s_index_entries',
        help: 'Entries of the address index: resolvable addresses and deleted pods kept for their grace period.',
        labelNames: ['index'],
        registers: [],
        collect() {
          const sizes = index.sizes();
          this.set({ index: 'addresses' }, sizes.addresses);
          this.set({ index: 'deleted_pods' }, sizes.deletedPods);
        },
      }),
      new Gauge({
        name: 'ebpf_netflow_k8s_synced',
        help: '1 once every watched resource has completed its first list.',
        registers: [],
        collect() {
          this.set(statuses().every((status) => status.synced) ? 1 : 0);
        },
      }),
      counterFrom('ebpf_netflow_k8s_watch_restarts_total', 'List/watch restarts after a failure (back-off, fresh list), per resource.', statuses, 'restarts'),
      counterFrom('ebpf_netflow_k8s_relists_total', 'Re-lists because the watched resourceVersion expired (410), per resource.', statuses, 'relists'),
      counterFrom('ebpf_netflow_k8s_objects_rejected_total', 'Malformed API objects ignored, per resource.', statuses, 'rejected'),
    ];
  }
}

/** A counter mirroring a monotonic count kept in reflector status. */
function counterFrom(
  name: string,
  help: string,
  statuses: () => ReadonlyArray<{ resource: string; restarts: number; relists: number; rejected: number }>,
  field: 'restarts' | 'relists' | 'rejected',
): Counter<string> {
  return new Counter({
    name,
    help,
    labelNames: ['resource'],
    registers: [],
    collect() {
      this.reset();
      for (const status of statuses()) this.inc({ resource: status.resource }, status[field]);
    },
  });
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

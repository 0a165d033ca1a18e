import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { AppsV1Api, AutoscalingV2Api, BatchV1Api, CoreV1Api, Watch, type KubeConfig } from '@kubernetes/client-node';
import type { ClockPort } from '../../application/ports/clock.port.js';
import { ClusterStatePort, type ClusterState, type KnownObjects, type RejectedObjects } from '../../application/vitals/cluster-state.port.js';
import type { NodeVitals } from '../../domain/vitals/vitals.js';
import { ResourceReflector, type BackoffOptions, type ResourceDescriptor } from '../kubernetes/resource-reflector.js';
import { pager } from '../kubernetes/watched-resources.js';
import {
  toCronJobVitals,
  toHpaVitals,
  toJobVitals,
  toNodeVitals,
  toPodVitals,
  workloadConverter,
  type VitalsRecord,
} from './vitals-records.js';

/** One followed kind: its reflector, the cache it fills and when it was last known current. */
class FollowedKind<T> {
  readonly records = new Map<string, T>();
  readonly reflector: ResourceReflector<VitalsRecord<T>>;
  private currentAtMs: number | undefined;

  constructor(descriptor: ResourceDescriptor<VitalsRecord<T>>, watch: Watch, clock: ClockPort, backoff: BackoffOptions) {
    this.reflector = new ResourceReflector(
      descriptor,
      watch,
      { upsert: (record) => this.records.set(record.key, record.vitals), remove: (record) => this.records.delete(record.key) },
      clock,
      backoff,
      () => undefined,
    );
  }

  /** Now while the watch is open after a complete list; else the last time it was. */
  knownAt(nowMs: number): number | undefined {
    const status = this.reflector.status();
    if (status.synced && status.state === 'watching') this.currentAtMs = nowMs;
    return this.currentAtMs;
  }
}

export interface ClusterStateOptions {
  readonly backoff: BackoffOptions;
}

/**
 * ClusterStatePort on the API server: lean list/watch caches (the flow cache's
 * ResourceReflector) of pods, Deployments, StatefulSets, DaemonSets, Jobs,
 * CronJobs and HPAs, opened only while this agent leads; the own node by a GET.
 */
export class KubernetesClusterState extends ClusterStatePort implements OnModuleDestroy {
  private readonly logger = new Logger(KubernetesClusterState.name);
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly batch: BatchV1Api;
  private readonly autoscaling: AutoscalingV2Api;
  private readonly watch: Watch;
  private followed: ReturnType<KubernetesClusterState['createKinds']> | undefined;
  /** Rejections of reflectors already stopped, and of node reads. */
  private readonly pastRejections = new Map<string, number>();

  constructor(
    kubeConfig: KubeConfig,
    private readonly clock: ClockPort,
    private readonly options: ClusterStateOptions,
  ) {
    super();
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.batch = kubeConfig.makeApiClient(BatchV1Api);
    this.autoscaling = kubeConfig.makeApiClient(AutoscalingV2Api);
    this.watch = new Watch(kubeConfig);
  }

  follow(): void {
    if (this.followed !== undefined) return;
    this.followed = this.createKinds();
    for (const kind of this.allKinds()) kind.reflector.start();
    this.logger.log('Following cluster-scoped objects for vitals');
  }

  unfollow(): void {
    if (this.followed === undefined) return;
    for (const kind of this.allKinds()) {
      const status = kind.reflector.status();
      this.pastRejections.set(status.resource, (this.pastRejections.get(status.resource) ?? 0) + status.rejected);
      kind.reflector.stop();
    }
    this.followed = undefined;
    this.logger.log('Stopped following cluster-scoped objects');
  }

  onModuleDestroy(): void {
    this.unfollow();
  }

  current(): ClusterState {
    const kinds = this.followed;
    if (kinds === undefined) return { pods: undefined, workloads: undefined, jobs: undefined, cronJobs: undefined, hpas: undefined };
    const nowMs = this.clock.nowMs();
    return {
      pods: known([kinds.pods], nowMs),
      workloads: known([kinds.deployments, kinds.statefulSets, kinds.daemonSets], nowMs),
      jobs: known([kinds.jobs], nowMs),
      cronJobs: known([kinds.cronJobs], nowMs),
      hpas: known([kinds.hpas], nowMs),
    };
  }

  async readNode(name: string): Promise<NodeVitals> {
    const conversion = toNodeVitals(await this.core.readNode({ name }));
    if ('problem' in conversion) {
      this.pastRejections.set('nodes', (this.pastRejections.get('nodes') ?? 0) + 1);
      this.logger.warn({ problem: conversion.problem, name }, 'Rejected malformed node');
      throw new Error(`node ${name}: ${conversion.problem}`);
    }
    return conversion.record.vitals;
  }

  rejected(): RejectedObjects {
    const byKind = Object.fromEntries(this.pastRejections);
    for (const kind of this.allKinds()) {
      const status = kind.reflector.status();
      byKind[status.resource] = (byKind[status.resource] ?? 0) + status.rejected;
    }
    return { total: Object.values(byKind).reduce((sum, count) => sum + count, 0), byKind };
  }

  private allKinds(): FollowedKind<unknown>[] {
    return this.followed === undefined ? [] : (Object.values(this.followed) as FollowedKind<unknown>[]);
  }

  private createKinds() {
    const kind = <T>(descriptor: ResourceDescriptor<VitalsRecord<T>>) => new FollowedKind(descriptor, this.watch, this.clock, this.options.backoff);
    const { core, apps, batch, autoscaling } = this;
    return {
      pods: kind({ resource: 'pods', path: '/api/v1/pods', namespaced: true, listPage: pager((r) => core.listPodForAllNamespaces(r)), toRecord: toPodVitals }),
      deployments: kind({
        resource: 'deployments',
        path: '/apis/apps/v1/deployments',
        namespaced: true,
        listPage: pager((r) => apps.listDeploymentForAllNamespaces(r)),
        toRecord: workloadConverter('Deployment'),
      }),
      statefulSets: kind({
        resource: 'statefulsets',
        path: '/apis/apps/v1/statefulsets',
        namespaced: true,
        listPage: pager((r) => apps.listStatefulSetForAllNamespaces(r)),
        toRecord: workloadConverter('StatefulSet'),
      }),
      daemonSets: kind({
        resource: 'daemonsets',
        path: '/apis/apps/v1/daemonsets',
        namespaced: true,
        listPage: pager((r) => apps.listDaemonSetForAllNamespaces(r)),
        toRecord: workloadConverter('DaemonSet'),
      }),
      jobs: kind({ resource: 'jobs', path: '/apis/batch/v1/jobs', namespaced: true, listPage: pager((r) => batch.listJobForAllNamespaces(r)), toRecord: toJobVitals }),
      cronJobs: kind({
        resource: 'cronjobs',
        path: '/apis/batch/v1/cronjobs',
        namespaced: true,
        listPage: pager((r) => batch.listCronJobForAllNamespaces(r)),
        toRecord: toCronJobVitals,
      }),
      hpas: kind({
        resource: 'horizontalpodautoscalers',
        path: '/apis/autoscaling/v2/horizontalpodautoscalers',
        namespaced: true,
        listPage: pager((r) => autoscaling.listHorizontalPodAutoscalerForAllNamespaces(r)),
        toRecord: toHpaVitals,
      }),
    };
  }
}

/** The items of kinds reported together, current as of the oldest of them; undefined until each is synced. */
function known<T>(kinds: ReadonlyArray<FollowedKind<T>>, nowMs: number): KnownObjects<T> | undefined {
  const times = kinds.map((kind) => kind.knownAt(nowMs));
  if (times.some((time) => time === undefined)) return undefined;
  return { items: kinds.flatMap((kind) => [...kind.records.values()]), currentAtMs: Math.min(...(times as number[])) };
}

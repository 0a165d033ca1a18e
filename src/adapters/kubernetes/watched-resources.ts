import { AppsV1Api, BatchV1Api, CoreV1Api, DiscoveryV1Api, type KubeConfig, type V1ListMeta } from '@kubernetes/client-node';
import type { AddressIndex } from './address-index.js';
import {
  toEndpointSliceRecord,
  toNamespaceRecord,
  toNodeRecord,
  toOwnerRecord,
  toPodRecord,
  toServiceRecord,
  type CachedRecord,
} from './kubernetes-records.js';
import type { ListPage, ReflectorListener, ResourceDescriptor } from './resource-reflector.js';

/** A resource to keep in sync, and where its changes go. */
export interface WatchedResource<R extends CachedRecord = CachedRecord> {
  readonly descriptor: ResourceDescriptor<R>;
  readonly listener: ReflectorListener<R>;
}

export type ListCall = (request: { limit: number; _continue?: string }) => Promise<{ items: readonly unknown[]; metadata?: V1ListMeta }>;

export function pager(list: ListCall): ResourceDescriptor<CachedRecord>['listPage'] {
  return async (limit, continueToken): Promise<ListPage> => {
    const body = await list({ limit, _continue: continueToken });
    return { items: body.items, resourceVersion: body.metadata?.resourceVersion ?? '', continueToken: body.metadata?._continue || undefined };
  };
}

/** Namespaces are only counted for now (health, metrics); nothing resolves through them. */
const COUNT_ONLY: ReflectorListener<CachedRecord> = { upsert: () => undefined, remove: () => undefined };

/**
 * What the exporter watches, cluster-wide (RBAC: get/list/watch on each).
 * StatefulSets and DaemonSets need no watch: a pod's controller reference names
 * them directly. ReplicaSets and Jobs are watched to reach their Deployment or
 * CronJob.
 */
export function watchedResources(kubeConfig: KubeConfig, index: AddressIndex, nowMs: () => number): WatchedResource[] {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const batch = kubeConfig.makeApiClient(BatchV1Api);
  return [
    watched({
      descriptor: { resource: 'pods', path: '/api/v1/pods', namespaced: true, listPage: pager((r) => core.listPodForAllNamespaces(r)), toRecord: toPodRecord },
      listener: { upsert: (pod) => index.upsertPod(pod, nowMs()), remove: (pod) => index.deletePod(pod, nowMs()) },
    }),
    watched({
      descriptor: { resource: 'services', path: '/api/v1/services', namespaced: true, listPage: pager((r) => core.listServiceForAllNamespaces(r)), toRecord: toServiceRecord },
      listener: { upsert: (service) => index.upsertService(service), remove: (service) => index.deleteService(service) },
    }),
    watched({
      descriptor: {
        resource: 'endpointslices',
        path: '/apis/discovery.k8s.io/v1/endpointslices',
        namespaced: true,
        listPage: pager((r) => discovery.listEndpointSliceForAllNamespaces(r)),
        toRecord: toEndpointSliceRecord,
      },
      listener: { upsert: (slice) => index.upsertEndpointSlice(slice), remove: (slice) => index.deleteEndpointSlice(slice) },
    }),
    watched({
      descriptor: { resource: 'nodes', path: '/api/v1/nodes', namespaced: false, listPage: pager((r) => core.listNode(r)), toRecord: toNodeRecord },
      listener: { upsert: (node) => index.upsertNode(node), remove: (node) => index.deleteNode(node) },
    }),
    watched({
      descriptor: { resource: 'namespaces', path: '/api/v1/namespaces', namespaced: false, listPage: pager((r) => core.listNamespace(r)), toRecord: toNamespaceRecord },
      listener: COUNT_ONLY,
    }),
    watched({
      descriptor: {
        resource: 'replicasets',
        path: '/apis/apps/v1/replicasets',
        namespaced: true,
        listPage: pager((r) => apps.listReplicaSetForAllNamespaces(r)),
        toRecord: toOwnerRecord,
      },
      listener: { upsert: (owner) => index.upsertOwner('ReplicaSet', owner), remove: (owner) => index.deleteOwner('ReplicaSet', owner) },
    }),
    watched({
      descriptor: { resource: 'jobs', path: '/apis/batch/v1/jobs', namespaced: true, listPage: pager((r) => batch.listJobForAllNamespaces(r)), toRecord: toOwnerRecord },
      listener: { upsert: (owner) => index.upsertOwner('Job', owner), remove: (owner) => index.deleteOwner('Job', owner) },
    }),
  ];
}

/** Ties a descriptor and its listener to one record type, then erases it for the list. */
function watched<R extends CachedRecord>(resource: WatchedResource<R>): WatchedResource {
  return resource as unknown as WatchedResource;
}

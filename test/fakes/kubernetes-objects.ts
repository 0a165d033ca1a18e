/**
 * Builders for Kubernetes API objects as the API server serves them (plain JSON),
 * for the fake API server, index tests and the benchmark. Only the fields the
 * exporter reads are filled unless `realistic` padding is asked for.
 */

let uidCounter = 0;

export interface ContainerSpec {
  readonly name: string;
  readonly ports?: ReadonlyArray<{ containerPort: number; protocol?: string; hostPort?: number; name?: string }>;
}

export interface OwnerSpec {
  readonly kind: string;
  readonly name: string;
}

export interface PodSpec {
  readonly name: string;
  readonly namespace?: string;
  readonly ips?: readonly string[];
  readonly node?: string;
  readonly containers?: readonly ContainerSpec[];
  readonly owner?: OwnerSpec;
  readonly hostNetwork?: boolean;
  readonly phase?: string;
  readonly uid?: string;
}

function ownerReferences(owner: OwnerSpec | undefined): object[] | undefined {
  return owner === undefined
    ? undefined
    : [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: `uid-${owner.name}`, controller: true, blockOwnerDeletion: true }];
}

export function podObject(spec: PodSpec): Record<string, any> {
  const ips = spec.ips ?? [];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: spec.name,
      namespace: spec.namespace ?? 'default',
      uid: spec.uid ?? `pod-uid-${++uidCounter}`,
      ownerReferences: ownerReferences(spec.owner),
    },
    spec: {
      nodeName: spec.node ?? 'node-a',
      hostNetwork: spec.hostNetwork ?? false,
      containers: spec.containers ?? [{ name: 'main' }],
    },
    status: {
      phase: spec.phase ?? 'Running',
      podIP: ips[0],
      podIPs: ips.map((ip) => ({ ip })),
    },
  };
}

export interface ServiceSpec {
  readonly name: string;
  readonly namespace?: string;
  readonly clusterIPs: readonly string[];
  readonly ports?: ReadonlyArray<{ name?: string; port: number; protocol?: string; targetPort?: number }>;
}

export function serviceObject(spec: ServiceSpec): Record<string, any> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: spec.name, namespace: spec.namespace ?? 'default', uid: `svc-uid-${++uidCounter}` },
    spec: { type: 'ClusterIP', clusterIP: spec.clusterIPs[0], clusterIPs: spec.clusterIPs, ports: spec.ports ?? [] },
  };
}

export interface EndpointSliceSpec {
  readonly name: string;
  readonly service: string;
  readonly namespace?: string;
  readonly addressType?: 'IPv4' | 'IPv6' | 'FQDN';
  readonly addresses: readonly string[];
  /** Omit for "every port" (a nil ports list). */
  readonly ports?: ReadonlyArray<{ name?: string; port: number; protocol?: string }>;
}

export function endpointSliceObject(spec: EndpointSliceSpec): Record<string, any> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: spec.name,
      namespace: spec.namespace ?? 'default',
      labels: { 'kubernetes.io/service-name': spec.service, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
    },
    addressType: spec.addressType ?? 'IPv4',
    endpoints: spec.addresses.map((address) => ({ addresses: [address], conditions: { ready: true } })),
    ports: spec.ports,
  };
}

export function nodeObject(name: string, internalIPs: readonly string[]): Record<string, any> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `node-uid-${++uidCounter}` },
    status: {
      addresses: [...internalIPs.map((address) => ({ type: 'InternalIP', address })), { type: 'Hostname', address: name }],
    },
  };
}

export function namespaceObject(name: string): Record<string, any> {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: `ns-uid-${++uidCounter}` } };
}

/** A ReplicaSet or Job, optionally owned by a Deployment or CronJob. */
export function ownedObject(kind: 'ReplicaSet' | 'Job', name: string, owner?: OwnerSpec, namespace = 'default'): Record<string, any> {
  return {
    apiVersion: kind === 'ReplicaSet' ? 'apps/v1' : 'batch/v1',
    kind,
    metadata: { name, namespace, uid: `owned-uid-${++uidCounter}`, ownerReferences: ownerReferences(owner) },
  };
}

/**
 * Pads an object to roughly `bytes` of JSON the way real objects are heavy:
 * managedFields entries, annotations, and env-like container noise.
 */
export function withRealisticBulk<T extends Record<string, any>>(object: T, bytes: number): T {
  const managedFields: object[] = [];
  const annotations: Record<string, string> = {};
  let size = JSON.stringify(object).length;
  for (let i = 0; size < bytes; i++) {
    const entry = {
      manager: `controller-${i}`,
      operation: 'Update',
      apiVersion: 'v1',
      time: '2026-05-01T10:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:metadata': { [`f:labels`]: { [`f:app-${i}`]: {} } }, 'f:spec': { [`f:field-${i}`]: {}, 'f:containers': { [`k:{"name":"main-${i}"}`]: { '.': {}, 'f:image': {}, 'f:env': {} } } } },
    };
    managedFields.push(entry);
    annotations[`example.com/annotation-${i}`] = `value-${i}-${'x'.repeat(64)}`;
    size += JSON.stringify(entry).length + 100;
  }
  return { ...object, metadata: { ...object.metadata, managedFields, annotations } };
}

import { EndpointContext, type EndpointContextFields, type WorkloadKind } from '../../domain/kubernetes/endpoint-context.js';
import type { EndpointQuery } from '../../application/ports/metadata.port.js';
import type {
  EndpointSliceRecord,
  NodeRecord,
  OwnerRecord,
  OwnerReference,
  PodRecord,
  ServiceRecord,
} from './kubernetes-records.js';

/**
 * What one address resolves to: a context for any port, and more precise ones for
 * ports that name a container or a service port. Built when the cache changes so
 * that a lookup is one Map.get by address and at most one by port.
 */
interface AddressEntry {
  readonly anyPort: EndpointContext;
  readonly byPort: ReadonlyMap<number, EndpointContext> | undefined;
}

/** A pod as the index holds it: live, or deleted and kept for the grace period. */
interface PodSlot {
  record: PodRecord;
  /** Arrival order: among pods claiming one address, the newest wins. */
  readonly arrival: number;
  deletedAtMs: number | undefined;
}

/** Owners whose own owner decides the workload: ReplicaSet -> Deployment, Job -> CronJob. */
export type IntermediateOwnerKind = 'ReplicaSet' | 'Job';

const TOP_OWNER_OF: Readonly<Record<IntermediateOwnerKind, WorkloadKind>> = { ReplicaSet: 'Deployment', Job: 'CronJob' };
const DIRECT_WORKLOAD_KINDS: ReadonlySet<string> = new Set<WorkloadKind>(['StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

function portKey(port: number, protocol: number): number {
  return port * 256 + protocol;
}

/** Map of sets, dropping a key when its set empties so counts return to baseline. */
class MultiMap<K, V> {
  private readonly map = new Map<K, Set<V>>();

  add(key: K, value: V): void {
    const set = this.map.get(key);
    if (set === undefined) this.map.set(key, new Set([value]));
    else set.add(value);
  }

  delete(key: K, value: V): void {
    const set = this.map.get(key);
    if (set?.delete(value) && set.size === 0) this.map.delete(key);
  }

  get(key: K): ReadonlySet<V> | undefined {
    return this.map.get(key);
  }

  get size(): number {
    return this.map.size;
  }
}

/**
 * Records by key, and by each of their addresses. A replaced or deleted record
 * gives back the addresses whose answers may change.
 */
class AddressedRecords<R extends { readonly key: string }> {
  private readonly byKey = new Map<string, R>();
  private readonly byAddress = new MultiMap<string, R>();

  constructor(private readonly addressesOf: (record: R) => readonly string[]) {}

  get size(): number {
    return this.byKey.size;
  }

  at(address: string): ReadonlySet<R> | undefined {
    return this.byAddress.get(address);
  }

  /** Stores the record (replacing one with its key); returns the old and new addresses. */
  upsert(record: R): string[] {
    const replaced = this.delete(record);
    this.byKey.set(record.key, record);
    for (const address of this.addressesOf(record)) this.byAddress.add(address, record);
    return [...replaced, ...this.addressesOf(record)];
  }

  /** Removes the record with this key; returns its addresses (none when it was unknown). */
  delete(record: R): readonly string[] {
    const stored = this.byKey.get(record.key);
    if (stored === undefined) return [];
    this.byKey.delete(record.key);
    for (const address of this.addressesOf(stored)) this.byAddress.delete(address, stored);
    return this.addressesOf(stored);
  }
}

export interface AddressIndexSizes {
  readonly addresses: number;
  readonly livePods: number;
  readonly deletedPods: number;
  readonly services: number;
  readonly endpointSlices: number;
  readonly nodes: number;
  readonly owners: number;
}

/**
 * Resolves an address (+ port + protocol) to the Kubernetes context of that end of
 * a flow. Fed with lean records by the cache; answers synchronously.
 *
 * Rules, by address kind:
 * - pod IP (not hostNetwork): the pod; the container when the pod has one, or when
 *   the port matches a declared containerPort; the service when an EndpointSlice
 *   lists this address and port.
 * - Service ClusterIP: the service; its port name when the port matches.
 * - Node InternalIP (and hostNetwork pod addresses): the node; a hostNetwork pod
 *   when the port matches its containerPort/hostPort.
 * Deleted pods keep resolving for the grace period unless a newer pod takes the
 * address; expire() removes them.
 */
export class AddressIndex {
  private readonly addresses = new Map<string, AddressEntry>();
  private readonly livePods = new Map<string, PodSlot>();
  /** In deletion order, so expiry stops at the first slot still within grace. */
  private readonly deletedPods = new Set<PodSlot>();
  private readonly podsByIp = new MultiMap<string, PodSlot>();
  private readonly podsByOwner = new MultiMap<string, PodSlot>();
  private readonly services = new AddressedRecords<ServiceRecord>((service) => service.clusterIPs);
  private readonly slices = new AddressedRecords<EndpointSliceRecord>((slice) => slice.addresses);
  private readonly nodes = new AddressedRecords<NodeRecord>((node) => node.internalIPs);
  private readonly owners = new Map<string, OwnerReference | undefined>();
  private arrivals = 0;

  constructor(private readonly deletedPodGraceMs: number) {}

  lookup(query: EndpointQuery): EndpointContext | undefined {
    const entry = this.addresses.get(query.ip);
    if (entry === undefined) return undefined;
    if (entry.byPort === undefined) return entry.anyPort;
    return entry.byPort.get(portKey(query.port, query.protocol)) ?? entry.anyPort;
  }

  sizes(): AddressIndexSizes {
    return {
      addresses: this.addresses.size,
      livePods: this.livePods.size,
      deletedPods: this.deletedPods.size,
      services: this.services.size,
      endpointSlices: this.slices.size,
      nodes: this.nodes.size,
      owners: this.owners.size,
    };
  }

  upsertPod(record: PodRecord, nowMs: number): void {
    const existing = this.livePods.get(record.key);
    if (existing !== undefined && existing.record.uid !== record.uid) {
      // Same name, new object (a StatefulSet pod recreated while we were not watching).
      this.deletePod(existing.record, nowMs);
    }
    const slot = this.livePods.get(record.key);
    if (slot === undefined) {
      const created: PodSlot = { record, arrival: this.arrivals++, deletedAtMs: undefined };
      this.livePods.set(record.key, created);
      this.attachPod(created);
      this.rebuild(record.ips);
      return;
    }
    const previous = slot.record;
    this.detachPod(slot);
    slot.record = record;
    this.attachPod(slot);
    this.rebuild([...previous.ips, ...record.ips]);
  }

  deletePod(record: PodRecord, nowMs: number): void {
    const slot = this.livePods.get(record.key);
    if (slot === undefined) return;
    this.livePods.delete(record.key);
    slot.deletedAtMs = nowMs;
    this.deletedPods.add(slot);
    this.rebuild(slot.record.ips);
  }

  /** Forgets pods deleted longer than the grace period ago. */
  expire(nowMs: number): void {
    for (const slot of this.deletedPods) {
      if (nowMs - (slot.deletedAtMs as number) < this.deletedPodGraceMs) break;
      this.deletedPods.delete(slot);
      this.detachPod(slot);
      this.rebuild(slot.record.ips);
    }
  }

  upsertService(record: ServiceRecord): void {
    this.rebuild(this.services.upsert(record));
  }

  deleteService(record: ServiceRecord): void {
    this.rebuild(this.services.delete(record));
  }

  upsertEndpointSlice(record: EndpointSliceRecord): void {
    this.rebuild(this.slices.upsert(record));
  }

  deleteEndpointSlice(record: EndpointSliceRecord): void {
    this.rebuild(this.slices.delete(record));
  }

  upsertNode(record: NodeRecord): void {
    this.rebuild(this.nodes.upsert(record));
  }

  deleteNode(record: NodeRecord): void {
    this.rebuild(this.nodes.delete(record));
  }

  upsertOwner(kind: IntermediateOwnerKind, record: OwnerRecord): void {
    this.owners.set(ownerKey(kind, record.key), record.owner);
    this.rebuildPodsOwnedBy(ownerKey(kind, record.key));
  }

  deleteOwner(kind: IntermediateOwnerKind, record: OwnerRecord): void {
    if (this.owners.delete(ownerKey(kind, record.key))) this.rebuildPodsOwnedBy(ownerKey(kind, record.key));
  }

  private rebuildPodsOwnedBy(key: string): void {
    for (const slot of this.podsByOwner.get(key) ?? []) this.rebuild(slot.record.ips);
  }

  private attachPod(slot: PodSlot): void {
    for (const ip of slot.record.ips) this.podsByIp.add(ip, slot);
    const owner = podOwnerKey(slot.record);
    if (owner !== undefined) this.podsByOwner.add(owner, slot);
  }

  private detachPod(slot: PodSlot): void {
    for (const ip of slot.record.ips) this.podsByIp.delete(ip, slot);
    const owner = podOwnerKey(slot.record);
    if (owner !== undefined) this.podsByOwner.delete(owner, slot);
  }

  private rebuild(ips: Iterable<string>): void {
    for (const ip of new Set(ips)) {
      const entry = this.buildEntry(ip);
      if (entry === undefined) this.addresses.delete(ip);
      else this.addresses.set(ip, entry);
    }
  }

  private buildEntry(ip: string): AddressEntry | undefined {
    const claimants = [...(this.podsByIp.get(ip) ?? [])].sort(byPrecedence);
    const pod = claimants.findLast((slot) => !slot.record.hostNetwork);
    if (pod !== undefined) return this.podEntry(ip, pod.record);
    const service = first(this.services.at(ip));
    if (service !== undefined) return serviceEntry(service);
    const hostNetworkPods = claimants.filter((slot) => slot.record.hostNetwork);
    const node = first(this.nodes.at(ip))?.name ?? hostNetworkPods.at(-1)?.record.node;
    if (node === undefined) return undefined;
    return this.nodeEntry(ip, node, hostNetworkPods);
  }

  private podEntry(ip: string, pod: PodRecord): AddressEntry {
    const single = pod.containers.length === 1 ? pod.containers[0].name : '';
    const anyPort = this.withAnyPortServices(ip, this.podContext(pod, single));
    const byPort = new Map<number, EndpointContext>();
    if (single === '') this.addContainerPorts(byPort, anyPort, pod, false);
    return this.withPortServices(ip, anyPort, byPort);
  }

  /** A node address, where hostNetwork pods are told apart by the ports they declare. */
  private nodeEntry(ip: string, node: string, hostNetworkPods: readonly PodSlot[]): AddressEntry {
    const anyPort = this.withAnyPortServices(ip, new EndpointContext({ node }));
    const byPort = new Map<number, EndpointContext>();
    // In precedence order, so the newest pod declaring a port wins it.
    for (const slot of hostNetworkPods) this.addContainerPorts(byPort, anyPort, slot.record, true);
    return this.withPortServices(ip, anyPort, byPort);
  }

  private addContainerPorts(byPort: Map<number, EndpointContext>, base: EndpointContext, pod: PodRecord, hostNetwork: boolean): void {
    const podContext = hostNetwork ? base.with(this.podFields(pod)) : base;
    for (const container of pod.containers) {
      const context = podContext.with({ container: container.name });
      for (const { port, protocol, hostPort } of container.ports) {
        byPort.set(portKey(port, protocol), context);
        if (hostNetwork && hostPort !== 0) byPort.set(portKey(hostPort, protocol), context);
      }
    }
  }

  /** Slices without a ports list back their service on every port of the address. */
  private withAnyPortServices(ip: string, base: EndpointContext): EndpointContext {
    let context = base;
    for (const slice of this.slices.at(ip) ?? []) {
      if (slice.ports === undefined) context = context.with(serviceFields(slice.serviceNamespace, slice.serviceName, ''));
    }
    return context;
  }

  private withPortServices(ip: string, anyPort: EndpointContext, byPort: Map<number, EndpointContext>): AddressEntry {
    for (const slice of this.slices.at(ip) ?? []) {
      for (const { port, protocol, name } of slice.ports ?? []) {
        const key = portKey(port, protocol);
        byPort.set(key, (byPort.get(key) ?? anyPort).with(serviceFields(slice.serviceNamespace, slice.serviceName, name)));
      }
    }
    return { anyPort, byPort: byPort.size > 0 ? byPort : undefined };
  }

  private podContext(pod: PodRecord, container: string): EndpointContext {
    return new EndpointContext({ ...this.podFields(pod), container });
  }

  private podFields(pod: PodRecord): Partial<EndpointContextFields> {
    const [workloadKind, workloadName] = this.workloadOf(pod);
    return { pod: pod.name, namespace: pod.namespace, node: pod.node, workloadKind, workloadName };
  }

  /** Walks owner references up to the workload: RS -> Deployment, Job -> CronJob. */
  private workloadOf(pod: PodRecord): [WorkloadKind, string] {
    const owner = pod.owner;
    if (owner === undefined || !DIRECT_WORKLOAD_KINDS.has(owner.kind)) return ['Pod', pod.name];
    const kind = owner.kind as WorkloadKind;
    if (kind !== 'ReplicaSet' && kind !== 'Job') return [kind, owner.name];
    const top = this.owners.get(ownerKey(kind, `${pod.namespace}/${owner.name}`));
    return top?.kind === TOP_OWNER_OF[kind] ? [TOP_OWNER_OF[kind], top.name] : [kind, owner.name];
  }
}

function serviceEntry(service: ServiceRecord): AddressEntry {
  const anyPort = new EndpointContext(serviceFields(service.namespace, service.name, ''));
  const byPort = new Map<number, EndpointContext>();
  for (const { port, protocol, name } of service.ports) byPort.set(portKey(port, protocol), anyPort.with({ servicePortName: name }));
  return { anyPort, byPort: byPort.size > 0 ? byPort : undefined };
}

function serviceFields(serviceNamespace: string, serviceName: string, servicePortName: string): Partial<EndpointContextFields> {
  return { serviceNamespace, serviceName, servicePortName };
}

function ownerKey(kind: IntermediateOwnerKind, namespacedName: string): string {
  return `${kind}/${namespacedName}`;
}

function podOwnerKey(pod: PodRecord): string | undefined {
  const kind = pod.owner?.kind;
  return kind === 'ReplicaSet' || kind === 'Job' ? ownerKey(kind, `${pod.namespace}/${pod.owner?.name}`) : undefined;
}

/** Ascending: deleted < terminated < running; older < newer. The best claimant sorts last. */
function byPrecedence(a: PodSlot, b: PodSlot): number {
  return standing(a) - standing(b) || a.arrival - b.arrival;
}

function standing(slot: PodSlot): number {
  if (slot.deletedAtMs !== undefined) return 0;
  return slot.record.terminated ? 1 : 2;
}

function first<T>(values: ReadonlySet<T> | undefined): T | undefined {
  if (values === undefined) return undefined;
  for (const value of values) return value;
  return undefined;
}

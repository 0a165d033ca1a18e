import { isIPv4, isIPv6 } from 'node:net';

/**
 * The lean shapes the cache keeps: each API object is converted to one of these
 * on arrival and the object itself is dropped. A real pod is 5–15 KB of JSON
 * (managedFields, env, volumes); its record is a few hundred bytes.
 *
 * Converters accept `unknown` on purpose: watch events are raw JSON and list items
 * are client-node model instances; both carry the same field names. A malformed
 * object yields a `problem` instead of a record and never throws.
 */

/** Every cached record: its cache key (namespace/name or name) and resourceVersion. */
export interface CachedRecord {
  readonly key: string;
  readonly resourceVersion: string;
}

/** IANA protocol numbers of the Kubernetes protocol names (Kubernetes defaults to TCP). */
const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = { TCP: 6, UDP: 17, SCTP: 132 };

export interface ContainerPortRecord {
  readonly port: number;
  /** IANA protocol number. */
  readonly protocol: number;
  /** 0 when the port is not exposed on the node. */
  readonly hostPort: number;
}

export interface ContainerRecord {
  readonly name: string;
  readonly ports: readonly ContainerPortRecord[];
}

/** A controller owner reference: the next step up the workload chain. */
export interface OwnerReference {
  readonly kind: string;
  readonly name: string;
}

export interface PodRecord extends CachedRecord {
  readonly namespace: string;
  readonly name: string;
  /** Tells a pod recreated under the same name (StatefulSet) from the one it replaces. */
  readonly uid: string;
  readonly node: string;
  readonly hostNetwork: boolean;
  /** Canonical addresses from status.podIPs (or status.podIP); empty while pending. */
  readonly ips: readonly string[];
  readonly containers: readonly ContainerRecord[];
  readonly owner: OwnerReference | undefined;
  /** Succeeded or Failed: its address may already belong to another pod. */
  readonly terminated: boolean;
}

export interface ServicePortRecord {
  readonly port: number;
  readonly protocol: number;
  readonly name: string;
}

export interface ServiceRecord extends CachedRecord {
  readonly namespace: string;
  readonly name: string;
  /** Canonical ClusterIPs; empty for headless and ExternalName services. */
  readonly clusterIPs: readonly string[];
  readonly ports: readonly ServicePortRecord[];
}

export interface EndpointSliceRecord extends CachedRecord {
  readonly serviceNamespace: string;
  readonly serviceName: string;
  /** Canonical backend addresses. */
  readonly addresses: readonly string[];
  /** Ports the backends serve (target ports); undefined means every port. */
  readonly ports: readonly ServicePortRecord[] | undefined;
}

export interface NodeRecord extends CachedRecord {
  readonly name: string;
  readonly internalIPs: readonly string[];
}

/** A ReplicaSet or Job: all that matters is who owns it. */
export interface OwnerRecord extends CachedRecord {
  readonly owner: OwnerReference | undefined;
}

/** A namespace is known by its key alone. */
export type NamespaceRecord = CachedRecord;

export type Conversion<R> = { readonly record: R } | { readonly problem: string };

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) > 0 && (value as number) <= 65535;
}

/** The text form flows use: IPv4 dotted quad, IPv6 compressed lowercase (RFC 5952). */
export function canonicalIp(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (isIPv4(value)) return value;
  if (isIPv6(value) && !value.includes('%')) return new URL(`http://[${value}]`).hostname.slice(1, -1);
  return undefined;
}

function protocolNumber(value: unknown): number | undefined {
  return value === undefined || value === null ? PROTOCOL_NUMBERS.TCP : PROTOCOL_NUMBERS[value as string];
}

/** The identity every event carries, even a DELETED one with a trimmed body. */
export interface ObjectIdentity {
  readonly key: string;
  readonly resourceVersion: string;
}

export function objectIdentity(object: unknown, namespaced: boolean): ObjectIdentity | { problem: string } {
  const metadata = isObject(object) ? object.metadata : undefined;
  if (!isObject(metadata)) return { problem: 'missing metadata' };
  const name = nonEmptyString(metadata.name);
  if (name === undefined) return { problem: 'missing metadata.name' };
  const resourceVersion = typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : '';
  if (!namespaced) return { key: name, resourceVersion };
  const namespace = nonEmptyString(metadata.namespace);
  if (namespace === undefined) return { problem: 'missing metadata.namespace' };
  return { key: `${namespace}/${name}`, resourceVersion };
}

function controllerOf(metadata: Json): OwnerReference | undefined {
  const controller = arrayOf(metadata.ownerReferences).find((ref) => isObject(ref) && ref.controller === true);
  if (!isObject(controller)) return undefined;
  const kind = nonEmptyString(controller.kind);
  const name = nonEmptyString(controller.name);
  return kind !== undefined && name !== undefined ? { kind, name } : undefined;
}

/** Addresses from a list of `{ ip }` (podIPs) or plain strings; a bad one fails the whole object. */
function canonicalIps(values: readonly unknown[], field: string): string[] | { problem: string } {
  const ips: string[] = [];
  for (const value of values) {
    const ip = canonicalIp(isObject(value) ? value.ip : value);
    if (ip === undefined) return { problem: `bad address in ${field}` };
    if (!ips.includes(ip)) ips.push(ip);
  }
  return ips;
}

function containerRecord(container: unknown): ContainerRecord | undefined {
  if (!isObject(container)) return undefined;
  const name = nonEmptyString(container.name);
  if (name === undefined) return undefined;
  const ports: ContainerPortRecord[] = [];
  for (const port of arrayOf(container.ports)) {
    if (!isObject(port) || !isPort(port.containerPort)) return undefined;
    const protocol = protocolNumber(port.protocol);
    if (protocol === undefined) return undefined;
    ports.push({ port: port.containerPort, protocol, hostPort: isPort(port.hostPort) ? port.hostPort : 0 });
  }
  return { name, ports };
}

export function toPodRecord(object: unknown): Conversion<PodRecord> {
  const identity = objectIdentity(object, true);
  if ('problem' in identity) return identity;
  const { metadata, spec, status } = object as Json;
  const meta = metadata as Json;
  const specObject = isObject(spec) ? spec : {};
  const statusObject = isObject(status) ? status : {};
  const podIPs = arrayOf(statusObject.podIPs);
  const ips = canonicalIps(podIPs.length > 0 ? podIPs : statusObject.podIP ? [statusObject.podIP] : [], 'status.podIPs');
  if ('problem' in ips) return ips;
  const containers: ContainerRecord[] = [];
  for (const container of arrayOf(specObject.containers)) {
    const record = containerRecord(container);
    if (record === undefined) return { problem: 'bad spec.containers entry' };
    containers.push(record);
  }
  return {
    record: {
      ...identity,
      namespace: meta.namespace as string,
      name: meta.name as string,
      uid: typeof meta.uid === 'string' ? meta.uid : '',
      node: typeof specObject.nodeName === 'string' ? specObject.nodeName : '',
      hostNetwork: specObject.hostNetwork === true,
      ips,
      containers,
      owner: controllerOf(meta),
      terminated: statusObject.phase === 'Succeeded' || statusObject.phase === 'Failed',
    },
  };
}

/** Service ports and EndpointSlice ports share this shape: { name, port, protocol }. */
function servicePorts(values: readonly unknown[]): ServicePortRecord[] | undefined {
  const ports: ServicePortRecord[] = [];
  for (const value of values) {
    if (!isObject(value) || !isPort(value.port)) return undefined;
    const protocol = protocolNumber(value.protocol);
    if (protocol === undefined) return undefined;
    ports.push({ port: value.port, protocol, name: typeof value.name === 'string' ? value.name : '' });
  }
  return ports;
}

export function toServiceRecord(object: unknown): Conversion<ServiceRecord> {
  const identity = objectIdentity(object, true);
  if ('problem' in identity) return identity;
  const { metadata, spec } = object as Json;
  const meta = metadata as Json;
  const specObject = isObject(spec) ? spec : {};
  const declared = arrayOf(specObject.clusterIPs).length > 0 ? arrayOf(specObject.clusterIPs) : [specObject.clusterIP];
  // "None" (headless) and "" (ExternalName) are valid and mean: no virtual address.
  const addresses = declared.filter((ip) => ip !== undefined && ip !== null && ip !== '' && ip !== 'None');
  const clusterIPs = canonicalIps(addresses, 'spec.clusterIPs');
  if ('problem' in clusterIPs) return clusterIPs;
  const ports = servicePorts(arrayOf(specObject.ports));
  if (ports === undefined) return { problem: 'bad spec.ports entry' };
  return { record: { ...identity, namespace: meta.namespace as string, name: meta.name as string, clusterIPs, ports } };
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export function toEndpointSliceRecord(object: unknown): Conversion<EndpointSliceRecord> {
  const identity = objectIdentity(object, true);
  if ('problem' in identity) return identity;
  const { metadata, addressType, endpoints, ports } = object as Json;
  const meta = metadata as Json;
  const serviceName = isObject(meta.labels) ? nonEmptyString(meta.labels[SERVICE_NAME_LABEL]) : undefined;
  // Slices not managed for a service (no label) or of FQDN type name nothing we can index.
  const indexable = serviceName !== undefined && (addressType === 'IPv4' || addressType === 'IPv6');
  const addresses = indexable ? canonicalIps(arrayOf(endpoints).flatMap((endpoint) => (isObject(endpoint) ? arrayOf(endpoint.addresses) : [undefined])), 'endpoints[].addresses') : [];
  if ('problem' in addresses) return addresses;
  // Kubernetes: a nil ports list means every port, an empty one means none.
  const slicePorts = ports === undefined || ports === null ? undefined : servicePorts(arrayOf(ports));
  if (ports !== undefined && ports !== null && slicePorts === undefined) return { problem: 'bad ports entry' };
  return {
    record: { ...identity, serviceNamespace: meta.namespace as string, serviceName: serviceName ?? '', addresses, ports: slicePorts },
  };
}

export function toNodeRecord(object: unknown): Conversion<NodeRecord> {
  const identity = objectIdentity(object, false);
  if ('problem' in identity) return identity;
  const { status } = object as Json;
  const internal = arrayOf(isObject(status) ? status.addresses : undefined)
    .filter((address) => isObject(address) && address.type === 'InternalIP')
    .map((address) => (address as Json).address);
  const internalIPs = canonicalIps(internal, 'status.addresses');
  if ('problem' in internalIPs) return internalIPs;
  return { record: { ...identity, name: identity.key, internalIPs } };
}

export function toOwnerRecord(object: unknown): Conversion<OwnerRecord> {
  const identity = objectIdentity(object, true);
  if ('problem' in identity) return identity;
  return { record: { ...identity, owner: controllerOf((object as Json).metadata as Json) } };
}

export function toNamespaceRecord(object: unknown): Conversion<NamespaceRecord> {
  const identity = objectIdentity(object, false);
  return 'problem' in identity ? identity : { record: identity };
}

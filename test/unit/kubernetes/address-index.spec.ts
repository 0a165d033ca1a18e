import { AddressIndex } from '../../../src/adapters/kubernetes/address-index.js';
import {
  toEndpointSliceRecord,
  toNodeRecord,
  toOwnerRecord,
  toPodRecord,
  toServiceRecord,
  type Conversion,
} from '../../../src/adapters/kubernetes/kubernetes-records.js';
import type { EndpointContextFields } from '../../../src/domain/kubernetes/endpoint-context.js';
import {
  endpointSliceObject,
  nodeObject,
  ownedObject,
  podObject,
  serviceObject,
  type PodSpec,
} from '../../fakes/kubernetes-objects.js';

const TCP = 6;
const UDP = 17;
const GRACE_MS = 60_000;

function record<R>(conversion: Conversion<R>): R {
  if ('problem' in conversion) throw new Error(`fixture rejected: ${conversion.problem}`);
  return conversion.record;
}

const pod = (spec: PodSpec) => record(toPodRecord(podObject(spec)));

/** Fields of a lookup result, without the empty ones, so expectations read like the rule. */
function resolve(index: AddressIndex, ip: string, port = 40000, protocol = TCP): Partial<EndpointContextFields> | undefined {
  const context = index.lookup({ ip, port, protocol });
  if (context === undefined) return undefined;
  return Object.fromEntries(Object.entries(context).filter(([, value]) => value !== ''));
}

/**
 * A small cluster: two nodes, a Deployment "web" (multi-container) behind service
 * "web", a dual-stack client pod, a hostNetwork DaemonSet pod and a ClusterIP.
 */
function cluster(): AddressIndex {
  const index = new AddressIndex(GRACE_MS);
  index.upsertNode(record(toNodeRecord(nodeObject('node-a', ['192.168.0.10', 'fd00:192::10']))));
  index.upsertNode(record(toNodeRecord(nodeObject('node-b', ['192.168.0.11']))));
  index.upsertOwner('ReplicaSet', record(toOwnerRecord(ownedObject('ReplicaSet', 'web-5d8f', { kind: 'Deployment', name: 'web' }))));
  index.upsertPod(
    pod({
      name: 'web-5d8f-abcde',
      ips: ['10.244.1.5', 'fd00:10:244:1::5'],
      node: 'node-b',
      owner: { kind: 'ReplicaSet', name: 'web-5d8f' },
      containers: [
        { name: 'app', ports: [{ containerPort: 8080 }, { containerPort: 8125, protocol: 'UDP' }] },
        { name: 'sidecar', ports: [{ containerPort: 15090 }] },
      ],
    }),
    0,
  );
  index.upsertPod(pod({ name: 'client', ips: ['10.244.0.7', 'FD00:10:244:0:0:0:0:7'], node: 'node-a' }), 0);
  index.upsertPod(
    pod({
      name: 'agent-x1',
      namespace: 'kube-system',
      ips: ['192.168.0.10', 'fd00:192::10'],
      node: 'node-a',
      hostNetwork: true,
      owner: { kind: 'DaemonSet', name: 'agent' },
      containers: [{ name: 'agent', ports: [{ containerPort: 9100, hostPort: 9100 }] }],
    }),
    0,
  );
  index.upsertService(
    record(
      toServiceRecord(
        serviceObject({ name: 'web', clusterIPs: ['10.96.0.20', 'fd00:96::20'], ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'metrics', port: 8125, protocol: 'UDP' }] }),
      ),
    ),
  );
  index.upsertEndpointSlice(
    record(toEndpointSliceRecord(endpointSliceObject({ name: 'web-abc', service: 'web', addresses: ['10.244.1.5'], ports: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 8125, protocol: 'UDP' }] }))),
  );
  index.upsertEndpointSlice(
    record(toEndpointSliceRecord(endpointSliceObject({ name: 'web-v6', service: 'web', addressType: 'IPv6', addresses: ['fd00:10:244:1::5'], ports: [{ name: 'http', port: 8080 }] }))),
  );
  return index;
}

const client = { pod: 'client', namespace: 'default', node: 'node-a', container: 'main', workloadKind: 'Pod', workloadName: 'client' };
const web = { pod: 'web-5d8f-abcde', namespace: 'default', node: 'node-b', workloadKind: 'Deployment', workloadName: 'web' };

describe('AddressIndex: resolution of each end of a flow', () => {
  const index = cluster();

  test.each([
    ['pod -> pod IPv4, client end (ephemeral port)', '10.244.0.7', 51000, TCP, client],
    ['pod -> pod IPv6, client end', 'fd00:10:244::7', 51000, TCP, client],
    ['pod IPv6 written uncompressed in the API resolves by its canonical form', 'fd00:10:244::7', 1, UDP, client],
    ['pod -> ClusterIP before DNAT: service and port name', '10.96.0.20', 80, TCP, { serviceName: 'web', serviceNamespace: 'default', servicePortName: 'http' }],
    ['pod -> IPv6 ClusterIP', 'fd00:96::20', 8125, UDP, { serviceName: 'web', serviceNamespace: 'default', servicePortName: 'metrics' }],
    ['ClusterIP on an undeclared port: the service without a port name', '10.96.0.20', 443, TCP, { serviceName: 'web', serviceNamespace: 'default' }],
    ['service backend after DNAT: pod, container by port, service by EndpointSlice', '10.244.1.5', 8080, TCP, { ...web, container: 'app', serviceName: 'web', serviceNamespace: 'default', servicePortName: 'http' }],
    ['backend UDP port picks the UDP service port', '10.244.1.5', 8125, UDP, { ...web, container: 'app', serviceName: 'web', serviceNamespace: 'default', servicePortName: 'metrics' }],
    ['backend over IPv6', 'fd00:10:244:1::5', 8080, TCP, { ...web, container: 'app', serviceName: 'web', serviceNamespace: 'default', servicePortName: 'http' }],
    ['multi-container pod: the port names the sidecar', '10.244.1.5', 15090, TCP, { ...web, container: 'sidecar' }],
    ['multi-container pod: an undeclared port names no container', '10.244.1.5', 51000, TCP, web],
    ['protocol matters for containerPort: 8080/UDP is not declared', '10.244.1.5', 8080, UDP, web],
    ['hostNetwork pod: node address + its declared port -> the pod', '192.168.0.10', 9100, TCP, { pod: 'agent-x1', namespace: 'kube-system', node: 'node-a', container: 'agent', workloadKind: 'DaemonSet', workloadName: 'agent' }],
    ['hostNetwork pod over IPv6', 'fd00:192::10', 9100, TCP, { pod: 'agent-x1', namespace: 'kube-system', node: 'node-a', container: 'agent', workloadKind: 'DaemonSet', workloadName: 'agent' }],
    ['node address on another port -> the node only', '192.168.0.10', 22, TCP, { node: 'node-a' }],
    ['node without hostNetwork pods', '192.168.0.11', 10250, TCP, { node: 'node-b' }],
  ])('%s', (_case, ip, port, protocol, expected) => {
    expect(resolve(index, ip, port, protocol)).toEqual(expected);
  });

  test('an external address is unknown', () => {
    expect(index.lookup({ ip: '203.0.113.9', port: 443, protocol: TCP })).toBeUndefined();
    expect(index.lookup({ ip: '2001:db8::1', port: 443, protocol: TCP })).toBeUndefined();
  });
});

describe('AddressIndex: workload kind of each kind of owner', () => {
  const index = new AddressIndex(GRACE_MS);
  index.upsertOwner('ReplicaSet', record(toOwnerRecord(ownedObject('ReplicaSet', 'api-7c9', { kind: 'Deployment', name: 'api' }))));
  index.upsertOwner('ReplicaSet', record(toOwnerRecord(ownedObject('ReplicaSet', 'bare-rs'))));
  index.upsertOwner('Job', record(toOwnerRecord(ownedObject('Job', 'backup-2905', { kind: 'CronJob', name: 'backup' }))));
  index.upsertOwner('Job', record(toOwnerRecord(ownedObject('Job', 'migrate'))));
  const owners: Array<[string, PodSpec['owner'], string, string]> = [
    ['10.244.2.1', { kind: 'ReplicaSet', name: 'api-7c9' }, 'Deployment', 'api'],
    ['10.244.2.2', { kind: 'StatefulSet', name: 'db' }, 'StatefulSet', 'db'],
    ['10.244.2.3', { kind: 'DaemonSet', name: 'logs' }, 'DaemonSet', 'logs'],
    ['10.244.2.4', { kind: 'Job', name: 'backup-2905' }, 'CronJob', 'backup'],
    ['10.244.2.5', { kind: 'Job', name: 'migrate' }, 'Job', 'migrate'],
    ['10.244.2.6', { kind: 'ReplicaSet', name: 'bare-rs' }, 'ReplicaSet', 'bare-rs'],
    ['10.244.2.7', undefined, 'Pod', 'pod-10.244.2.7'],
    ['10.244.2.8', { kind: 'Node', name: 'node-a' }, 'Pod', 'pod-10.244.2.8'],
  ];
  for (const [ip, owner] of owners) index.upsertPod(pod({ name: `pod-${ip}`, ips: [ip], owner }), 0);

  test.each(owners)('%s owned by %j is a %s named %s', (ip, _owner, kind, name) => {
    expect(resolve(index, ip)).toMatchObject({ workloadKind: kind, workloadName: name });
  });

  test('a pod seen before its ReplicaSet is re-resolved when the ReplicaSet arrives', () => {
    index.upsertPod(pod({ name: 'late-1', ips: ['10.244.3.1'], owner: { kind: 'ReplicaSet', name: 'late-6f5' } }), 0);
    expect(resolve(index, '10.244.3.1')).toMatchObject({ workloadKind: 'ReplicaSet', workloadName: 'late-6f5' });
    index.upsertOwner('ReplicaSet', record(toOwnerRecord(ownedObject('ReplicaSet', 'late-6f5', { kind: 'Deployment', name: 'late' }))));
    expect(resolve(index, '10.244.3.1')).toMatchObject({ workloadKind: 'Deployment', workloadName: 'late' });
  });
});

describe('AddressIndex: deleted pods and address reuse', () => {
  test('a deleted pod resolves within the grace period and not after it', () => {
    const index = new AddressIndex(GRACE_MS);
    const gone = pod({ name: 'gone', ips: ['10.244.4.1'] });
    index.upsertPod(gone, 0);
    index.deletePod(gone, 1_000);
    index.expire(1_000 + GRACE_MS - 1);
    expect(resolve(index, '10.244.4.1')).toMatchObject({ pod: 'gone' });
    index.expire(1_000 + GRACE_MS);
    expect(index.lookup({ ip: '10.244.4.1', port: 80, protocol: TCP })).toBeUndefined();
    expect(index.sizes()).toMatchObject({ addresses: 0, livePods: 0, deletedPods: 0 });
  });

  test('a new pod that reuses the address wins over the deleted one, and keeps it after expiry', () => {
    const index = new AddressIndex(GRACE_MS);
    const old = pod({ name: 'old', ips: ['10.244.4.2'] });
    index.upsertPod(old, 0);
    index.deletePod(old, 10);
    index.upsertPod(pod({ name: 'new', ips: ['10.244.4.2'] }), 20);
    expect(resolve(index, '10.244.4.2')).toMatchObject({ pod: 'new' });
    index.expire(10 + GRACE_MS);
    expect(resolve(index, '10.244.4.2')).toMatchObject({ pod: 'new' });
  });

  test('a running pod wins over a completed pod that still holds the address', () => {
    const index = new AddressIndex(GRACE_MS);
    index.upsertPod(pod({ name: 'new', ips: ['10.244.4.3'] }), 0);
    index.upsertPod(pod({ name: 'done', ips: ['10.244.4.3'], phase: 'Succeeded' }), 0);
    expect(resolve(index, '10.244.4.3')).toMatchObject({ pod: 'new' });
  });

  test('a pod recreated under the same name (new uid) replaces the old one; the old address lingers for the grace period', () => {
    const index = new AddressIndex(GRACE_MS);
    index.upsertPod(pod({ name: 'db-0', ips: ['10.244.5.1'], uid: 'a' }), 0);
    index.upsertPod(pod({ name: 'db-0', ips: ['10.244.5.2'], uid: 'b' }), 5);
    expect(resolve(index, '10.244.5.2')).toMatchObject({ pod: 'db-0' });
    expect(resolve(index, '10.244.5.1')).toMatchObject({ pod: 'db-0' });
    index.expire(5 + GRACE_MS);
    expect(index.lookup({ ip: '10.244.5.1', port: 1, protocol: TCP })).toBeUndefined();
    expect(index.sizes()).toMatchObject({ livePods: 1, deletedPods: 0, addresses: 1 });
  });

  test('a pod that gets its address later (pending -> running) becomes resolvable', () => {
    const index = new AddressIndex(GRACE_MS);
    index.upsertPod(pod({ name: 'p', uid: 'u' }), 0);
    expect(index.sizes().addresses).toBe(0);
    index.upsertPod(pod({ name: 'p', uid: 'u', ips: ['10.244.6.1'] }), 1);
    expect(resolve(index, '10.244.6.1')).toMatchObject({ pod: 'p' });
  });

  test('removing services, slices and nodes empties the index', () => {
    const index = cluster();
    const before = index.sizes();
    expect(before.addresses).toBeGreaterThan(0);
    index.deleteService(record(toServiceRecord(serviceObject({ name: 'web', clusterIPs: [] }))));
    index.deleteEndpointSlice(record(toEndpointSliceRecord(endpointSliceObject({ name: 'web-abc', service: 'web', addresses: [] }))));
    index.deleteEndpointSlice(record(toEndpointSliceRecord(endpointSliceObject({ name: 'web-v6', service: 'web', addresses: [] }))));
    expect(resolve(index, '10.244.1.5', 8080)).toEqual({ ...web, container: 'app' });
    expect(index.lookup({ ip: '10.96.0.20', port: 80, protocol: TCP })).toBeUndefined();
    for (const name of ['web-5d8f-abcde', 'client']) index.deletePod(pod({ name }), 0);
    index.deletePod(pod({ name: 'agent-x1', namespace: 'kube-system' }), 0);
    index.expire(GRACE_MS);
    index.deleteNode(record(toNodeRecord(nodeObject('node-a', []))));
    index.deleteNode(record(toNodeRecord(nodeObject('node-b', []))));
    expect(index.sizes()).toEqual({ addresses: 0, livePods: 0, deletedPods: 0, services: 0, endpointSlices: 0, nodes: 0, owners: 1 });
  });
});

describe('AddressIndex: EndpointSlice without ports', () => {
  test('a nil ports list backs the service on every port of the address', () => {
    const index = new AddressIndex(GRACE_MS);
    index.upsertPod(pod({ name: 'headless-0', ips: ['10.244.7.1'] }), 0);
    index.upsertEndpointSlice(record(toEndpointSliceRecord(endpointSliceObject({ name: 'h', service: 'headless', addresses: ['10.244.7.1'] }))));
    expect(resolve(index, '10.244.7.1', 1234)).toEqual({
      pod: 'headless-0',
      namespace: 'default',
      node: 'node-a',
      container: 'main',
      workloadKind: 'Pod',
      workloadName: 'headless-0',
      serviceName: 'headless',
      serviceNamespace: 'default',
    });
  });
});

import {
  canonicalIp,
  toEndpointSliceRecord,
  toNodeRecord,
  toPodRecord,
  toServiceRecord,
} from '../../../src/adapters/kubernetes/kubernetes-records.js';
import { endpointSliceObject, nodeObject, podObject, serviceObject, withRealisticBulk } from '../../fakes/kubernetes-objects.js';

describe('lean records from API objects', () => {
  test('a pod keeps only what enrichment needs', () => {
    const object = withRealisticBulk(
      podObject({
        name: 'web-1',
        namespace: 'shop',
        uid: 'u1',
        ips: ['10.244.1.5', 'fd00::5'],
        node: 'node-b',
        owner: { kind: 'ReplicaSet', name: 'web-5d8f' },
        containers: [{ name: 'app', ports: [{ containerPort: 8080 }, { containerPort: 53, protocol: 'UDP', hostPort: 1053 }] }],
      }),
      8000,
    );
    object.metadata.resourceVersion = '42';
    expect(toPodRecord(object)).toEqual({
      record: {
        key: 'shop/web-1',
        resourceVersion: '42',
        namespace: 'shop',
        name: 'web-1',
        uid: 'u1',
        node: 'node-b',
        hostNetwork: false,
        ips: ['10.244.1.5', 'fd00::5'],
        containers: [{ name: 'app', ports: [{ port: 8080, protocol: 6, hostPort: 0 }, { port: 53, protocol: 17, hostPort: 1053 }] }],
        owner: { kind: 'ReplicaSet', name: 'web-5d8f' },
        terminated: false,
      },
    });
  });

  test('a pending pod without an address is valid', () => {
    expect(toPodRecord(podObject({ name: 'pending' }))).toMatchObject({ record: { ips: [] } });
  });

  test('headless and ExternalName services have no ClusterIP', () => {
    const headless = serviceObject({ name: 'h', clusterIPs: ['None'] });
    const external = { ...serviceObject({ name: 'e', clusterIPs: [] }), spec: { type: 'ExternalName', externalName: 'db.example.com' } };
    expect(toServiceRecord(headless)).toMatchObject({ record: { clusterIPs: [] } });
    expect(toServiceRecord(external)).toMatchObject({ record: { clusterIPs: [], ports: [] } });
  });

  test('FQDN EndpointSlices index no address', () => {
    const fqdn = endpointSliceObject({ name: 's', service: 'ext', addressType: 'FQDN', addresses: ['db.example.com'], ports: [{ port: 5432 }] });
    expect(toEndpointSliceRecord(fqdn)).toMatchObject({ record: { addresses: [], serviceName: 'ext' } });
  });

  test.each([
    ['null', null],
    ['a string', 'pod'],
    ['no metadata', { kind: 'Pod' }],
    ['no name', { metadata: { namespace: 'default' } }],
    ['empty name', { metadata: { name: '', namespace: 'default' } }],
    ['no namespace', { metadata: { name: 'p' } }],
    ['a bad pod IP', podObject({ name: 'p', ips: ['10.244.1.300'] })],
    ['an IP with a zone', podObject({ name: 'p', ips: ['fe80::1%eth0'] })],
    ['a non-string pod IP', { ...podObject({ name: 'p' }), status: { podIPs: [{ ip: 42 }] } }],
    ['a container without a name', podObject({ name: 'p', containers: [{ name: '' }] })],
    ['a container port out of range', podObject({ name: 'p', containers: [{ name: 'c', ports: [{ containerPort: 70000 }] }] })],
    ['an unknown protocol', podObject({ name: 'p', containers: [{ name: 'c', ports: [{ containerPort: 80, protocol: 'QUIC' }] }] })],
  ])('a pod with %s is rejected, not thrown', (_case, object) => {
    expect(toPodRecord(object)).toHaveProperty('problem');
  });

  test.each([
    ['a bad ClusterIP', () => toServiceRecord(serviceObject({ name: 's', clusterIPs: ['10.96.0.999'] }))],
    ['a port without a number', () => toServiceRecord({ ...serviceObject({ name: 's', clusterIPs: ['10.96.0.1'] }), spec: { clusterIP: '10.96.0.1', ports: [{ name: 'x' }] } })],
    ['a bad endpoint address', () => toEndpointSliceRecord(endpointSliceObject({ name: 's', service: 'x', addresses: ['not-an-ip'] }))],
    ['a bad node address', () => toNodeRecord(nodeObject('n', ['300.1.1.1']))],
    ['a node without a name', () => toNodeRecord({ metadata: {} })],
  ])('%s is rejected', (_case, convert) => {
    expect(convert()).toHaveProperty('problem');
  });

  test.each([
    ['10.0.0.1', '10.0.0.1'],
    ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['010.0.0.1', undefined],
    ['', undefined],
  ])('canonicalIp(%j) = %j', (input, expected) => {
    expect(canonicalIp(input)).toBe(expected);
  });
});

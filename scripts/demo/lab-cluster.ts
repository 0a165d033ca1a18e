import { endpointSliceObject, namespaceObject, nodeObject, ownedObject, podObject, serviceObject } from '../../test/fakes/kubernetes-objects.js';
import type { KubeObject } from '../../test/fakes/fake-kube-api.server.js';
import type { Lab, LabPod, LabService } from '../../test/lab/lab.js';
import type { DemoCast } from './demo-streams.js';

/** The node the exporter runs on (NODE_NAME) and the lab API server's Node. */
export const LAB_NODE = 'lab-node';

export interface ApiObject {
  readonly resource: string;
  readonly object: KubeObject;
}

/**
 * The lab as Kubernetes objects, with its real addresses: the node, the
 * namespaces, a pod per lab pod with its owners (ReplicaSet -> Deployment, or a
 * StatefulSet), and each Service with its EndpointSlices (one per address family,
 * as the EndpointSlice controller makes them). Served to the exporter by the lab
 * API server, so the demo's flows carry names at both ends.
 */
export function labClusterObjects(lab: Lab, cast: DemoCast): ApiObject[] {
  const pod = (labPod: LabPod, name: string, namespace: string, owner: { kind: string; name: string }): ApiObject => ({
    resource: 'pods',
    object: podObject({ name, namespace, ips: [labPod.ipv4, labPod.ipv6], node: LAB_NODE, owner, containers: [{ name: name.split('-')[0] }] }),
  });
  const service = (labService: LabService, namespace: string, portName: string): ApiObject[] => {
    const ports = labService.ports.map(({ protocol, port, targetPort }) => ({ name: portName, port, targetPort, protocol: protocol.toUpperCase() }));
    const endpointPorts = labService.ports.map(({ protocol, targetPort }) => ({ name: portName, port: targetPort, protocol: protocol.toUpperCase() }));
    return [
      { resource: 'services', object: serviceObject({ name: labService.name, namespace, clusterIPs: [labService.clusterIpv4, labService.clusterIpv6], ports }) },
      ...([['IPv4', labService.backend.ipv4], ['IPv6', labService.backend.ipv6]] as const).map(([addressType, address]) => ({
        resource: 'endpointslices',
        object: endpointSliceObject({ name: `${labService.name}-${addressType.toLowerCase()}`, service: labService.name, namespace, addressType, addresses: [address], ports: endpointPorts }),
      })),
    ];
  };
  const gateway = lab.podList[0].ipv4.replace(/\.\d+$/, '.1');
  return [
    { resource: 'nodes', object: nodeObject(LAB_NODE, [gateway]) },
    ...['shop', 'kube-system'].map((name) => ({ resource: 'namespaces', object: namespaceObject(name) })),
    { resource: 'replicasets', object: ownedObject('ReplicaSet', 'frontend-7c9d8b5f4', { kind: 'Deployment', name: 'frontend' }, 'shop') },
    { resource: 'replicasets', object: ownedObject('ReplicaSet', 'coredns-5d78c9869d', { kind: 'Deployment', name: 'coredns' }, 'kube-system') },
    pod(cast.frontend, 'frontend-7c9d8b5f4-x2x7k', 'shop', { kind: 'ReplicaSet', name: 'frontend-7c9d8b5f4' }),
    pod(cast.cart, 'cart-0', 'shop', { kind: 'StatefulSet', name: 'cart' }),
    pod(cast.coredns, 'coredns-5d78c9869d-q4hzl', 'kube-system', { kind: 'ReplicaSet', name: 'coredns-5d78c9869d' }),
    ...service(cast.cartService, 'shop', 'http'),
    ...service(cast.dnsService, 'kube-system', 'dns'),
  ];
}

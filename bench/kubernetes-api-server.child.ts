import { FakeKubeApiServer } from '../test/fakes/fake-kube-api.server.js';
import {
  endpointSliceObject,
  namespaceObject,
  nodeObject,
  ownedObject,
  podObject,
  serviceObject,
  withRealisticBulk,
} from '../test/fakes/kubernetes-objects.js';

/**
 * The API server side of the Kubernetes benchmark, in its own process so that the
 * served objects do not count in the measured heap. Sends { port } when ready.
 */
export const SCALE = { pods: 10_000, services: 2_000, nodes: 50, namespaces: 20, objectBytes: 8_000 };

export function podIp(i: number): string {
  return `10.244.${i >> 8}.${i & 255}`;
}

export function serviceIp(i: number): string {
  return `10.96.${i >> 8}.${i & 255}`;
}

export function nodeIp(i: number): string {
  return `192.168.0.${i + 10}`;
}

export const PODS_PER_SERVICE = SCALE.pods / SCALE.services;
export const SERVICE_PORT = 80;
export const TARGET_PORT = 8080;

function populate(server: FakeKubeApiServer): void {
  const namespaceOf = (i: number) => `team-${i % SCALE.namespaces}`;
  for (let n = 0; n < SCALE.namespaces; n++) server.apply('namespaces', namespaceObject(`team-${n}`));
  for (let n = 0; n < SCALE.nodes; n++) server.apply('nodes', nodeObject(`node-${n}`, [nodeIp(n)]));
  for (let s = 0; s < SCALE.services; s++) {
    const namespace = namespaceOf(s);
    const app = `app-${s}`;
    server.apply('replicasets', ownedObject('ReplicaSet', `${app}-5d8f`, { kind: 'Deployment', name: app }, namespace));
    server.apply(
      'services',
      withRealisticBulk(serviceObject({ name: app, namespace, clusterIPs: [serviceIp(s)], ports: [{ name: 'http', port: SERVICE_PORT, targetPort: TARGET_PORT }] }), SCALE.objectBytes),
    );
    const podIndexes = Array.from({ length: PODS_PER_SERVICE }, (_, k) => s * PODS_PER_SERVICE + k);
    server.apply('endpointslices', endpointSliceObject({ name: `${app}-abcde`, namespace, service: app, addresses: podIndexes.map(podIp), ports: [{ name: 'http', port: TARGET_PORT }] }));
    for (const i of podIndexes) {
      const pod = podObject({
        name: `${app}-5d8f-${i}`,
        namespace,
        ips: [podIp(i)],
        node: `node-${i % SCALE.nodes}`,
        owner: { kind: 'ReplicaSet', name: `${app}-5d8f` },
        containers: [{ name: 'app', ports: [{ containerPort: TARGET_PORT }] }, { name: 'proxy', ports: [{ containerPort: 15001 }] }],
      });
      server.apply('pods', withRealisticBulk(pod, SCALE.objectBytes));
    }
  }
}

async function main(): Promise<void> {
  const server = new FakeKubeApiServer();
  populate(server);
  await server.start();
  process.send?.({ port: server.port, podJsonBytes: JSON.stringify(server.objects('pods')[0]).length });
  process.on('disconnect', () => void server.stop().then(() => process.exit(0)));
}

if (require.main === module) void main();

/**
 * The lab API server: FakeKubeApiServer (list/watch), metrics.k8s.io and Leases,
 * run inside the lab's node namespace so the exporter reaches it on that
 * namespace's loopback. Serves the vitals engineer's lab cluster (workloads,
 * Jobs, a CronJob, an HPA, usage) plus the objects on stdin (one JSON array of
 * { resource, object }: the lab's own pods and Services, see lab-cluster.ts).
 * Prints "listening <url>"; SIGTERM stops it.
 */
import { text } from 'node:stream/consumers';
import { FakeKubeApiServer } from '../../test/fakes/fake-kube-api.server.js';
import { FakeLeaseApi } from '../../test/fakes/fake-lease-api.js';
import { FakeMetricsApi } from '../../test/fakes/fake-metrics-api.js';
import { loadLabVitalsCluster } from '../../test/fakes/vitals-objects.js';
import { LAB_NODE, type ApiObject } from './lab-cluster.js';

async function main(): Promise<void> {
  const objects = JSON.parse(await text(process.stdin)) as ApiObject[];
  const server = new FakeKubeApiServer();
  const metrics = new FakeMetricsApi(server);
  new FakeLeaseApi(server);
  loadLabVitalsCluster(server, metrics, LAB_NODE);
  for (const { resource, object } of objects) server.apply(resource, object);
  await server.start();
  process.once('SIGTERM', () => void server.stop().then(() => process.exit(0)));
  console.log(`listening ${server.url}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { AgentConfig } from '../src/application/config/agent-config.js';
import type { EndpointQuery } from '../src/application/ports/metadata.port.js';
import { KubernetesMetadataAdapter } from '../src/adapters/kubernetes/kubernetes-metadata.adapter.js';
import { FakeKubeApiServer, loopbackKubeConfig } from '../test/fakes/fake-kube-api.server.js';
import { nodeIp, podIp, PODS_PER_SERVICE, SCALE, SERVICE_PORT, serviceIp, TARGET_PORT } from './kubernetes-api-server.child.js';
import { gcHeapUsed } from './gc-heap.js';

/**
 * Kubernetes cache benchmark (npm run bench:k8s; not a test):
 * 1. time from start to first sync against a fake API server (in a child process)
 *    serving 10,000 pods and 2,000 services as ~8 KB objects with managedFields;
 * 2. heap added by the synced cache (after GC), the figure the lean records exist for;
 * 3. lookups/s on that cache, measured alternately with a bare Map.get over the
 *    same addresses so the ratio is stable on a noisy machine.
 */

const ROUNDS = 7;
const LOOKUPS_PER_ROUND = 10_000_000;
const TCP = 6;


function startApiServer(): Promise<{ port: number; podJsonBytes: number; stop: () => void }> {
  const child = fork(join(__dirname, 'kubernetes-api-server.child.js'), { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (message: { port: number; podJsonBytes: number }) => resolve({ ...message, stop: () => child.disconnect() }));
  });
}


/** What a node's flows look like: pod ends on service and ephemeral ports, ClusterIPs, nodes, the outside. */
function queryMix(count: number): EndpointQuery[] {
  const queries: EndpointQuery[] = [];
  for (let i = 0; queries.length < count; i++) {
    const pod = (i * 7919) % SCALE.pods;
    queries.push({ ip: podIp(pod), port: TARGET_PORT, protocol: TCP });
    queries.push({ ip: podIp(pod), port: 32768 + (i % 28000), protocol: TCP });
    queries.push({ ip: serviceIp(pod % SCALE.services), port: SERVICE_PORT, protocol: TCP });
    queries.push({ ip: nodeIp(i % SCALE.nodes), port: 10250, protocol: TCP });
    queries.push({ ip: `203.0.113.${i % 256}`, port: 443, protocol: TCP });
  }
  return queries;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timeLookups(queries: readonly EndpointQuery[], lookup: (query: EndpointQuery) => unknown): { perSecond: number; resolved: number } {
  let resolved = 0;
  const started = process.hrtime.bigint();
  for (let n = 0; n < LOOKUPS_PER_ROUND; n++) {
    if (lookup(queries[n & (queries.length - 1)]) !== undefined) resolved++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { perSecond: LOOKUPS_PER_ROUND / seconds, resolved };
}

async function main(): Promise<void> {
  Logger.overrideLogger(['warn', 'error']);
  const api = await startApiServer();
  const config = { kubernetes: { deletedPodGraceSeconds: 60 } } as AgentConfig;
  const queries = queryMix(4096);

  // A first sync against an empty cluster loads what client-node initialises lazily,
  // so the heap figure below is what the objects cost, not one-time library state.
  const empty = await new FakeKubeApiServer().start();
  const warmUp = new KubernetesMetadataAdapter(empty.kubeConfig(), config);
  warmUp.onModuleInit();
  while (!warmUp.health().ready) await new Promise((resolve) => setTimeout(resolve, 5));
  warmUp.onModuleDestroy();
  await empty.stop();

  const heapBefore = gcHeapUsed();
  const startedMs = performance.now();
  const adapter = new KubernetesMetadataAdapter(loopbackKubeConfig(api.port), config);
  adapter.onModuleInit();
  while (!adapter.health().ready) await new Promise((resolve) => setTimeout(resolve, 5));
  const syncMs = performance.now() - startedMs;
  const heapAdded = gcHeapUsed() - heapBefore;
  const { index } = adapter.health().details as { index: Record<string, number> };

  const bareMap = new Map<string, unknown>(queries.map((query) => [query.ip, query]));
  const indexRates: number[] = [];
  const mapRates: number[] = [];
  let resolved = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const measured = timeLookups(queries, (query) => adapter.lookup(query));
    indexRates.push(measured.perSecond);
    resolved = measured.resolved;
    mapRates.push(timeLookups(queries, (query) => bareMap.get(query.ip)).perSecond);
  }
  adapter.onModuleDestroy();
  api.stop();

  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  console.log(`Kubernetes cache benchmark: ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model})`);
  console.log(`cluster: ${SCALE.pods} pods + ${SCALE.services} services (~${api.podJsonBytes} B of JSON per pod), ${SCALE.services} EndpointSlices x ${PODS_PER_SERVICE}, ${SCALE.services} ReplicaSets, ${SCALE.nodes} nodes`);
  console.log(`index: ${JSON.stringify(index)}`);
  console.log(`first sync:      ${syncMs.toFixed(0)} ms (paged LIST of every resource, watches opened)`);
  console.log(`heap added:      ${mb(heapAdded)} MB after GC (${(heapAdded / SCALE.pods).toFixed(0)} B per pod, everything included)  target <= 40 MB`);
  console.log(`lookups:         ${(median(indexRates) / 1e6).toFixed(1)} M/s median of ${ROUNDS} (min ${(Math.min(...indexRates) / 1e6).toFixed(1)}), ${((resolved / LOOKUPS_PER_ROUND) * 100).toFixed(0)}% resolved  target >= 5 M/s`);
  console.log(`bare Map.get:    ${(median(mapRates) / 1e6).toFixed(1)} M/s median, same addresses, alternating rounds; index/bare = ${(median(indexRates) / median(mapRates)).toFixed(2)}`);
}

void main();

import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from '../src/adapters/config/load-config.js';
import { VitalsMessageEncoder } from '../src/adapters/ipfix/vitals-ipfix.sink.js';
import { KubernetesClusterState } from '../src/adapters/vitals/kubernetes-cluster-state.adapter.js';
import { MetricsServerClient } from '../src/adapters/vitals/metrics-server.client.js';
import { LeaderElectionPort, type LeadershipStatus } from '../src/application/vitals/leader-election.port.js';
import { MetricsServerWatch } from '../src/application/vitals/metrics-server.watch.js';
import { VitalsCollector } from '../src/application/vitals/vitals-collector.service.js';
import { countVitals, freshVitals } from '../src/domain/vitals/vitals-snapshot.js';
import { SCALE, type ServerCounts } from './vitals-api-server.child.js';
import { gcHeapUsed } from './gc-heap.js';
import { loopbackKubeConfig } from '../test/fakes/fake-kube-api.server.js';

/**
 * Vitals benchmark (npm run bench:vitals; not a test), against a fake API server in
 * a child process holding 10,000 pods (~8 KB), 500 nodes and 1,000 workloads:
 * 1. the leader's first sync of the cluster-scoped caches (time, heap after GC);
 * 2. one collection, leader and follower (median of ROUNDS): own Node, own
 *    NodeMetrics, and for the leader the PodMetrics list joined with 10,000 pods;
 * 3. encoding one export into IPFIX messages;
 * 4. API requests per collection, counted by the server.
 */

const ROUNDS = 7;
const clock = { nowMs: () => Date.now() };

class FixedLeadership extends LeaderElectionPort {
  constructor(private readonly leading: boolean) {
    super();
  }
  isLeader(): boolean {
    return this.leading;
  }
  onChange(): void {}
  status(): LeadershipStatus {
    return { leading: this.leading, identity: 'bench', lease: 'bench/bench', holder: undefined, transitions: 0, lastError: undefined };
  }
}


function startApiServer(): Promise<{ child: ChildProcess; port: number; podJsonBytes: number }> {
  const child = fork(join(__dirname, 'vitals-api-server.child.js'), { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (message: { port: number; podJsonBytes: number }) => resolve({ child, ...message }));
  });
}

function serverCounts(child: ChildProcess): Promise<ServerCounts> {
  return new Promise((resolve) => {
    child.once('message', (message) => resolve(message as ServerCounts));
    child.send('counts');
  });
}


function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function collector(kubeConfig: KubeConfig, leading: boolean) {
  const config = loadConfig({ IPFIX_COLLECTOR_HOST: '127.0.0.1', NODE_NAME: 'node-0' });
  const cluster = new KubernetesClusterState(kubeConfig, clock, { backoff: { initialMs: 1_000, maxMs: 30_000 } });
  const usage = new MetricsServerClient(kubeConfig);
  const watch = new MetricsServerWatch(usage, clock);
  await watch.check();
  return { config, cluster, collector: new VitalsCollector(config, cluster, usage, new FixedLeadership(leading), watch, clock) };
}

async function timedCollections(collect: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    await collect();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(times);
}

function difference(after: ServerCounts, before: ServerCounts, rounds: number): Record<string, number> {
  const perRound = (a: number, b: number) => (a - b) / rounds;
  const result: Record<string, number> = {
    'GET Node (own)': perRound(after.listWatch['get nodes'] ?? 0, before.listWatch['get nodes'] ?? 0),
    'GET NodeMetrics (own)': perRound(after.metrics.nodeReads, before.metrics.nodeReads),
    'LIST PodMetrics': perRound(after.metrics.podLists, before.metrics.podLists),
    'LIST pods/workloads/jobs (re-lists)': perRound(
      Object.entries(after.listWatch).filter(([key]) => key.startsWith('list ')).reduce((sum, [, count]) => sum + count, 0),
      Object.entries(before.listWatch).filter(([key]) => key.startsWith('list ')).reduce((sum, [, count]) => sum + count, 0),
    ),
  };
  return result;
}

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  const { child, port, podJsonBytes } = await startApiServer();
  const kubeConfig = loopbackKubeConfig(port);
  try {
    const heapBefore = gcHeapUsed();
    const leader = await collector(kubeConfig, true);
    const syncStart = process.hrtime.bigint();
    leader.cluster.follow();
    for (;;) {
      const state = leader.cluster.current();
      if (Object.values(state).every((known) => known !== undefined)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const syncMs = Number(process.hrtime.bigint() - syncStart) / 1e6;
    const heapSynced = gcHeapUsed();

    const beforeLeader = await serverCounts(child);
    const leaderMs = await timedCollections(() => leader.collector.collectOnce());
    const afterLeader = await serverCounts(child);
    const heapCollected = gcHeapUsed();
    const snapshot = freshVitals(leader.collector.snapshot(), Date.now(), leader.config.vitals.cacheTimeoutSeconds * 1000);

    const encoder = new VitalsMessageEncoder(leader.config);
    let encoded = encoder.encode(snapshot, Date.now(), 'node-0');
    const encodeMs = await timedCollections(async () => {
      encoded = encoder.encode(snapshot, Date.now(), 'node-0');
    });
    const bytes = encoded.messages.reduce((sum, message) => sum + message.buffer.length, 0);

    const follower = await collector(kubeConfig, false);
    const beforeFollower = await serverCounts(child);
    const followerMs = await timedCollections(() => follower.collector.collectOnce());
    const afterFollower = await serverCounts(child);
    leader.cluster.unfollow();

    const mib = (value: number) => (value / 1024 / 1024).toFixed(1);
    const retry = leader.config.vitals.lease.retryPeriodSeconds;
    const interval = leader.config.vitals.collectionIntervalSeconds;
    console.log(`## Vitals (${SCALE.pods} pods of ~${(podJsonBytes / 1000).toFixed(1)} KB, ${SCALE.nodes} nodes, ${SCALE.workloads} workloads, ${SCALE.jobs} Jobs, ${SCALE.cronJobs} CronJobs, ${SCALE.hpas} HPAs)`);
    console.log('');
    console.log('| measure | value |');
    console.log('|---|---|');
    console.log(`| leader: first sync of the cluster caches (list, paged) | ${syncMs.toFixed(0)} ms |`);
    console.log(`| leader: heap of the synced caches (after GC) | ${mib(heapSynced - heapBefore)} MiB |`);
    console.log(`| leader: one collection (median of ${ROUNDS}) | ${leaderMs.toFixed(1)} ms |`);
    console.log(`| leader: heap after collections (caches + snapshot + PodMetrics map) | ${mib(heapCollected - heapBefore)} MiB |`);
    console.log(`| follower: one collection (median of ${ROUNDS}) | ${followerMs.toFixed(1)} ms |`);
    console.log(`| leader: encoding one export (${JSON.stringify(countVitals(snapshot))}) | ${encodeMs.toFixed(1)} ms, ${encoded.records} records, ${encoded.messages.length} messages, ${(bytes / 1024).toFixed(0)} KiB |`);
    console.log('');
    console.log('| API requests per collection | leader | follower |');
    console.log('|---|---:|---:|');
    const leaderRequests = difference(afterLeader, beforeLeader, ROUNDS);
    const followerRequests = difference(afterFollower, beforeFollower, ROUNDS);
    for (const name of Object.keys(leaderRequests)) console.log(`| ${name} | ${leaderRequests[name]} | ${followerRequests[name]} |`);
    console.log(`| Lease (PUT by the leader, GET by the others), per ${interval} s interval | ${interval / retry} | ${interval / retry} |`);
    console.log('');
    const watches = (counts: ServerCounts) => Object.entries(counts.listWatch).filter(([key]) => key.startsWith('watch ')).reduce((sum, [, count]) => sum + count, 0);
    console.log(`Watches opened: by the leader ${watches(afterLeader)} (pods, Deployments, StatefulSets, DaemonSets, Jobs, CronJobs, HPAs), by the follower ${watches(afterFollower) - watches(afterLeader)}.`);
  } finally {
    child.disconnect();
  }
}

void main();

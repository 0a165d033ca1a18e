import { Logger } from '@nestjs/common';
import type { AgentConfig } from '../../src/application/config/agent-config.js';
import type { EndpointQuery } from '../../src/application/ports/metadata.port.js';
import { KubernetesMetadataAdapter } from '../../src/adapters/kubernetes/kubernetes-metadata.adapter.js';
import { FakeKubeApiServer } from '../fakes/fake-kube-api.server.js';
import {
  endpointSliceObject,
  namespaceObject,
  nodeObject,
  ownedObject,
  podObject,
  serviceObject,
} from '../fakes/kubernetes-objects.js';
import { ManualClock } from '../fakes/manual-clock.fake.js';
import { eventually } from '../support/test-app.js';
import { testConfig } from '../support/test-config.js';

/**
 * The real client-node (Watch, typed list calls) against the fake API server:
 * the list/watch protocol, its failures, and what the cache makes of them.
 */

const GRACE_SECONDS = 60;
const TCP = 6;

function query(ip: string, port = 8080): EndpointQuery {
  return { ip, port, protocol: TCP };
}

function seed(server: FakeKubeApiServer): void {
  server.apply('namespaces', namespaceObject('default'));
  server.apply('nodes', nodeObject('node-a', ['192.168.0.10']));
  server.apply('replicasets', ownedObject('ReplicaSet', 'web-5d8f', { kind: 'Deployment', name: 'web' }));
  server.apply('jobs', ownedObject('Job', 'backup-1', { kind: 'CronJob', name: 'backup' }));
  server.apply('pods', podObject({ name: 'web-1', ips: ['10.244.0.5'], owner: { kind: 'ReplicaSet', name: 'web-5d8f' }, containers: [{ name: 'app', ports: [{ containerPort: 8080 }] }] }));
  server.apply('pods', podObject({ name: 'backup-1-x', ips: ['10.244.0.6'], owner: { kind: 'Job', name: 'backup-1' } }));
  server.apply('services', serviceObject({ name: 'web', clusterIPs: ['10.96.0.10'], ports: [{ name: 'http', port: 80 }] }));
  server.apply('endpointslices', endpointSliceObject({ name: 'web-x', service: 'web', addresses: ['10.244.0.5'], ports: [{ name: 'http', port: 8080 }] }));
}

describe('Kubernetes cache over list/watch (real client-node, fake API server)', () => {
  let server: FakeKubeApiServer;
  let clock: ManualClock;
  let adapter: KubernetesMetadataAdapter;
  let config: AgentConfig;

  beforeAll(() => {
    if (!process.env.TEST_LOG_LEVEL) Logger.overrideLogger(false);
  });

  beforeEach(async () => {
    server = await new FakeKubeApiServer().start();
    clock = new ManualClock();
    config = testConfig({ K8S_DELETED_POD_GRACE: String(GRACE_SECONDS) });
    seed(server);
  });

  afterEach(async () => {
    adapter?.onModuleDestroy();
    await server.stop();
  });

  function startAdapter(): KubernetesMetadataAdapter {
    adapter = new KubernetesMetadataAdapter(server.kubeConfig(), config, { clock, backoff: { initialMs: 20, maxMs: 200 }, sweepIntervalMs: 10 });
    adapter.onModuleInit();
    return adapter;
  }

  const podStatus = () => (adapter.health().details.resources as Record<string, any>).pods;
  const resolvesTo = (ip: string, pod: string | undefined) => () => (adapter.lookup(query(ip))?.pod === pod ? true : undefined);

  const WATCHED = ['pods', 'services', 'endpointslices', 'nodes', 'namespaces', 'replicasets', 'jobs'];

  /** Synced, and every watch open on the server: events sent from now on reach the cache. */
  async function synced(): Promise<void> {
    await eventually(() => (adapter.health().ready ? true : undefined), 10_000, 'first sync');
    await eventually(() => (WATCHED.every((resource) => server.openWatches(resource) === 1) ? true : undefined), 10_000, 'watches open');
  }

  test('not ready until every resource is listed; a failed LIST is retried with back-off', async () => {
    server.injectFault({ verb: 'list', resource: 'jobs', status: 500, times: 3 });
    startAdapter();
    expect(adapter.health()).toMatchObject({ ready: false, details: { mode: 'cluster', synced: false } });
    await eventually(() => (podStatus().synced ? true : undefined), 10_000, 'pods listed');
    await eventually(() => ((adapter.health().details.resources as any).jobs.restarts >= 1 ? true : undefined), 10_000, 'jobs list failed');
    await synced();
    expect(server.requestCount('list', 'jobs')).toBe(4);
    const health = adapter.health();
    expect(health.reason).toBeUndefined();
    expect(health.details).toMatchObject({
      synced: true,
      resources: { pods: { entries: 2, synced: true, state: 'watching' }, jobs: { restarts: 3, errors: 3 } },
      index: { livePods: 2, services: 1, endpointSlices: 1, nodes: 1 },
    });
    expect((health.details.resources as any).jobs.lastError).toMatch(/HTTP 500/);
    expect(adapter.lookup(query('10.244.0.5'))).toMatchObject({
      pod: 'web-1',
      container: 'app',
      workloadKind: 'Deployment',
      workloadName: 'web',
      serviceName: 'web',
      servicePortName: 'http',
    });
    expect(adapter.lookup(query('10.244.0.6'))).toMatchObject({ workloadKind: 'CronJob', workloadName: 'backup' });
    expect(adapter.lookup(query('10.96.0.10', 80))).toMatchObject({ serviceName: 'web', servicePortName: 'http' });
  });

  test('watches from the listed resourceVersion and applies chunked events in order', async () => {
    startAdapter();
    await synced();
    const listedAt = server.latestResourceVersion;
    await eventually(() => (server.openWatches('pods') === 1 ? true : undefined), 10_000, 'pods watch open');
    const podWatch = server.requests.find((request) => request.verb === 'watch' && request.resource === 'pods');
    expect(podWatch?.query.get('resourceVersion')).toBe(listedAt);
    const podList = server.requests.find((request) => request.verb === 'list' && request.resource === 'pods');
    expect(podList?.query.get('limit')).toBe('500');

    server.apply('pods', podObject({ name: 'new-1', ips: ['10.244.0.7'] }));
    await eventually(resolvesTo('10.244.0.7', 'new-1'), 10_000, 'ADDED applied');
    server.apply('pods', { ...server.objects('pods').find((p) => p.metadata.name === 'new-1'), status: { phase: 'Running', podIPs: [{ ip: '10.244.0.8' }] } });
    await eventually(resolvesTo('10.244.0.8', 'new-1'), 10_000, 'MODIFIED applied');
    server.remove('pods', 'new-1');
    await eventually(() => (adapter.health().details.index as any).deletedPods === 1 || undefined, 10_000, 'DELETED applied');
    expect(podStatus().resourceVersion).toBe(server.latestResourceVersion);
    expect(adapter.lookup(query('10.244.0.8'))?.pod).toBe('new-1');
    expect(server.requestCount('list', 'pods')).toBe(1);
  });

  test.each([
    ['in-stream ERROR 410', (s: FakeKubeApiServer) => s.expireWatches('pods')],
    ['HTTP 410 on the watch', (s: FakeKubeApiServer) => {
      s.injectFault({ verb: 'watch', resource: 'pods', status: 410, times: 1 });
      s.closeWatches('pods');
    }],
  ])('%s -> re-list; objects that vanished unseen are deleted', async (_case, expire) => {
    startAdapter();
    await synced();
    server.remove('pods', 'backup-1-x', 'default', { unseen: true });
    server.apply('pods', podObject({ name: 'unseen-new', ips: ['10.244.0.9'] }), { unseen: true });
    expect(adapter.lookup(query('10.244.0.9'))).toBeUndefined();
    expire(server);
    await eventually(resolvesTo('10.244.0.9', 'unseen-new'), 10_000, 'relisted');
    expect(podStatus()).toMatchObject({ relists: 1, restarts: 0, entries: 2 });
    expect(server.requestCount('list', 'pods')).toBe(2);
    // The vanished pod is a deleted pod now: it resolves for the grace period, then not.
    expect(adapter.lookup(query('10.244.0.6'))?.pod).toBe('backup-1-x');
    clock.advance(GRACE_SECONDS * 1000);
    await eventually(resolvesTo('10.244.0.6', undefined), 10_000, 'deleted pod expired');
  });

  test('a stream closed by the server is re-watched from the last resourceVersion, without a re-list', async () => {
    startAdapter();
    await synced();
    server.apply('pods', podObject({ name: 'before-close', ips: ['10.244.1.1'] }));
    await eventually(resolvesTo('10.244.1.1', 'before-close'), 10_000, 'event before close');
    const lastSeen = podStatus().resourceVersion;
    const watchesBefore = server.requestCount('watch', 'pods');
    server.closeWatches('pods');
    await eventually(() => (server.requestCount('watch', 'pods') > watchesBefore ? true : undefined), 10_000, 're-watch');
    const rewatch = server.requests.filter((request) => request.verb === 'watch' && request.resource === 'pods').at(-1);
    expect(rewatch?.query.get('resourceVersion')).toBe(lastSeen);
    server.apply('pods', podObject({ name: 'after-close', ips: ['10.244.1.2'] }));
    await eventually(resolvesTo('10.244.1.2', 'after-close'), 10_000, 'event after re-watch');
    expect(server.requestCount('list', 'pods')).toBe(1);
    expect(podStatus()).toMatchObject({ restarts: 0, relists: 0 });
  });

  test('HTTP 500 on the watch -> restart with back-off and a fresh LIST', async () => {
    startAdapter();
    await synced();
    server.injectFault({ verb: 'watch', resource: 'pods', status: 500, times: 2 });
    server.remove('pods', 'web-1', 'default', { unseen: true });
    server.closeWatches('pods');
    await eventually(() => (server.requestCount('list', 'pods') === 3 && server.openWatches('pods') === 1 ? true : undefined), 10_000, 'watching again after two restarts');
    expect(podStatus()).toMatchObject({ restarts: 2, errors: 2, entries: 1 });
    expect(server.requestCount('list', 'pods')).toBe(3);
    expect(adapter.health().details.index).toMatchObject({ livePods: 1, deletedPods: 1 });
  });

  test('API server away: lookups keep the last known context; when it is back the cache catches up', async () => {
    startAdapter();
    await synced();
    await server.stop();
    await eventually(() => (podStatus().errors >= 1 ? true : undefined), 10_000, 'watch failure noticed');
    expect(adapter.lookup(query('10.244.0.5'))).toMatchObject({ pod: 'web-1', workloadKind: 'Deployment', serviceName: 'web' });
    expect(adapter.lookup(query('10.96.0.10', 80))).toMatchObject({ serviceName: 'web' });
    expect(adapter.health().ready).toBe(true);
    // Connection refused while away: still restarting, one attempt at a time.
    await eventually(() => (podStatus().errors >= 3 ? true : undefined), 10_000, 'repeated failures');
    expect(server.requestCount('list', 'pods')).toBe(1);

    server.remove('pods', 'web-1');
    server.apply('pods', podObject({ name: 'while-away', ips: ['10.244.2.1'] }));
    await server.start();
    await eventually(resolvesTo('10.244.2.1', 'while-away'), 10_000, 'caught up after return');
    await eventually(() => (podStatus().state === 'watching' ? true : undefined), 10_000, 'watching after return');
    expect(adapter.health().details.index).toMatchObject({ livePods: 2, deletedPods: 1 });
  });

  test('malformed objects are counted and skipped, in lists and in watch events', async () => {
    server.apply('pods', podObject({ name: 'bad-ip', ips: ['10.244.0.300'] }));
    startAdapter();
    await synced();
    expect(podStatus().rejected).toBe(1);
    server.sendRaw('pods', { type: 'ADDED', object: { kind: 'Pod', metadata: { namespace: 'default' } } });
    server.sendRaw('pods', { type: 'MODIFIED', object: null });
    server.sendRaw('services', { type: 'ADDED', object: serviceObject({ name: 'bad', clusterIPs: ['not-an-ip'] }) });
    await eventually(() => (adapter.health().details.rejectedObjects === 4 ? true : undefined), 10_000, 'rejections counted');
    server.apply('pods', podObject({ name: 'good', ips: ['10.244.3.3'] }));
    await eventually(resolvesTo('10.244.3.3', 'good'), 10_000, 'still watching');
  });

  test('churn: many pods created and deleted; past the grace period the cache returns to baseline', async () => {
    startAdapter();
    await synced();
    const baseline = adapter.health().details;
    for (let i = 0; i < 300; i++) {
      server.apply('pods', podObject({ name: `churn-${i}`, ips: [`10.250.${i >> 8}.${i & 255}`], owner: { kind: 'ReplicaSet', name: 'web-5d8f' } }));
    }
    await eventually(resolvesTo('10.250.1.43', 'churn-299'), 10_000, 'all pods added');
    for (let i = 0; i < 300; i++) server.remove('pods', `churn-${i}`);
    await eventually(() => ((adapter.health().details.index as any).deletedPods === 300 ? true : undefined), 10_000, 'all pods deleted');
    clock.advance(GRACE_SECONDS * 1000 - 1);
    expect(adapter.lookup(query('10.250.0.7'))?.pod).toBe('churn-7');
    clock.advance(1);
    await eventually(() => ((adapter.health().details.index as any).deletedPods === 0 ? true : undefined), 10_000, 'expired');
    expect(adapter.health().details.index).toEqual(baseline.index);
    expect(podStatus().entries).toBe((baseline.resources as any).pods.entries);
  });
});

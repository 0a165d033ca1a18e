import { Logger } from '@nestjs/common';
import { LeaseLeaderElection, resolveLeaseNamespace, type LeaseTiming } from '../../../src/adapters/vitals/lease-leader-election.adapter.js';
import { FakeKubeApiServer } from '../../fakes/fake-kube-api.server.js';
import { FakeLeaseApi } from '../../fakes/fake-lease-api.js';
import { eventually } from '../../support/test-app.js';
import { testConfig } from '../../support/test-config.js';

/** Small client-go-shaped timing: duration 2 s, renew deadline 1.5 s, retry period 0.5 s. */
const TIMING: LeaseTiming = { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 500 };
const clock = { nowMs: () => Date.now() };

Logger.overrideLogger(false);

describe('vitals leader election on a Lease', () => {
  let server: FakeKubeApiServer;
  let leases: FakeLeaseApi;
  const electors: LeaseLeaderElection[] = [];

  function agent(identity: string): LeaseLeaderElection {
    const config = testConfig({ POD_NAME: identity, POD_NAMESPACE: 'observability', VITALS_LEASE_NAME: 'flows-leader' });
    const elector = new LeaseLeaderElection(server.kubeConfig(), config, clock, TIMING, 'observability');
    electors.push(elector);
    return elector;
  }

  /** Lease GETs answered since `before`: each is one try of a candidate. */
  function triesSince(before: number): number {
    return leases.counts.get - before;
  }

  beforeEach(async () => {
    server = await new FakeKubeApiServer().start();
    leases = new FakeLeaseApi(server);
  });

  afterEach(async () => {
    for (const elector of electors.splice(0)) await elector.stop(false);
    await server.stop();
  });

  it('elects exactly one of two agents, which keeps renewing the Lease', async () => {
    const first = agent('agent-a');
    first.onApplicationBootstrap();
    await eventually(() => (first.isLeader() ? true : undefined), 5_000, 'agent-a to lead');
    const second = agent('agent-b');
    const changes: boolean[] = [];
    second.onChange((leading) => changes.push(leading));
    second.onApplicationBootstrap();
    const renewedFrom = leases.lease('observability', 'flows-leader')!.metadata.resourceVersion;
    await eventually(() => (leases.lease('observability', 'flows-leader')!.metadata.resourceVersion !== renewedFrom ? true : undefined), 5_000, 'a renewal');
    const before = leases.counts.get;
    await eventually(() => (triesSince(before) >= 4 ? true : undefined), 5_000, 'agent-b to try several times');

    expect(first.isLeader()).toBe(true);
    expect(second.isLeader()).toBe(false);
    expect(changes).toEqual([]);
    const lease = leases.lease('observability', 'flows-leader')!;
    expect(lease.spec).toMatchObject({ holderIdentity: 'agent-a', leaseDurationSeconds: 2, leaseTransitions: 0 });
    // MicroTime with six fractional digits, as the API server requires.
    expect(lease.spec.renewTime).toMatch(/\.\d{6}Z$/);
    expect(leases.counts.rejected).toBe(0);
    expect(second.status()).toMatchObject({ leading: false, identity: 'agent-b', lease: 'observability/flows-leader', holder: 'agent-a' });
  });

  /** agent-a holds the Lease and agent-b has seen it do so. */
  async function leaderAndFollower() {
    const first = agent('agent-a');
    first.onApplicationBootstrap();
    await eventually(() => (first.isLeader() ? true : undefined), 5_000, 'agent-a to lead');
    const second = agent('agent-b');
    second.onApplicationBootstrap();
    await eventually(() => (second.status().holder === 'agent-a' ? true : undefined), 5_000, 'agent-b to see agent-a');
    return { first, second };
  }

  it('hands over at the next try (within one retry period) when the leader stops gracefully', async () => {
    const { first, second } = await leaderAndFollower();

    await first.beforeApplicationShutdown();
    expect(leases.lease('observability', 'flows-leader')!.spec.holderIdentity).toBe('');
    const released = leases.counts.get;
    await eventually(() => (second.isLeader() ? true : undefined), 5_000, 'agent-b to lead');

    // Its first try after the release takes the Lease: candidates try once per retry period.
    expect(triesSince(released)).toBe(1);
    expect(leases.lease('observability', 'flows-leader')!.spec).toMatchObject({ holderIdentity: 'agent-b', leaseTransitions: 1 });
    expect(first.isLeader()).toBe(false);
  });

  it('takes over within lease duration + retry period when the leader dies without releasing', async () => {
    const { first, second } = await leaderAndFollower();

    // "SIGKILL": renewals stop and nothing is released.
    await first.stop(false);
    const lastRenewMs = Date.parse(leases.lease('observability', 'flows-leader')!.spec.renewTime);
    const killed = leases.counts.get;
    await eventually(() => (second.isLeader() ? true : undefined), 10_000, 'agent-b to lead');
    const tookOverAfterMs = Date.now() - lastRenewMs;

    // Never before the Lease expired; then at its first try after expiry: at most
    // (lease duration / retry period) + 1 tries, i.e. within lease duration + retry period.
    expect(tookOverAfterMs).toBeGreaterThanOrEqual(TIMING.leaseDurationMs);
    expect(triesSince(killed)).toBeLessThanOrEqual(TIMING.leaseDurationMs / TIMING.retryPeriodMs + 1);
    expect(leases.lease('observability', 'flows-leader')!.spec.holderIdentity).toBe('agent-b');
  });

  it('stops leading when it cannot renew for the renew deadline, before the Lease expires', async () => {
    const first = agent('agent-a');
    const changes: boolean[] = [];
    first.onChange((leading) => changes.push(leading));
    first.onApplicationBootstrap();
    await eventually(() => (first.isLeader() ? true : undefined), 5_000, 'agent-a to lead');
    leases.failNextWrites(500, 1_000);
    // isLeader() turns false once the renew deadline passes; the change is announced at the next try.
    await eventually(() => (changes.length === 2 ? true : undefined), 5_000, 'agent-a to step down');
    expect(changes).toEqual([true, false]);
    expect(first.isLeader()).toBe(false);
    expect(first.status().lastError).toContain('HTTP 500');
  });

  it('lets only one of two racing candidates take a free Lease (409 for the other)', async () => {
    const candidates = ['agent-a', 'agent-b', 'agent-c'].map(agent);
    for (const candidate of candidates) candidate.onApplicationBootstrap();
    await eventually(() => (candidates.some((candidate) => candidate.isLeader()) ? true : undefined), 5_000, 'a leader');
    const before = leases.counts.get;
    await eventually(() => (triesSince(before) >= 6 ? true : undefined), 5_000, 'more tries');
    expect(candidates.filter((candidate) => candidate.isLeader())).toHaveLength(1);
  });
});

describe('Lease namespace', () => {
  it('is POD_NAMESPACE, else the service account namespace file, else default; never fatal', () => {
    expect(resolveLeaseNamespace('observability', () => 'ignored')).toBe('observability');
    expect(resolveLeaseNamespace(undefined, () => 'monitoring\n')).toBe('monitoring');
    expect(resolveLeaseNamespace(undefined, () => '')).toBe('default');
    expect(
      resolveLeaseNamespace(undefined, () => {
        throw new Error('ENOENT');
      }),
    ).toBe('default');
  });
});

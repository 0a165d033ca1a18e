import { readFileSync } from 'node:fs';
import { Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { AgentConfig } from '../../application/config/agent-config.js';
import type { ClockPort } from '../../application/ports/clock.port.js';
import { LeaderElectionPort, type LeadershipStatus } from '../../application/vitals/leader-election.port.js';
import { RepeatingTask } from '../../application/scheduling/repeating-task.js';

/** Where a pod finds its own namespace (mounted with the service account token). */
export const SERVICE_ACCOUNT_NAMESPACE_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
const FALLBACK_NAMESPACE = 'default';
const HTTP_NOT_FOUND = 404;
const HTTP_CONFLICT = 409;

/** POD_NAMESPACE, else the service account's namespace file, else "default"; never fails. */
export function resolveLeaseNamespace(configured: string | undefined, readNamespaceFile: () => string = () => readFileSync(SERVICE_ACCOUNT_NAMESPACE_PATH, 'utf8')): string {
  if (configured !== undefined) return configured;
  try {
    return readNamespaceFile().trim() || FALLBACK_NAMESPACE;
  } catch {
    return FALLBACK_NAMESPACE;
  }
}

export interface LeaseTiming {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export function leaseTiming(config: AgentConfig): LeaseTiming {
  const { durationSeconds, renewDeadlineSeconds, retryPeriodSeconds } = config.vitals.lease;
  return { leaseDurationMs: durationSeconds * 1000, renewDeadlineMs: renewDeadlineSeconds * 1000, retryPeriodMs: retryPeriodSeconds * 1000 };
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection
 * does it (client-node has none):
 * - every retry period, a candidate reads the Lease; it takes it when it does not
 *   exist (create), has no holder (released), or has not been renewed for a lease
 *   duration; the leader renews it. Writes carry the resourceVersion read, so of
 *   two agents racing only one succeeds (409 Conflict for the other, who tries
 *   again next period).
 * - A leader that could not renew for the renew deadline stops leading, before
 *   the lease duration lets another take over.
 * - Expiry is judged from the Lease's renewTime, or from when this agent first
 *   saw that renewal when renewTime lies in its future (clock skew); safe while
 *   node clocks differ by less than lease duration − renew deadline.
 * - On shutdown the leader releases the Lease (empty holder), so another agent
 *   takes over at its next try, within one retry period.
 */
export class LeaseLeaderElection extends LeaderElectionPort implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LeaseLeaderElection.name);
  private readonly api: CoordinationV1Api;
  private readonly task: RepeatingTask;
  private readonly listeners: Array<(leading: boolean) => void> = [];
  private readonly name: string;
  private readonly namespace: string;
  private readonly identity: string;
  /** The Lease as last read or written. */
  private lease: V1Lease | undefined;
  /** Local time this agent first saw the current renewTime. */
  private observedRenewAtMs = 0;
  private leading = false;
  private lastRenewAtMs = 0;
  private transitions = 0;
  private lastError: string | undefined;

  constructor(
    kubeConfig: KubeConfig,
    config: AgentConfig,
    private readonly clock: ClockPort,
    private readonly timing: LeaseTiming = leaseTiming(config),
    namespace: string = resolveLeaseNamespace(config.vitals.lease.namespace),
  ) {
    super();
    this.api = kubeConfig.makeApiClient(CoordinationV1Api);
    this.name = config.vitals.lease.name;
    this.namespace = namespace;
    this.identity = config.vitals.lease.identity;
    this.task = new RepeatingTask(LeaseLeaderElection.name, timing.retryPeriodMs, () => this.tryAcquireOrRenew());
  }

  onApplicationBootstrap(): void {
    this.logger.log({ lease: `${this.namespace}/${this.name}`, identity: this.identity, ...this.timing }, 'Vitals leader election started');
    void this.task.startNow();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop(true);
  }

  /** Stops trying; with `release`, a leader hands the Lease back first. Without it, the Lease expires on its own (as after SIGKILL). */
  async stop(release: boolean): Promise<void> {
    await this.task.stop();
    if (release && this.leading) await this.release();
    this.setLeading(false);
  }

  isLeader(): boolean {
    return this.leading && this.clock.nowMs() - this.lastRenewAtMs <= this.timing.renewDeadlineMs;
  }

  onChange(listener: (leading: boolean) => void): void {
    this.listeners.push(listener);
  }

  status(): LeadershipStatus {
    return {
      leading: this.isLeader(),
      identity: this.identity,
      lease: `${this.namespace}/${this.name}`,
      holder: this.lease === undefined ? undefined : (this.lease.spec?.holderIdentity ?? ''),
      transitions: this.transitions,
      lastError: this.lastError,
    };
  }

  private async tryAcquireOrRenew(): Promise<void> {
    try {
      // A leader writes from what it last wrote; only a conflict makes it read again.
      const current = this.leading && this.lease !== undefined ? this.lease : await this.read();
      if (current === undefined) {
        await this.create();
      } else if (this.heldByAnother(current)) {
        this.setLeading(false);
        return;
      } else {
        await this.write(current);
      }
      this.lastRenewAtMs = this.clock.nowMs();
      this.lastError = undefined;
      this.setLeading(true);
    } catch (error) {
      this.lastError = messageOf(error);
      if (statusOf(error) === HTTP_CONFLICT) this.lease = undefined;
      if (this.leading) {
        this.logger.warn({ error: this.lastError }, 'Could not renew the vitals Lease');
        if (this.clock.nowMs() - this.lastRenewAtMs > this.timing.renewDeadlineMs) this.setLeading(false);
      } else if (statusOf(error) !== HTTP_CONFLICT) {
        this.logger.warn({ error: this.lastError }, 'Could not read or take the vitals Lease');
      }
    }
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      const lease = await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace });
      this.observe(lease);
      return lease;
    } catch (error) {
      if (statusOf(error) === HTTP_NOT_FOUND) return undefined;
      throw error;
    }
  }

  private observe(lease: V1Lease): void {
    const previousRenew = microTimeMs(this.lease?.spec?.renewTime);
    const renewMs = microTimeMs(lease.spec?.renewTime);
    const nowMs = this.clock.nowMs();
    if (renewMs !== previousRenew || lease.spec?.holderIdentity !== this.lease?.spec?.holderIdentity) {
      this.observedRenewAtMs = renewMs !== undefined && renewMs <= nowMs ? renewMs : nowMs;
    }
    this.lease = lease;
  }

  private heldByAnother(lease: V1Lease): boolean {
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder === '' || holder === this.identity) return false;
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000 || this.timing.leaseDurationMs;
    return this.clock.nowMs() < this.observedRenewAtMs + durationMs;
  }

  private async create(): Promise<void> {
    const now = new V1MicroTime(this.clock.nowMs());
    this.lease = await this.api.createNamespacedLease({
      namespace: this.namespace,
      body: {
        metadata: { name: this.name, namespace: this.namespace },
        spec: { holderIdentity: this.identity, leaseDurationSeconds: this.leaseDurationSeconds(), acquireTime: now, renewTime: now, leaseTransitions: 0 },
      },
    });
  }

  /** Renews our Lease, or takes over a released or expired one (a new acquireTime and one more transition). */
  private async write(current: V1Lease): Promise<void> {
    const now = new V1MicroTime(this.clock.nowMs());
    const ours = current.spec?.holderIdentity === this.identity;
    const spec = {
      ...current.spec,
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseDurationSeconds(),
      renewTime: now,
      acquireTime: ours ? current.spec?.acquireTime : now,
      leaseTransitions: (current.spec?.leaseTransitions ?? 0) + (ours ? 0 : 1),
    };
    this.lease = await this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body: { ...current, spec } });
  }

  /** client-go's release: empty holder and a 1 s duration, so the next candidate need not wait. */
  private async release(): Promise<void> {
    if (this.lease === undefined) return;
    const now = new V1MicroTime(this.clock.nowMs());
    try {
      this.lease = await this.api.replaceNamespacedLease({
        name: this.name,
        namespace: this.namespace,
        body: { ...this.lease, spec: { ...this.lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now } },
      });
      this.logger.log({ lease: `${this.namespace}/${this.name}` }, 'Released the vitals Lease');
    } catch (error) {
      this.logger.warn({ error: messageOf(error) }, 'Could not release the vitals Lease; it expires on its own');
    }
  }

  private leaseDurationSeconds(): number {
    return Math.max(1, Math.ceil(this.timing.leaseDurationMs / 1000));
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    if (leading) this.transitions++;
    this.logger.log({ lease: `${this.namespace}/${this.name}`, identity: this.identity }, leading ? 'Leading: this agent exports cluster-scoped vitals' : 'Not leading: this agent exports its node only');
    for (const listener of this.listeners) listener(leading);
  }
}

/** client-node leaves MicroTime fields of a response as the served string (a V1MicroTime when we wrote it). */
function microTimeMs(value: unknown): number | undefined {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function messageOf(error: unknown): string {
  const code = statusOf(error);
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return code === undefined ? message : `HTTP ${code}: ${message}`;
}

import { Logger } from '@nestjs/common';
import type { Watch } from '@kubernetes/client-node';
import type { ClockPort } from '../../application/ports/clock.port.js';
import { objectIdentity, type CachedRecord, type Conversion } from './kubernetes-records.js';

/** One page of a LIST: its items as served and where to continue. */
export interface ListPage {
  readonly items: readonly unknown[];
  readonly resourceVersion: string;
  readonly continueToken: string | undefined;
}

/** What the reflector needs to know about one kind of object. */
export interface ResourceDescriptor<R extends CachedRecord> {
  /** Plural name, as in the API path; the metric label. */
  readonly resource: string;
  /** Cluster-wide collection path, e.g. /api/v1/pods. */
  readonly path: string;
  readonly namespaced: boolean;
  listPage(limit: number, continueToken: string | undefined): Promise<ListPage>;
  toRecord(object: unknown): Conversion<R>;
}

/** Receives the cache's changes; called synchronously, in order. */
export interface ReflectorListener<R> {
  upsert(record: R): void;
  remove(record: R): void;
}

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

export type ReflectorState = 'idle' | 'listing' | 'watching' | 'waiting' | 'stopped';

export interface ReflectorStatus {
  readonly resource: string;
  readonly state: ReflectorState;
  readonly synced: boolean;
  readonly entries: number;
  readonly resourceVersion: string;
  /** Restarts after a failed list or watch (back-off, fresh LIST). */
  readonly restarts: number;
  /** Re-lists because the resourceVersion expired (410). */
  readonly relists: number;
  readonly rejected: number;
  readonly errors: number;
  readonly lastError: string | undefined;
  readonly lastEventAtMs: number | undefined;
}

/** Items per LIST page: bounds the JSON held at once while the cache fills. */
const LIST_PAGE_SIZE = 500;
const HTTP_GONE = 410;

/**
 * Keeps a lean copy of one resource in sync with the API server: LIST (paged) then
 * WATCH from the list's resourceVersion, like an informer, but holding records
 * instead of whole objects. Built on client-node's Watch because its ListWatch
 * keeps every full object.
 *
 * - 410 Gone (HTTP status or in-stream ERROR) -> re-list at once; objects that
 *   vanished meanwhile are removed (diff against the new list).
 * - A stream the server closed cleanly, or the client's inactivity timeout ->
 *   re-watch from the last resourceVersion.
 * - Any other failure (HTTP 5xx, connection refused, server gone) -> a fresh LIST
 *   after a back-off (initial, doubling to max; reset by any event). client-node
 *   would leave the watch stopped, so the restart is ours; one is pending at most.
 */
export class ResourceReflector<R extends CachedRecord> {
  private readonly logger: Logger;
  private records = new Map<string, R>();
  private resourceVersion = '';
  private state: ReflectorState = 'idle';
  /** Bumped by every list, watch and stop: callbacks of an older session are ignored. */
  private session = 0;
  private abortWatch: AbortController | undefined;
  private pendingRestart: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private eventsThisWatch = 0;
  /** Set by an in-stream ERROR: what to do when that stream ends. */
  private streamError: { gone: boolean; message: string } | undefined;
  private synced = false;
  private restarts = 0;
  private relists = 0;
  private rejected = 0;
  private errors = 0;
  private lastError: string | undefined;
  private lastEventAtMs: number | undefined;

  constructor(
    private readonly descriptor: ResourceDescriptor<R>,
    private readonly watch: Watch,
    private readonly listener: ReflectorListener<R>,
    private readonly clock: ClockPort,
    private readonly backoff: BackoffOptions,
    private readonly onSynced: () => void,
  ) {
    this.logger = new Logger(`KubernetesCache:${descriptor.resource}`);
    this.backoffMs = backoff.initialMs;
  }

  start(): void {
    void this.list();
  }

  stop(): void {
    this.session++;
    this.state = 'stopped';
    clearTimeout(this.pendingRestart);
    this.pendingRestart = undefined;
    this.abortWatch?.abort();
    this.abortWatch = undefined;
  }

  status(): ReflectorStatus {
    return {
      resource: this.descriptor.resource,
      state: this.state,
      synced: this.synced,
      entries: this.records.size,
      resourceVersion: this.resourceVersion,
      restarts: this.restarts,
      relists: this.relists,
      rejected: this.rejected,
      errors: this.errors,
      lastError: this.lastError,
      lastEventAtMs: this.lastEventAtMs,
    };
  }

  private async list(): Promise<void> {
    const session = ++this.session;
    this.state = 'listing';
    const listed = new Map<string, R>();
    let resourceVersion = '';
    try {
      let continueToken: string | undefined;
      do {
        const page = await this.descriptor.listPage(LIST_PAGE_SIZE, continueToken);
        if (session !== this.session) return;
        // Converted page by page: the full objects of one page at most are alive.
        for (const item of page.items) {
          const record = this.convert(item);
          if (record !== undefined) listed.set(record.key, record);
        }
        resourceVersion = page.resourceVersion;
        continueToken = page.continueToken;
      } while (continueToken);
    } catch (error) {
      if (session === this.session) this.fail(error, 'list');
      return;
    }
    this.replaceAll(listed);
    this.resourceVersion = resourceVersion;
    this.backoffMs = this.backoff.initialMs;
    if (!this.synced) {
      this.synced = true;
      this.logger.log({ entries: listed.size, resourceVersion }, 'Initial list synced');
      this.onSynced();
    }
    void this.openWatch();
  }

  /** Makes the cache equal to a fresh list: removes what vanished, upserts what changed. */
  private replaceAll(listed: Map<string, R>): void {
    for (const [key, previous] of this.records) {
      if (!listed.has(key)) this.listener.remove(previous);
    }
    for (const [key, record] of listed) {
      const previous = this.records.get(key);
      if (previous !== undefined && previous.resourceVersion === record.resourceVersion) listed.set(key, previous);
      else this.listener.upsert(record);
    }
    this.records = listed;
  }

  private async openWatch(): Promise<void> {
    const session = ++this.session;
    this.state = 'watching';
    this.eventsThisWatch = 0;
    this.streamError = undefined;
    let abort: AbortController;
    try {
      abort = await this.watch.watch(
        this.descriptor.path,
        { resourceVersion: this.resourceVersion, allowWatchBookmarks: true },
        (type, object) => {
          if (session === this.session) this.onEvent(type, object);
        },
        (error) => {
          if (session === this.session) this.onWatchEnd(error);
        },
      );
    } catch (error) {
      // Failures before the request (no current cluster, credentials plugin): same handling.
      if (session === this.session) this.fail(error, 'watch');
      return;
    }
    if (session === this.session) this.abortWatch = abort;
    else abort.abort();
  }

  private onEvent(type: string, object: unknown): void {
    this.eventsThisWatch++;
    this.lastEventAtMs = this.clock.nowMs();
    this.backoffMs = this.backoff.initialMs;
    switch (type) {
      case 'ADDED':
      case 'MODIFIED': {
        const record = this.convert(object);
        if (record === undefined) return;
        this.records.set(record.key, record);
        this.listener.upsert(record);
        this.resourceVersion = record.resourceVersion;
        return;
      }
      case 'DELETED': {
        const identity = objectIdentity(object, this.descriptor.namespaced);
        if ('problem' in identity) return this.reject(object, identity.problem);
        const previous = this.records.get(identity.key);
        if (previous !== undefined) {
          this.records.delete(identity.key);
          this.listener.remove(previous);
        }
        this.resourceVersion = identity.resourceVersion;
        return;
      }
      case 'BOOKMARK': {
        const identity = (object as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
        if (typeof identity === 'string') this.resourceVersion = identity;
        return;
      }
      case 'ERROR': {
        const status = object as { code?: unknown; message?: unknown } | null;
        this.streamError = { gone: status?.code === HTTP_GONE, message: `watch ERROR ${status?.code}: ${status?.message}` };
        // The server ends the stream after an ERROR; do not rely on it.
        this.abortWatch?.abort();
        return;
      }
      default:
        this.logger.warn({ type }, 'Ignored watch event of unknown type');
    }
  }

  private onWatchEnd(error: unknown): void {
    this.abortWatch = undefined;
    const streamError = this.streamError;
    if (streamError?.gone || statusCodeOf(error) === HTTP_GONE) {
      this.relists++;
      this.logger.log({ resourceVersion: this.resourceVersion }, 'Resource version expired (410); re-listing');
      void this.list();
    } else if (streamError !== undefined) {
      this.fail(new Error(streamError.message), 'watch');
    } else if (error && !isClientTimeout(error)) {
      this.fail(error, 'watch');
    } else if (!error && this.eventsThisWatch === 0) {
      // Closed with nothing delivered: back off so a server that keeps closing is not hammered.
      this.schedule(() => this.openWatch());
    } else {
      void this.openWatch();
    }
  }

  private fail(error: unknown, during: 'list' | 'watch'): void {
    this.errors++;
    this.restarts++;
    this.lastError = `${during}: ${messageOf(error)}`;
    this.logger.warn({ during, error: this.lastError, retryInMs: this.backoffMs }, 'Kubernetes API request failed; restarting with a fresh list after back-off');
    this.schedule(() => this.list());
  }

  /** Runs `action` after the current back-off, doubling it; at most one pending. */
  private schedule(action: () => Promise<void>): void {
    if (this.pendingRestart !== undefined || this.state === 'stopped') return;
    this.state = 'waiting';
    const session = ++this.session;
    this.pendingRestart = setTimeout(() => {
      this.pendingRestart = undefined;
      if (session === this.session) void action();
    }, this.backoffMs);
    this.pendingRestart.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, this.backoff.maxMs);
  }

  private convert(object: unknown): R | undefined {
    const conversion = this.descriptor.toRecord(object);
    if ('problem' in conversion) {
      this.reject(object, conversion.problem);
      return undefined;
    }
    return conversion.record;
  }

  private reject(object: unknown, problem: string): void {
    this.rejected++;
    const metadata = (object as { metadata?: { namespace?: unknown; name?: unknown } } | null)?.metadata;
    this.logger.warn({ problem, namespace: metadata?.namespace, name: metadata?.name }, 'Rejected malformed object');
  }
}

function statusCodeOf(error: unknown): number | undefined {
  const { statusCode, code } = (error ?? {}) as { statusCode?: unknown; code?: unknown };
  if (typeof statusCode === 'number') return statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** client-node aborts a watch that carried no bytes for 30 s; that is not a failure. */
function isClientTimeout(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'TimeoutError';
}

function messageOf(error: unknown): string {
  const code = statusCodeOf(error);
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return code === undefined ? message : `HTTP ${code}: ${message}`;
}

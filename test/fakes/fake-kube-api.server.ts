import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * An in-memory Kubernetes API server speaking the list/watch protocol, for driving
 * the real client-node against it. One store of objects per resource; one global,
 * monotonically increasing resourceVersion (as etcd gives); an event history per
 * resource so a watch resumes from any resourceVersion not yet compacted away.
 *
 * Faults: injectFault() (HTTP status on the next list/watch), expireWatches()
 * (in-stream ERROR 410), closeWatches() (server ends streams cleanly), compact()
 * (older resourceVersions answer 410), stop()/start() on the same port.
 *
 * Extend with defineResource() for more kinds and route() for other endpoints:
 * fake-metrics-api.ts (metrics.k8s.io) and fake-lease-api.ts (Leases) do.
 */

export interface ResourceDefinition {
  /** Group-version path prefix: '/api/v1' or '/apis/apps/v1'. */
  readonly prefix: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface StoredEvent {
  readonly resourceVersion: number;
  readonly type: EventType;
  readonly object: KubeObject;
}

interface OpenWatch {
  readonly response: ServerResponse;
  readonly namespace: string | undefined;
}

interface ResourceState {
  readonly definition: ResourceDefinition;
  readonly objects: Map<string, KubeObject>;
  readonly history: StoredEvent[];
  readonly watches: Set<OpenWatch>;
  /** Watches from a resourceVersion below this one are answered 410 Gone. */
  compactedBelow: number;
}

export type KubeObject = Record<string, any>;

export type Verb = 'list' | 'watch' | 'get';

export interface ChangeOptions {
  readonly unseen?: boolean;
}

export interface Fault {
  readonly verb: Verb;
  /** Resource plural; every resource when absent. */
  readonly resource?: string;
  readonly status: number;
  /** How many requests it answers; every one until cleared when absent. */
  times?: number;
}

export interface RecordedRequest {
  readonly verb: Verb | 'other';
  readonly resource: string | undefined;
  readonly query: URLSearchParams;
}

export type RouteHandler = (request: IncomingMessage, url: URL, response: ServerResponse) => void;

export const STANDARD_RESOURCES: readonly ResourceDefinition[] = [
  { prefix: '/api/v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { prefix: '/api/v1', plural: 'services', kind: 'Service', namespaced: true },
  { prefix: '/api/v1', plural: 'nodes', kind: 'Node', namespaced: false },
  { prefix: '/api/v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { prefix: '/apis/discovery.k8s.io/v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  { prefix: '/apis/apps/v1', plural: 'replicasets', kind: 'ReplicaSet', namespaced: true },
  { prefix: '/apis/apps/v1', plural: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  { prefix: '/apis/apps/v1', plural: 'daemonsets', kind: 'DaemonSet', namespaced: true },
  { prefix: '/apis/apps/v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  { prefix: '/apis/batch/v1', plural: 'jobs', kind: 'Job', namespaced: true },
  { prefix: '/apis/batch/v1', plural: 'cronjobs', kind: 'CronJob', namespaced: true },
  { prefix: '/apis/autoscaling/v2', plural: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', namespaced: true },
];

export class FakeKubeApiServer {
  private readonly resources = new Map<string, ResourceState>();
  private readonly routes: Array<{ method: string; path: RegExp; handler: RouteHandler }> = [];
  private readonly faults: Fault[] = [];
  private readonly listSnapshots = new Map<string, { items: KubeObject[]; resourceVersion: number }>();
  private server: Server | undefined;
  private listenPort = 0;
  private resourceVersion = 1000;
  private snapshotIds = 0;
  /** Every list and watch request, in order: for asserting what the client asked. */
  readonly requests: RecordedRequest[] = [];

  constructor(definitions: readonly ResourceDefinition[] = STANDARD_RESOURCES) {
    for (const definition of definitions) this.defineResource(definition);
  }

  /** Starts listening on an ephemeral port, or on the port it had before stop(). */
  async start(): Promise<this> {
    const server = createServer((request, response) => this.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.listenPort = (server.address() as AddressInfo).port;
    return this;
  }

  /** Goes away like a dead API server: open watch streams are cut, connections closed. The store is kept. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    for (const state of this.resources.values()) {
      for (const watch of state.watches) watch.response.destroy();
      state.watches.clear();
    }
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  get port(): number {
    return this.listenPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.listenPort}`;
  }

  kubeConfig(): KubeConfig {
    return loopbackKubeConfig(this.listenPort);
  }

  defineResource(definition: ResourceDefinition): void {
    this.resources.set(definition.plural, { definition, objects: new Map(), history: [], watches: new Set(), compactedBelow: 0 });
  }

  /** Serves another endpoint (checked before the list/watch routes). */
  route(method: string, path: RegExp, handler: RouteHandler): void {
    this.routes.push({ method, path, handler });
  }

  // ---- store -------------------------------------------------------------

  /**
   * Adds or replaces an object, stamping a new resourceVersion; watchers get ADDED
   * or MODIFIED. `unseen` changes the store only, as if the event were lost: a
   * client learns of it from its next LIST.
   */
  apply(resource: string, object: KubeObject, options: ChangeOptions = {}): KubeObject {
    const state = this.state(resource);
    const key = objectKey(state.definition, object);
    const type: EventType = state.objects.has(key) ? 'MODIFIED' : 'ADDED';
    const stored = this.stamp(state, object);
    state.objects.set(key, stored);
    if (!options.unseen) this.record(state, type, stored);
    return stored;
  }

  /** Deletes by namespace/name (or name); watchers get DELETED unless `unseen`. */
  remove(resource: string, name: string, namespace?: string, options: ChangeOptions = {}): void {
    const state = this.state(resource);
    const key = state.definition.namespaced ? `${namespace ?? 'default'}/${name}` : name;
    const existing = state.objects.get(key);
    if (existing === undefined) throw new Error(`${resource} ${key} does not exist`);
    state.objects.delete(key);
    const stamped = this.stamp(state, existing);
    if (!options.unseen) this.record(state, 'DELETED', stamped);
  }

  /** The current (latest) resourceVersion of the store. */
  get latestResourceVersion(): string {
    return String(this.resourceVersion);
  }

  /** Sends a raw event, as is, to open watches of a resource (malformed objects, bookmarks). */
  sendRaw(resource: string, event: { type: string; object: unknown }): void {
    for (const watch of this.state(resource).watches) watch.response.write(`${JSON.stringify(event)}\n`);
  }

  objects(resource: string): KubeObject[] {
    return [...this.state(resource).objects.values()];
  }

  // ---- faults ------------------------------------------------------------

  injectFault(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Forgets history: watches from any resourceVersion seen so far answer 410 Gone. */
  compact(resource?: string): void {
    for (const state of this.selected(resource)) {
      state.history.length = 0;
      state.compactedBelow = this.resourceVersion + 1;
    }
  }

  /** Sends an in-stream ERROR 410 (Expired) on open watches and ends them, as the API server does. */
  expireWatches(resource?: string): void {
    for (const state of this.selected(resource)) {
      for (const watch of state.watches) endWatch(watch.response, goneEvent());
      state.watches.clear();
    }
  }

  /** Ends open watch streams cleanly (the API server's watch timeout). */
  closeWatches(resource?: string): void {
    for (const state of this.selected(resource)) {
      for (const watch of state.watches) watch.response.end();
      state.watches.clear();
    }
  }

  openWatches(resource: string): number {
    return this.state(resource).watches.size;
  }

  requestCount(verb: Verb, resource: string): number {
    return this.requests.filter((request) => request.verb === verb && request.resource === resource).length;
  }

  // ---- protocol ----------------------------------------------------------

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', this.url);
    const route = this.routes.find((candidate) => candidate.method === request.method && candidate.path.test(url.pathname));
    if (route !== undefined) return route.handler(request, url, response);
    const target = request.method === 'GET' ? this.resolve(url.pathname) : undefined;
    if (target === undefined) {
      this.requests.push({ verb: 'other', resource: undefined, query: url.searchParams });
      return sendStatus(response, 404, 'NotFound', `${request.method} ${url.pathname} is not served`);
    }
    const verb: Verb = target.name !== undefined ? 'get' : url.searchParams.get('watch') === 'true' ? 'watch' : 'list';
    this.requests.push({ verb, resource: target.state.definition.plural, query: url.searchParams });
    const fault = this.takeFault(verb, target.state.definition.plural);
    if (fault !== undefined) return sendStatus(response, fault.status, 'InjectedFault', `injected ${verb} fault`);
    if (verb === 'get') this.serveGet(target.state, target.namespace, target.name!, response);
    else if (verb === 'watch') this.serveWatch(target.state, target.namespace, url, response);
    else this.serveList(target.state, target.namespace, url, response);
  }

  /** A collection (list/watch) or, with a trailing name, one object (get). */
  private resolve(pathname: string): { state: ResourceState; namespace: string | undefined; name: string | undefined } | undefined {
    for (const state of this.resources.values()) {
      const { prefix, plural, namespaced } = state.definition;
      const pattern = namespaced ? `^${prefix}/(?:namespaces/([^/]+)/)?${plural}(?:/([^/]+))?$` : `^${prefix}/()?${plural}(?:/([^/]+))?$`;
      const match = new RegExp(pattern).exec(pathname);
      if (match === null) continue;
      const [, namespace, name] = match.map((part) => (part === undefined || part === '' ? undefined : decodeURIComponent(part)));
      // A namespaced object is read within its namespace.
      if (name !== undefined && namespaced && namespace === undefined) continue;
      return { state, namespace, name };
    }
    return undefined;
  }

  /** GET of one object by name: 404 when absent, as the API server answers. */
  private serveGet(state: ResourceState, namespace: string | undefined, name: string, response: ServerResponse): void {
    const object = state.objects.get(state.definition.namespaced ? `${namespace}/${name}` : name);
    if (object === undefined) return sendStatus(response, 404, 'NotFound', `${state.definition.plural} "${name}" not found`);
    sendJson(response, 200, object);
  }

  /** LIST, paged with limit/continue over a snapshot taken by the first page, as the API server guarantees. */
  private serveList(state: ResourceState, namespace: string | undefined, url: URL, response: ServerResponse): void {
    const limit = Number(url.searchParams.get('limit') ?? 0);
    const token = url.searchParams.get('continue');
    let snapshot = token ? this.listSnapshots.get(token.split(':')[0]) : undefined;
    if (token && snapshot === undefined) return sendStatus(response, 410, 'Expired', 'continue token expired');
    snapshot ??= {
      items: [...state.objects.values()].filter((object) => namespace === undefined || object.metadata.namespace === namespace),
      resourceVersion: this.resourceVersion,
    };
    const offset = token ? Number(token.split(':')[1]) : 0;
    const end = limit > 0 ? Math.min(offset + limit, snapshot.items.length) : snapshot.items.length;
    let next: string | undefined;
    if (end < snapshot.items.length) {
      const id = token ? token.split(':')[0] : String(++this.snapshotIds);
      this.listSnapshots.set(id, snapshot);
      next = `${id}:${end}`;
    } else if (token) {
      this.listSnapshots.delete(token.split(':')[0]);
    }
    const { definition } = state;
    sendJson(response, 200, {
      kind: `${definition.kind}List`,
      apiVersion: apiVersionOf(definition),
      metadata: { resourceVersion: String(snapshot.resourceVersion), continue: next },
      items: snapshot.items.slice(offset, end),
    });
  }

  /** WATCH: replays history after the given resourceVersion, then streams live events. */
  private serveWatch(state: ResourceState, namespace: string | undefined, url: URL, response: ServerResponse): void {
    const from = Number(url.searchParams.get('resourceVersion') || this.resourceVersion);
    response.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    // Headers now, as the API server does: a client's fetch resolves before the first event.
    response.flushHeaders();
    if (from < state.compactedBelow) return endWatch(response, goneEvent());
    for (const event of state.history) {
      if (event.resourceVersion > from && inNamespace(event.object, namespace)) {
        response.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
      }
    }
    const watch: OpenWatch = { response, namespace };
    state.watches.add(watch);
    response.on('close', () => state.watches.delete(watch));
  }

  private takeFault(verb: Verb, resource: string): Fault | undefined {
    const index = this.faults.findIndex((fault) => fault.verb === verb && (fault.resource === undefined || fault.resource === resource));
    if (index < 0) return undefined;
    const fault = this.faults[index];
    if (fault.times !== undefined && --fault.times <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private stamp(state: ResourceState, object: KubeObject): KubeObject {
    const { definition } = state;
    return {
      apiVersion: apiVersionOf(definition),
      kind: definition.kind,
      ...object,
      metadata: { ...object.metadata, resourceVersion: String(++this.resourceVersion) },
    };
  }

  private record(state: ResourceState, type: EventType, object: KubeObject): void {
    const event: StoredEvent = { resourceVersion: Number(object.metadata.resourceVersion), type, object };
    state.history.push(event);
    const line = `${JSON.stringify({ type, object })}\n`;
    for (const watch of state.watches) if (inNamespace(object, watch.namespace)) watch.response.write(line);
  }

  private state(resource: string): ResourceState {
    const state = this.resources.get(resource);
    if (state === undefined) throw new Error(`unknown resource ${resource}`);
    return state;
  }

  private selected(resource: string | undefined): ResourceState[] {
    return resource === undefined ? [...this.resources.values()] : [this.state(resource)];
  }
}

function objectKey(definition: ResourceDefinition, object: KubeObject): string {
  const name = object.metadata?.name;
  if (typeof name !== 'string') throw new Error('object without metadata.name');
  return definition.namespaced ? `${object.metadata.namespace ?? 'default'}/${name}` : name;
}

function apiVersionOf(definition: ResourceDefinition): string {
  return definition.prefix === '/api/v1' ? 'v1' : definition.prefix.replace('/apis/', '');
}

function inNamespace(object: KubeObject, namespace: string | undefined): boolean {
  return namespace === undefined || object.metadata?.namespace === namespace;
}

function statusBody(code: number, reason: string, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function goneEvent(): object {
  return { type: 'ERROR', object: statusBody(410, 'Expired', 'too old resource version') };
}

function endWatch(response: ServerResponse, event: object): void {
  response.end(`${JSON.stringify(event)}\n`);
}

export function sendJson(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

export function sendStatus(response: ServerResponse, code: number, reason: string, message: string): void {
  sendJson(response, code, statusBody(code, reason, message));
}

/** A KubeConfig for an API server on 127.0.0.1:port without authentication (the fake server, or one in a child process). */
export function loopbackKubeConfig(port: number): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'fake' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  return kubeConfig;
}

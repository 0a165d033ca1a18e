import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, sendStatus, type FakeKubeApiServer, type KubeObject } from './fake-kube-api.server.js';

const LEASES = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/;
/** The API server parses MicroTime with exactly six fractional digits (RFC3339Micro). */
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

/**
 * coordination.k8s.io/v1 Leases on a FakeKubeApiServer, with the API server's
 * optimistic concurrency: GET by name (404 when absent), POST (409 if it
 * exists), PUT (409 Conflict when metadata.resourceVersion is stale, 404 when
 * absent). MicroTime fields must have six fractional digits, or 400.
 */
export class FakeLeaseApi {
  private readonly leases = new Map<string, KubeObject>();
  private resourceVersion = 1;
  /** Requests per verb, and the conflicts answered. */
  readonly counts = { get: 0, create: 0, replace: 0, conflicts: 0, rejected: 0 };
  /** Fails the next N write requests (POST/PUT) with this status, as an overloaded API server. */
  private failWrites: { status: number; times: number } | undefined;

  constructor(server: FakeKubeApiServer) {
    server.route('GET', LEASES, (_request, url, response) => this.get(url, response));
    server.route('POST', LEASES, (request, url, response) => void this.create(request, url, response));
    server.route('PUT', LEASES, (request, url, response) => void this.replace(request, url, response));
  }

  lease(namespace: string, name: string): KubeObject | undefined {
    return this.leases.get(`${namespace}/${name}`);
  }

  /** Makes the next `times` writes fail with `status` (e.g. 500). */
  failNextWrites(status: number, times: number): void {
    this.failWrites = { status, times };
  }

  private get(url: URL, response: ServerResponse): void {
    this.counts.get++;
    const [namespace, name] = pathParts(url);
    const lease = name === undefined ? undefined : this.leases.get(`${namespace}/${name}`);
    if (lease === undefined) return sendStatus(response, 404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`);
    sendJson(response, 200, lease);
  }

  private async create(request: IncomingMessage, url: URL, response: ServerResponse): Promise<void> {
    this.counts.create++;
    const body = await readBody(request);
    if (this.injectedFailure(response) || this.invalid(body, response)) return;
    const [namespace] = pathParts(url);
    const key = `${namespace}/${body.metadata.name}`;
    if (this.leases.has(key)) {
      this.counts.conflicts++;
      return sendStatus(response, 409, 'AlreadyExists', `leases.coordination.k8s.io "${body.metadata.name}" already exists`);
    }
    sendJson(response, 201, this.store(key, namespace, body));
  }

  private async replace(request: IncomingMessage, url: URL, response: ServerResponse): Promise<void> {
    this.counts.replace++;
    const body = await readBody(request);
    if (this.injectedFailure(response) || this.invalid(body, response)) return;
    const [namespace, name] = pathParts(url);
    const key = `${namespace}/${name}`;
    const existing = this.leases.get(key);
    if (existing === undefined) return sendStatus(response, 404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`);
    if (body.metadata.resourceVersion !== existing.metadata.resourceVersion) {
      this.counts.conflicts++;
      return sendStatus(response, 409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again');
    }
    sendJson(response, 200, this.store(key, namespace, body));
  }

  private store(key: string, namespace: string, body: KubeObject): KubeObject {
    const stored = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      ...body,
      metadata: { ...body.metadata, namespace, resourceVersion: String(++this.resourceVersion) },
    };
    this.leases.set(key, stored);
    return stored;
  }

  private injectedFailure(response: ServerResponse): boolean {
    if (this.failWrites === undefined || this.failWrites.times <= 0) return false;
    this.failWrites.times--;
    sendStatus(response, this.failWrites.status, 'InjectedFault', 'injected write fault');
    return true;
  }

  private invalid(body: KubeObject, response: ServerResponse): boolean {
    const spec = body?.spec ?? {};
    const badTime = ['acquireTime', 'renewTime'].find((field) => spec[field] !== undefined && spec[field] !== null && !MICRO_TIME.test(spec[field]));
    if (typeof body?.metadata?.name === 'string' && badTime === undefined) return false;
    this.counts.rejected++;
    sendStatus(response, 400, 'BadRequest', badTime ? `parsing time "${spec[badTime]}" as "2006-01-02T15:04:05.000000Z07:00"` : 'metadata.name required');
    return true;
  }
}

function pathParts(url: URL): [string, string | undefined] {
  const match = LEASES.exec(url.pathname)!;
  return [decodeURIComponent(match[1]), match[2] === undefined ? undefined : decodeURIComponent(match[2])];
}

async function readBody(request: IncomingMessage): Promise<KubeObject> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return {};
  }
}

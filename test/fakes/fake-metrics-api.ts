import type { ServerResponse } from 'node:http';
import { sendJson, sendStatus, type FakeKubeApiServer, type KubeObject } from './fake-kube-api.server.js';

const GROUP_VERSION = '/apis/metrics.k8s.io/v1beta1';
const ANY_PATH = /^\/apis\/metrics\.k8s\.io\/v1beta1(\/.*)?$/;

export interface ContainerUsage {
  readonly name: string;
  readonly cpu: string;
  readonly memory: string;
}

/**
 * metrics.k8s.io/v1beta1 on a FakeKubeApiServer, as metrics-server serves it:
 * discovery, NodeMetrics (list and by name) and PodMetrics (all namespaces or
 * one). setAvailable(false) makes the whole group answer 404, as when no metrics
 * server is registered. Items are kept as given, so malformed ones can be served.
 */
export class FakeMetricsApi {
  private available = true;
  private readonly pods = new Map<string, KubeObject>();
  private readonly nodes = new Map<string, KubeObject>();
  /** Requests by kind: discovery, pod lists, node reads by name, node lists. */
  readonly counts = { discovery: 0, podLists: 0, nodeReads: 0, nodeLists: 0 };

  constructor(server: FakeKubeApiServer) {
    server.route('GET', ANY_PATH, (_request, url, response) => this.handle(url, response));
  }

  setAvailable(available: boolean): void {
    this.available = available;
  }

  setPodUsage(namespace: string, name: string, containers: readonly ContainerUsage[]): void {
    this.setPodMetrics({
      metadata: { name, namespace, creationTimestamp: new Date().toISOString() },
      timestamp: new Date().toISOString(),
      window: '15s',
      containers: containers.map(({ name: container, cpu, memory }) => ({ name: container, usage: { cpu, memory } })),
    });
  }

  /** Stores a PodMetrics item as is (for malformed items). */
  setPodMetrics(item: KubeObject): void {
    this.pods.set(`${item.metadata?.namespace}/${item.metadata?.name}`, { kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', ...item });
  }

  setNodeUsage(name: string, cpu: string, memory: string): void {
    this.nodes.set(name, {
      kind: 'NodeMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name, creationTimestamp: new Date().toISOString() },
      timestamp: new Date().toISOString(),
      window: '20s',
      usage: { cpu, memory },
    });
  }

  removePod(namespace: string, name: string): void {
    this.pods.delete(`${namespace}/${name}`);
  }

  removeNode(name: string): void {
    this.nodes.delete(name);
  }

  private handle(url: URL, response: ServerResponse): void {
    const path = url.pathname.slice(GROUP_VERSION.length);
    if (path === '' || path === '/') this.counts.discovery++;
    if (!this.available) return sendStatus(response, 404, 'NotFound', 'the server could not find the requested resource');
    if (path === '' || path === '/') {
      return sendJson(response, 200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: 'metrics.k8s.io/v1beta1',
        resources: [
          { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
          { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
        ],
      });
    }
    if (path === '/nodes') {
      this.counts.nodeLists++;
      return sendJson(response, 200, list('NodeMetricsList', [...this.nodes.values()]));
    }
    const node = /^\/nodes\/([^/]+)$/.exec(path);
    if (node !== null) {
      this.counts.nodeReads++;
      const item = this.nodes.get(decodeURIComponent(node[1]));
      return item === undefined ? sendStatus(response, 404, 'NotFound', `nodemetrics.metrics.k8s.io "${node[1]}" not found`) : sendJson(response, 200, item);
    }
    const pods = /^(?:\/namespaces\/([^/]+))?\/pods$/.exec(path);
    if (pods !== null) {
      this.counts.podLists++;
      const namespace = pods[1] === undefined ? undefined : decodeURIComponent(pods[1]);
      return sendJson(response, 200, list('PodMetricsList', [...this.pods.values()].filter((item) => namespace === undefined || item.metadata?.namespace === namespace)));
    }
    sendStatus(response, 404, 'NotFound', `${url.pathname} is not served`);
  }
}

function list(kind: string, items: KubeObject[]): KubeObject {
  return { kind, apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items };
}

import { Logger } from '@nestjs/common';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { ResourceUsagePort } from '../../application/vitals/resource-usage.port.js';
import type { ResourceAmounts } from '../../domain/vitals/vitals.js';
import { arrayOf, isObject } from '../kubernetes/kubernetes-records.js';
import { toNodeUsage, toPodUsage } from './vitals-records.js';

const METRICS_API = { group: 'metrics.k8s.io', version: 'v1beta1' } as const;
const HTTP_NOT_FOUND = 404;

/**
 * ResourceUsagePort on metrics.k8s.io/v1beta1 (metrics-server): discovery, the
 * PodMetrics list of the whole cluster (one request) and one NodeMetrics by name.
 */
export class MetricsServerClient extends ResourceUsagePort {
  private readonly logger = new Logger(MetricsServerClient.name);
  private readonly api: CustomObjectsApi;
  private rejectedItems = 0;

  constructor(kubeConfig: KubeConfig) {
    super();
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async isAvailable(): Promise<boolean> {
    try {
      const resources = await this.api.getAPIResources(METRICS_API);
      return resources.resources.some((resource) => resource.name === 'pods') && resources.resources.some((resource) => resource.name === 'nodes');
    } catch {
      // 404: not registered; 503: registered but not answering. Either way: no usage.
      return false;
    }
  }

  async podUsage(): Promise<ReadonlyMap<string, ResourceAmounts>> {
    const list: unknown = await this.api.listClusterCustomObject({ ...METRICS_API, plural: 'pods' });
    const usage = new Map<string, ResourceAmounts>();
    for (const item of arrayOf(isObject(list) ? list.items : undefined)) {
      const conversion = toPodUsage(item);
      if ('problem' in conversion) this.reject(item, conversion.problem);
      else usage.set(conversion.record.key, conversion.record.usage);
    }
    return usage;
  }

  async nodeUsage(name: string): Promise<ResourceAmounts | undefined> {
    let item: unknown;
    try {
      item = await this.api.getClusterCustomObject({ ...METRICS_API, plural: 'nodes', name });
    } catch (error) {
      // The metrics server has not scraped this node (yet): unknown, not an error.
      if ((error as { code?: unknown }).code === HTTP_NOT_FOUND) return undefined;
      throw error;
    }
    const conversion = toNodeUsage(item);
    if ('problem' in conversion) {
      this.reject(item, conversion.problem);
      return undefined;
    }
    return conversion.record;
  }

  rejected(): number {
    return this.rejectedItems;
  }

  private reject(item: unknown, problem: string): void {
    this.rejectedItems++;
    const metadata = isObject(item) && isObject(item.metadata) ? item.metadata : {};
    this.logger.warn({ problem, namespace: metadata.namespace, name: metadata.name }, 'Rejected malformed metrics item');
  }
}

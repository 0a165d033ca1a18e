import type { ResourceAmounts } from '../../domain/vitals/vitals.js';

/** Usage from the metrics server (metrics.k8s.io); each call is one API request. */
export abstract class ResourceUsagePort {
  /** Discovery of metrics.k8s.io/v1beta1: false when no metrics server is registered or it does not answer. */
  abstract isAvailable(): Promise<boolean>;
  /** Every pod's usage (sum of its containers), keyed "namespace/name". Rejects when the request fails. */
  abstract podUsage(): Promise<ReadonlyMap<string, ResourceAmounts>>;
  /** One node's usage; undefined when the metrics server has none for it yet. Rejects when the request fails. */
  abstract nodeUsage(name: string): Promise<ResourceAmounts | undefined>;
  /** Metrics items that could not be read (malformed), counted since start. */
  abstract rejected(): number;
}

import { register, type Metric } from 'prom-client';

/**
 * Metrics an adapter owns for its lifetime. They read the adapter's state in
 * their collect() callbacks (so counts live in one place) and are removed when
 * the owner is destroyed, so a later app in the same process can register the
 * same names again (tests start several apps per file).
 *
 * Usage: create in the constructor with metrics built with `registers: []`, call
 * release() from onModuleDestroy.
 */
export class OwnedMetrics {
  private readonly names: string[];

  constructor(metrics: ReadonlyArray<Metric<string>>) {
    this.names = [];
    for (const metric of metrics) {
      const name = (metric as unknown as { name: string }).name;
      register.removeSingleMetric(name);
      register.registerMetric(metric);
      this.names.push(name);
    }
  }

  release(): void {
    for (const name of this.names) register.removeSingleMetric(name);
  }
}

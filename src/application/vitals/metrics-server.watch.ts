import { Injectable, Logger } from '@nestjs/common';
import { ClockPort } from '../ports/clock.port.js';
import { ResourceUsagePort } from './resource-usage.port.js';

export interface MetricsServerState {
  /** undefined until the first check. */
  readonly available: boolean | undefined;
  readonly lastCheckAtMs: number | undefined;
  /** Changes seen since start (appearances and disappearances). */
  readonly changes: number;
}

/** Knows whether a metrics server answers, from discovery of metrics.k8s.io/v1beta1; logs every change. */
@Injectable()
export class MetricsServerWatch {
  private readonly logger = new Logger(MetricsServerWatch.name);
  private available: boolean | undefined;
  private lastCheckAtMs: number | undefined;
  private changes = 0;

  constructor(
    private readonly usage: ResourceUsagePort,
    private readonly clock: ClockPort,
  ) {}

  isAvailable(): boolean {
    return this.available === true;
  }

  async check(): Promise<void> {
    const available = await this.usage.isAvailable();
    this.lastCheckAtMs = this.clock.nowMs();
    const previous = this.available;
    this.available = available;
    if (previous === available) return;
    if (previous !== undefined) this.changes++;
    if (available) this.logger.log(previous === undefined ? 'metrics server found: vitals include CPU and memory usage' : 'metrics server appeared: vitals include CPU and memory usage again');
    else this.logger.warn(previous === undefined ? 'metrics server not found (metrics.k8s.io/v1beta1): vitals go without usage' : 'metrics server disappeared: vitals go without usage');
  }

  state(): MetricsServerState {
    return { available: this.available, lastCheckAtMs: this.lastCheckAtMs, changes: this.changes };
  }
}

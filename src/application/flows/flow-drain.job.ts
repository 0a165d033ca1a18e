import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { AgentConfig } from '../config/agent-config.js';
import { ClockPort } from '../ports/clock.port.js';
import { FlowPipeline } from './flow-pipeline.service.js';
import { ExportSummary } from './export-summary.js';

/**
 * Runs the pipeline every FLOW_DRAIN_INTERVAL seconds. Each run is scheduled when
 * the previous one ends, so a slow drain never overlaps the next. At shutdown it
 * waits for the run in progress, then flushes every flow (forced end).
 */
@Injectable()
export class FlowDrainJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(FlowDrainJob.name);
  private readonly intervalMs: number;
  private readonly summaryIntervalMs: number;
  private readonly summary: ExportSummary;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastSummaryAtMs = 0;

  constructor(
    config: AgentConfig,
    private readonly pipeline: FlowPipeline,
    private readonly clock: ClockPort,
  ) {
    this.intervalMs = config.flows.drainIntervalSeconds * 1000;
    this.summaryIntervalMs = config.flows.activeTimeoutSeconds * 1000;
    this.summary = new ExportSummary(pipeline.stats);
  }

  onApplicationBootstrap(): void {
    this.lastSummaryAtMs = this.clock.nowMs();
    this.scheduleNext();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.pipeline.shutdown();
    this.logger.log(this.summary.sinceLast(), 'Final export summary');
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pipeline.drainOnce().then(() => {
        this.running = undefined;
        this.logSummaryIfDue();
        this.scheduleNext();
      });
    }, this.intervalMs);
  }

  private logSummaryIfDue(): void {
    const nowMs = this.clock.nowMs();
    if (nowMs - this.lastSummaryAtMs < this.summaryIntervalMs) return;
    this.lastSummaryAtMs = nowMs;
    this.logger.log(this.summary.sinceLast(), 'Export summary');
  }
}

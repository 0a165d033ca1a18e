import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { AgentConfig } from '../config/agent-config.js';
import { ClockPort } from '../ports/clock.port.js';
import { RepeatingTask } from '../scheduling/repeating-task.js';
import { ExportSummary } from './export-summary.js';
import { FlowPipeline } from './flow-pipeline.service.js';

/**
 * Runs the pipeline every FLOW_DRAIN_INTERVAL seconds (never overlapping: a slow
 * drain delays the next). At shutdown it waits for the run in progress, then
 * flushes every flow (forced end).
 */
@Injectable()
export class FlowDrainJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(FlowDrainJob.name);
  private readonly task: RepeatingTask;
  private readonly intervalMs: number;
  private readonly summaryIntervalMs: number;
  private readonly summary: ExportSummary;
  private lastSummaryAtMs = 0;

  constructor(
    config: AgentConfig,
    private readonly pipeline: FlowPipeline,
    private readonly clock: ClockPort,
  ) {
    this.intervalMs = config.flows.drainIntervalSeconds * 1000;
    this.summaryIntervalMs = config.flows.activeTimeoutSeconds * 1000;
    this.summary = new ExportSummary(pipeline.stats);
    this.task = new RepeatingTask(FlowDrainJob.name, this.intervalMs, async () => {
      await this.pipeline.drainOnce();
      this.logSummaryIfDue();
    });
  }

  onApplicationBootstrap(): void {
    this.lastSummaryAtMs = this.clock.nowMs();
    this.task.start(this.intervalMs);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.task.stop();
    await this.pipeline.shutdown();
    this.logger.log(this.summary.sinceLast(), 'Final export summary');
  }

  /** An info line per export interval (IPFIX_EXPORT_INTERVAL) with what the pipeline did since the last one. */
  private logSummaryIfDue(): void {
    const nowMs = this.clock.nowMs();
    if (nowMs - this.lastSummaryAtMs < this.summaryIntervalMs) return;
    this.lastSummaryAtMs = nowMs;
    this.logger.log(this.summary.sinceLast(), 'Export summary');
  }
}

import { Injectable, Optional } from '@nestjs/common';
import { AgentConfig } from '../config/agent-config.js';
import { FlowPipeline } from '../flows/flow-pipeline.service.js';
import { ClockPort } from '../ports/clock.port.js';
import type { ComponentHealth } from '../ports/component-health.js';
import { FlowSinkPort } from '../ports/flow-sink.port.js';
import { FlowSourcePort } from '../ports/flow-source.port.js';
import { MetadataPort } from '../ports/metadata.port.js';
import { VitalsReport } from '../vitals/vitals-report.js';

export interface ComponentVerdicts {
  readonly source: ComponentHealth;
  readonly metadata: ComponentHealth;
  readonly export: ComponentHealth;
  readonly pipeline: ComponentHealth;
}

/** How many drain intervals may pass without a successful drain before the pipeline is not ready. */
const STALLED_DRAIN_INTERVALS = 3;
/** Liveness allows a longer silence: a restart only helps when the loop itself is stuck. */
const DEAD_LOOP_MIN_MS = 30_000;
const DEAD_LOOP_INTERVALS = 10;

/** One place that knows the state of every component: /health and /status read it. */
@Injectable()
export class StatusService {
  private readonly startedAtMs: number;
  private readonly drainIntervalMs: number;

  constructor(
    private readonly config: AgentConfig,
    private readonly pipeline: FlowPipeline,
    private readonly source: FlowSourcePort,
    private readonly metadata: MetadataPort,
    private readonly sink: FlowSinkPort,
    private readonly clock: ClockPort,
    /** Present when the app has the vitals module (it is global). */
    @Optional() private readonly vitals?: VitalsReport,
  ) {
    this.startedAtMs = clock.nowMs();
    this.drainIntervalMs = config.flows.drainIntervalSeconds * 1000;
  }

  /** Liveness: the drain loop keeps turning. Never depends on the API server or collectors. */
  liveness(): ComponentHealth {
    const lastTick = this.pipeline.stats.lastTickAtMs ?? this.startedAtMs;
    const silentMs = this.clock.nowMs() - lastTick;
    const limitMs = Math.max(DEAD_LOOP_MIN_MS, DEAD_LOOP_INTERVALS * this.drainIntervalMs);
    const details = { lastTickAgoMs: silentMs, limitMs };
    return silentMs <= limitMs ? { ready: true, details } : { ready: false, reason: 'drain loop is not running', details };
  }

  verdicts(): ComponentVerdicts {
    return {
      source: this.source.health(),
      metadata: this.metadata.health(),
      export: this.sink.health(),
      pipeline: this.pipelineHealth(),
    };
  }

  status(): Record<string, unknown> {
    const stats = this.pipeline.stats;
    const verdicts = this.verdicts();
    return {
      node: this.config.nodeName,
      uptimeSeconds: Math.round((this.clock.nowMs() - this.startedAtMs) / 1000),
      ready: Object.values(verdicts).every((verdict) => verdict.ready),
      pipeline: {
        ...verdicts.pipeline.details,
        deltasMerged: stats.deltasMerged,
        deltasRejected: stats.deltasRejected,
        recordsExported: stats.recordsExported,
        endReasons: Object.fromEntries(stats.endReasons),
        enrichment: { ...stats.enrichment, errors: stats.enrichmentErrors },
        dropped: [...stats.dropped(), ...this.sink.drops()],
      },
      source: verdicts.source,
      metadata: verdicts.metadata,
      export: verdicts.export,
      ...(this.vitals === undefined ? {} : { vitals: this.vitals.status() }),
    };
  }

  private pipelineHealth(): ComponentHealth {
    const stats = this.pipeline.stats;
    const nowMs = this.clock.nowMs();
    const lastDrainAgoMs = nowMs - (stats.lastDrainAtMs ?? this.startedAtMs);
    const details = {
      drains: stats.drains,
      drainFailures: stats.drainFailures,
      lastDrainAgoMs,
      lastDrainDurationMs: stats.lastDrainDurationMs,
      sourceEntries: stats.sourceEntries,
      sourceCapacity: stats.sourceCapacity,
      tableFlows: this.pipeline.tableSize,
      tableCapacity: this.pipeline.tableCapacity,
    };
    if (lastDrainAgoMs > STALLED_DRAIN_INTERVALS * this.drainIntervalMs) {
      return { ready: false, reason: `no successful drain for ${lastDrainAgoMs} ms`, details };
    }
    return { ready: true, details };
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { FlowTable } from '../../domain/flow/flow-table.js';
import type { EnrichedFlow, FlowRecord } from '../../domain/flow/flow-record.js';
import type { EndpointContext } from '../../domain/kubernetes/endpoint-context.js';
import { AgentConfig } from '../config/agent-config.js';
import { ClockPort } from '../ports/clock.port.js';
import { FlowSinkPort } from '../ports/flow-sink.port.js';
import { FlowSourcePort } from '../ports/flow-source.port.js';
import { MetadataPort, type EndpointQuery } from '../ports/metadata.port.js';
import { PipelineStats } from './pipeline-stats.js';

/**
 * The flow use case: drain the source into the flow table, release what is due,
 * enrich both ends, hand the records to the sink. Every stage counts what it
 * processed and what it dropped in PipelineStats.
 */
@Injectable()
export class FlowPipeline {
  private readonly logger = new Logger(FlowPipeline.name);
  private readonly table: FlowTable;

  constructor(
    config: AgentConfig,
    private readonly source: FlowSourcePort,
    private readonly metadata: MetadataPort,
    private readonly sink: FlowSinkPort,
    private readonly clock: ClockPort,
    readonly stats: PipelineStats,
  ) {
    const limits = {
      idleTimeoutMs: config.flows.idleTimeoutSeconds * 1000,
      activeTimeoutMs: config.flows.activeTimeoutSeconds * 1000,
      endLingerMs: config.flows.endLingerSeconds * 1000,
      maxFlows: config.flows.maxFlows,
    };
    this.table = new FlowTable(limits, source);
  }

  get tableSize(): number {
    return this.table.size;
  }

  get tableCapacity(): number {
    return this.table.capacity;
  }

  /**
   * One drain cycle: each batch the source hands over is merged at once (overlapping
   * the source's reading of the next), then what is due is released. Never throws:
   * a failed drain is counted and logged, and what it merged before failing stays.
   */
  async drainOnce(): Promise<void> {
    const startedMs = this.clock.nowMs();
    const releasedEarly: FlowRecord[] = [];
    const rejected = new Map<string, number>();
    try {
      const drain = await this.source.drain((deltas) => {
        const merged = this.table.merge(deltas);
        this.stats.deltasMerged += merged.merged;
        for (const record of merged.released) releasedEarly.push(record);
        for (const [defect, count] of merged.rejected) rejected.set(defect, (rejected.get(defect) ?? 0) + count);
      });
      this.stats.drains++;
      this.stats.lastDrainAtMs = this.clock.nowMs();
      this.stats.lastDrainDurationMs = this.stats.lastDrainAtMs - startedMs;
      this.stats.sourceEntries = drain.entries;
      this.stats.sourceCapacity = drain.capacity;
      for (const [reason, count] of drain.drops) this.stats.drop('source', reason, count);
      this.export([...releasedEarly, ...this.table.expire(this.clock.nowMs())]);
    } catch (error) {
      this.stats.drainFailures++;
      this.logger.error({ err: error }, 'Flow drain failed');
      this.export(releasedEarly);
    } finally {
      this.countRejected(rejected);
      this.stats.lastTickAtMs = this.clock.nowMs();
    }
  }

  /** Shutdown: a last drain, then every flow released as a forced end and flushed to the sink. */
  async shutdown(): Promise<void> {
    await this.drainOnce();
    const remaining = this.table.releaseAll();
    this.export(remaining);
    await this.sink.flush();
    this.logger.log({ flows: remaining.length }, 'Flushed all flows at shutdown');
  }

  private countRejected(rejected: ReadonlyMap<string, number>): void {
    if (rejected.size === 0) return;
    for (const [defect, count] of rejected) {
      this.stats.deltasRejected += count;
      this.stats.drop('table', `malformed_${defect}`, count);
    }
    this.logger.warn({ rejected: Object.fromEntries(rejected) }, 'Dropped malformed flow deltas');
  }

  private export(records: readonly FlowRecord[]): void {
    if (records.length === 0) return;
    const enriched = records.map((flow): EnrichedFlow => {
      this.stats.endReasons.set(flow.endReason, (this.stats.endReasons.get(flow.endReason) ?? 0) + 1);
      const { key } = flow;
      return {
        flow,
        source: this.enrich({ ip: key.sourceAddress, port: key.sourcePort, protocol: key.protocol }),
        destination: this.enrich({ ip: key.destinationAddress, port: key.destinationPort, protocol: key.protocol }),
      };
    });
    this.sink.export(enriched);
    this.stats.recordsExported += enriched.length;
  }

  /** A lookup that throws is a bug in the metadata adapter: the record still goes out, without context. */
  private enrich(query: EndpointQuery): EndpointContext | undefined {
    let context: EndpointContext | undefined;
    try {
      context = this.metadata.lookup(query);
    } catch (error) {
      this.stats.enrichmentErrors++;
      this.logger.error({ err: error, query }, 'Metadata lookup failed; exporting this end without context');
    }
    if (context === undefined || context.isEmpty) {
      this.stats.enrichment.missing++;
      return undefined;
    }
    this.stats.enrichment.enriched++;
    return context;
  }
}

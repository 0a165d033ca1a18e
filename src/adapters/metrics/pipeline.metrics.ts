import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { FlowPipeline } from '../../application/flows/flow-pipeline.service.js';
import { FlowSinkPort } from '../../application/ports/flow-sink.port.js';
import { OwnedMetrics } from './owned-metrics.js';

const END_REASON_NAMES: Record<number, string> = { 1: 'idle', 2: 'active', 3: 'end_of_flow', 4: 'forced_end', 5: 'lack_of_resources' };

/** The pipeline's counters as Prometheus metrics, read from PipelineStats at scrape time. */
@Injectable()
export class PipelineMetrics implements OnModuleDestroy {
  private readonly metrics: OwnedMetrics;

  constructor(pipeline: FlowPipeline, sink: FlowSinkPort) {
    const stats = pipeline.stats;
    this.metrics = new OwnedMetrics([
      new Counter({
        name: 'ebpf_netflow_flows_processed_total',
        help: 'Flow records handed to the exporters (success) and drained deltas refused as malformed (failure).',
        labelNames: ['status'],
        registers: [],
        collect() {
          this.reset();
          this.inc({ status: 'success' }, stats.recordsExported);
          this.inc({ status: 'failure' }, stats.deltasRejected);
        },
      }),
      new Counter({
        name: 'ebpf_netflow_flows_released_total',
        help: 'Flow records released by the flow table, by IPFIX end reason.',
        labelNames: ['end_reason'],
        registers: [],
        collect() {
          this.reset();
          for (const [reason, count] of stats.endReasons) this.inc({ end_reason: END_REASON_NAMES[reason] ?? String(reason) }, count);
        },
      }),
      new Counter({
        name: 'ebpf_netflow_metadata_enrichment_total',
        help: 'Flow ends (source and destination of each exported record) with Kubernetes context found or missing.',
        labelNames: ['result'],
        registers: [],
        collect() {
          this.reset();
          this.inc({ result: 'enriched' }, stats.enrichment.enriched);
          this.inc({ result: 'missing' }, stats.enrichment.missing);
        },
      }),
      new Counter({
        name: 'ebpf_netflow_dropped_total',
        help: 'Everything lost, by pipeline stage and reason.',
        labelNames: ['stage', 'reason'],
        registers: [],
        collect() {
          this.reset();
          for (const drop of [...stats.dropped(), ...sink.drops()]) this.inc({ stage: drop.stage, reason: drop.reason }, drop.count);
        },
      }),
      new Gauge({
        name: 'ebpf_netflow_map_size',
        help: 'Entries in the kernel flow map at the last drain.',
        registers: [],
        collect() {
          this.set(stats.sourceEntries);
        },
      }),
      new Gauge({
        name: 'ebpf_netflow_map_capacity',
        help: 'Entries the kernel flow map can hold.',
        registers: [],
        collect() {
          this.set(stats.sourceCapacity);
        },
      }),
      new Gauge({
        name: 'ebpf_netflow_flow_table_size',
        help: 'Flows held in the user-space flow table.',
        registers: [],
        collect() {
          this.set(pipeline.tableSize);
        },
      }),
      new Gauge({
        name: 'ebpf_netflow_flow_table_capacity',
        help: 'Flows the user-space flow table holds before releasing the oldest (FLOW_TABLE_MAX_FLOWS).',
        registers: [],
        collect() {
          this.set(pipeline.tableCapacity);
        },
      }),
      new Counter({
        name: 'ebpf_netflow_drain_failures_total',
        help: 'Drains of the flow source that failed.',
        registers: [],
        collect() {
          this.reset();
          this.inc(stats.drainFailures);
        },
      }),
    ]);
  }

  onModuleDestroy(): void {
    this.metrics.release();
  }
}

import type { EnrichedFlow } from '../../domain/flow/flow-record.js';
import type { ComponentHealth } from './component-health.js';

/** A loss the sink counted (cumulative), e.g. datagrams sent while a collector was down. */
export interface StageDrop {
  readonly stage: string;
  readonly reason: string;
  readonly count: number;
}

/** Where released, enriched flows go. */
export abstract class FlowSinkPort {
  /** Queues the flows for every collector; never throws, losses are counted by the sink. */
  abstract export(flows: readonly EnrichedFlow[]): void;
  /** Resolves once everything queued so far has been handed to the network. */
  abstract flush(): Promise<void>;
  abstract health(): ComponentHealth;
  /** Every loss counted since start, for ebpf_netflow_dropped_total. */
  abstract drops(): readonly StageDrop[];
}

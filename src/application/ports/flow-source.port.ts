import type { FlowDelta } from '../../domain/flow/flow-observation.js';
import type { ComponentHealth } from './component-health.js';

/** Losses the source counted since the previous drain, by reason (e.g. "map_full"). */
export type SourceDrops = ReadonlyMap<string, number>;

export interface FlowDrain {
  readonly deltas: readonly FlowDelta[];
  /** Entries the source held when drained (the kernel map's fill) and how many it can hold. */
  readonly entries: number;
  readonly capacity: number;
  readonly drops: SourceDrops;
}

/** Where flow observations come from: each drain returns what was counted since the last one. */
export abstract class FlowSourcePort {
  abstract drain(): Promise<FlowDrain>;
  abstract health(): ComponentHealth;
}

import type { FlowKey } from '../../domain/flow/flow-key.js';
import type { FlowDelta, FlowNumbering } from '../../domain/flow/flow-observation.js';
import type { ComponentHealth } from './component-health.js';

/** Losses the source counted since the previous drain, by reason (e.g. "map_full"). */
export type SourceDrops = ReadonlyMap<string, number>;

/**
 * Takes one batch of a drain's deltas. Called during the drain, so merging a batch
 * overlaps the source's reading of the next; each batch is iterated once, during
 * the call (a source may decode each delta as it is reached).
 */
export type DeltaConsumer = (deltas: Iterable<FlowDelta>) => void;

/** What a drain reports once every batch has been consumed. */
export interface FlowDrain {
  /** Entries the source held when drained (the kernel map's fill) and how many it can hold. */
  readonly entries: number;
  readonly capacity: number;
  readonly drops: SourceDrops;
}

/**
 * Where flow observations come from: each drain hands over what was counted since
 * the last one. The source numbers its flows (FlowDelta.flowNumber) for the flow
 * table and keeps their keys; the table reads a flow's key (keyOf) and gives its
 * number back (release) when it lets go of the flow.
 */
export abstract class FlowSourcePort implements FlowNumbering {
  /** Hands the deltas counted since the last drain to `consume`, in one or more batches, then resolves. */
  abstract drain(consume: DeltaConsumer): Promise<FlowDrain>;
  /** The key of a flow number the source handed out and the table still holds. */
  abstract keyOf(flowNumber: number): FlowKey;
  /** The flow table no longer holds this flow: from now on its number may go to another key. */
  abstract release(flowNumber: number): void;
  abstract health(): ComponentHealth;
}

import type { FlowKey } from '../../src/domain/flow/flow-key.js';
import type { FlowDelta } from '../../src/domain/flow/flow-observation.js';
import type { ComponentHealth } from '../../src/application/ports/component-health.js';
import { FlowSourcePort, type DeltaConsumer, type FlowDrain } from '../../src/application/ports/flow-source.port.js';

/** A flow source fed by the test: push() deltas, and the next drain hands them over, in the batches they were pushed in. */
export class InMemoryFlowSource extends FlowSourcePort {
  private pending: FlowDelta[][] = [];
  private pendingDrops = new Map<string, number>();
  drains = 0;
  /** Flow numbers the flow table gave back, in order. */
  readonly releasedNumbers: number[] = [];
  /** The key of each flow number pushed (the last delta pushed with it). */
  private readonly keys = new Map<number, FlowKey>();
  failNextDrain: Error | undefined;
  ready = true;

  /** Adds the deltas to the next drain's last batch. */
  push(...deltas: FlowDelta[]): void {
    this.learnKeys(deltas);
    if (this.pending.length === 0) this.pending.push([]);
    this.pending[this.pending.length - 1].push(...deltas);
  }

  /** Adds the deltas to the next drain as a batch of their own. */
  pushBatch(...deltas: FlowDelta[]): void {
    this.learnKeys(deltas);
    this.pending.push(deltas);
  }

  reportDrop(reason: string, count: number): void {
    this.pendingDrops.set(reason, (this.pendingDrops.get(reason) ?? 0) + count);
  }

  async drain(consume: DeltaConsumer): Promise<FlowDrain> {
    this.drains++;
    if (this.failNextDrain) {
      const error = this.failNextDrain;
      this.failNextDrain = undefined;
      throw error;
    }
    const batches = this.pending;
    const drops = this.pendingDrops;
    this.pending = [];
    this.pendingDrops = new Map();
    for (const batch of batches) consume(batch);
    return { entries: batches.reduce((sum, batch) => sum + batch.length, 0), capacity: 1024, drops };
  }

  keyOf(flowNumber: number): FlowKey {
    const key = this.keys.get(flowNumber);
    if (key === undefined) throw new Error(`flow number ${flowNumber} was never pushed`);
    return key;
  }

  release(flowNumber: number): void {
    this.releasedNumbers.push(flowNumber);
  }

  private learnKeys(deltas: readonly FlowDelta[]): void {
    for (const delta of deltas) this.keys.set(delta.flowNumber, delta.key);
  }

  health(): ComponentHealth {
    return this.ready ? { ready: true, details: { drains: this.drains } } : { ready: false, reason: 'test says not ready', details: {} };
  }
}

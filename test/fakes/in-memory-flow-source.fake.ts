import type { FlowDelta } from '../../src/domain/flow/flow-observation.js';
import type { ComponentHealth } from '../../src/application/ports/component-health.js';
import { FlowSourcePort, type FlowDrain } from '../../src/application/ports/flow-source.port.js';

/** A flow source fed by the test: push() deltas, and the next drain returns them. */
export class InMemoryFlowSource extends FlowSourcePort {
  private pending: FlowDelta[] = [];
  private pendingDrops = new Map<string, number>();
  drains = 0;
  failNextDrain: Error | undefined;
  ready = true;

  push(...deltas: FlowDelta[]): void {
    this.pending.push(...deltas);
  }

  reportDrop(reason: string, count: number): void {
    this.pendingDrops.set(reason, (this.pendingDrops.get(reason) ?? 0) + count);
  }

  async drain(): Promise<FlowDrain> {
    this.drains++;
    if (this.failNextDrain) {
      const error = this.failNextDrain;
      this.failNextDrain = undefined;
      throw error;
    }
    const deltas = this.pending;
    const drops = this.pendingDrops;
    this.pending = [];
    this.pendingDrops = new Map();
    return { deltas, entries: deltas.length, capacity: 1024, drops };
  }

  health(): ComponentHealth {
    return this.ready ? { ready: true, details: { drains: this.drains } } : { ready: false, reason: 'test says not ready', details: {} };
  }
}

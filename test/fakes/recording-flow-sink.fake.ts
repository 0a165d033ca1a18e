import type { EnrichedFlow } from '../../src/domain/flow/flow-record.js';
import type { ComponentHealth } from '../../src/application/ports/component-health.js';
import { FlowSinkPort, type StageDrop } from '../../src/application/ports/flow-sink.port.js';

/** Keeps every exported flow for the test to inspect. */
export class RecordingFlowSink extends FlowSinkPort {
  readonly exported: EnrichedFlow[] = [];
  flushes = 0;
  ready = true;

  export(flows: readonly EnrichedFlow[]): void {
    this.exported.push(...flows);
  }

  async flush(): Promise<void> {
    this.flushes++;
  }

  health(): ComponentHealth {
    return this.ready ? { ready: true, details: { exported: this.exported.length } } : { ready: false, reason: 'collector down', details: {} };
  }

  drops(): readonly StageDrop[] {
    return [{ stage: 'export', reason: 'test_loss', count: 2 }];
  }
}

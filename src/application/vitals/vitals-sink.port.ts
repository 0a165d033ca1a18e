import type { VitalsSnapshot } from '../../domain/vitals/vitals-snapshot.js';

/** Where exported vitals go (IPFIX, observation domain N+2). */
export abstract class VitalsSinkPort {
  /** Queues one export of these vitals for every collector; never throws, losses are counted by the sink. Returns the records queued. */
  abstract export(vitals: VitalsSnapshot, exportTimeMs: number): number;
}

/**
 * Counters of the flow pipeline, kept as plain numbers so the application layer
 * owns them and any adapter (Prometheus, /status) can read them.
 */
export class PipelineStats {
  drains = 0;
  drainFailures = 0;
  lastDrainAtMs: number | undefined;
  lastDrainDurationMs = 0;
  /** Loop heartbeat: set at the end of every drain attempt, failed or not. */
  lastTickAtMs: number | undefined;
  sourceEntries = 0;
  sourceCapacity = 0;
  deltasMerged = 0;
  /** Deltas refused by the flow table as malformed (also counted as drops). */
  deltasRejected = 0;
  /** Flow records handed to the sink. */
  recordsExported = 0;
  enrichmentErrors = 0;
  endReasons = new Map<number, number>();
  enrichment = { enriched: 0, missing: 0 };
  /** Every loss, keyed "stage\0reason". */
  private readonly droppedByStageReason = new Map<string, number>();

  drop(stage: string, reason: string, count: number): void {
    if (count <= 0) return;
    const key = `${stage}\0${reason}`;
    this.droppedByStageReason.set(key, (this.droppedByStageReason.get(key) ?? 0) + count);
  }

  dropped(): Array<{ stage: string; reason: string; count: number }> {
    return Array.from(this.droppedByStageReason, ([key, count]) => {
      const [stage, reason] = key.split('\0');
      return { stage, reason, count };
    });
  }
}

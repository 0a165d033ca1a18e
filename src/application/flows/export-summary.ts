import type { PipelineStats } from './pipeline-stats.js';

export interface ExportSummaryLine {
  readonly recordsExported: number;
  readonly deltasMerged: number;
  readonly drains: number;
  readonly drainFailures: number;
  readonly enriched: number;
  readonly missingContext: number;
  readonly dropped: number;
}

/** What changed in the pipeline counters since the previous summary. */
export class ExportSummary {
  private previous: ExportSummaryLine;

  constructor(private readonly stats: PipelineStats) {
    this.previous = this.totals();
  }

  sinceLast(): ExportSummaryLine {
    const now = this.totals();
    const delta = Object.fromEntries(
      Object.entries(now).map(([name, value]) => [name, value - this.previous[name as keyof ExportSummaryLine]]),
    ) as unknown as ExportSummaryLine;
    this.previous = now;
    return delta;
  }

  private totals(): ExportSummaryLine {
    return {
      recordsExported: this.stats.recordsExported,
      deltasMerged: this.stats.deltasMerged,
      drains: this.stats.drains,
      drainFailures: this.stats.drainFailures,
      enriched: this.stats.enrichment.enriched,
      missingContext: this.stats.enrichment.missing,
      dropped: this.stats.dropped().reduce((sum, drop) => sum + drop.count, 0),
    };
  }
}

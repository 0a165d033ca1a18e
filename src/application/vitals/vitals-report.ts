import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { countVitals, EMPTY_SNAPSHOT, freshVitals, type VitalsSnapshot } from '../../domain/vitals/vitals-snapshot.js';
import { AgentConfig } from '../config/agent-config.js';
import { ClockPort } from '../ports/clock.port.js';
import { ClusterStatePort } from './cluster-state.port.js';
import { LeaderElectionPort } from './leader-election.port.js';
import { MetricsServerWatch } from './metrics-server.watch.js';
import { ResourceUsagePort } from './resource-usage.port.js';
import { VitalsCollector } from './vitals-collector.service.js';
import { VitalsExportJob } from './vitals-jobs.js';

/** What /vitals and /status show of vitals. */
export abstract class VitalsReport {
  /** The vitals as they would be exported now (only values read within VITALS_CACHE_TIMEOUT). */
  abstract snapshot(): { readonly nowMs: number; readonly vitals: VitalsSnapshot };
  /** The collector's state for /status. */
  abstract status(): Record<string, unknown>;
}

/** Vitals are off (VITALS_ENABLED=false or no cluster): an empty snapshot and the reason. */
export class DisabledVitalsReport extends VitalsReport implements OnApplicationBootstrap {
  constructor(
    private readonly reason: string,
    private readonly clock: { nowMs(): number },
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    new Logger(VitalsReport.name).log({ reason: this.reason }, 'Vitals are off');
  }

  snapshot(): { nowMs: number; vitals: VitalsSnapshot } {
    return { nowMs: this.clock.nowMs(), vitals: EMPTY_SNAPSHOT };
  }

  status(): Record<string, unknown> {
    return { enabled: false, reason: this.reason };
  }
}

@Injectable()
export class ActiveVitalsReport extends VitalsReport {
  private readonly maxAgeMs: number;

  constructor(
    config: AgentConfig,
    private readonly collector: VitalsCollector,
    private readonly exports: VitalsExportJob,
    private readonly leadership: LeaderElectionPort,
    private readonly metricsServer: MetricsServerWatch,
    private readonly cluster: ClusterStatePort,
    private readonly usage: ResourceUsagePort,
    private readonly clock: ClockPort,
  ) {
    super();
    this.maxAgeMs = config.vitals.cacheTimeoutSeconds * 1000;
  }

  snapshot(): { nowMs: number; vitals: VitalsSnapshot } {
    const nowMs = this.clock.nowMs();
    return { nowMs, vitals: freshVitals(this.collector.snapshot(), nowMs, this.maxAgeMs) };
  }

  status(): Record<string, unknown> {
    const nowMs = this.clock.nowMs();
    const collection = this.collector.stats;
    const exports = this.exports.stats;
    const metricsServer = this.metricsServer.state();
    const agoMs = (atMs: number | undefined) => (atMs === undefined ? undefined : nowMs - atMs);
    return {
      enabled: true,
      leader: this.leadership.status(),
      metricsServer: { available: metricsServer.available, lastCheckAgoMs: agoMs(metricsServer.lastCheckAtMs), changes: metricsServer.changes },
      lastCollection: {
        count: collection.collections,
        agoMs: agoMs(collection.lastCollectionAtMs),
        durationMs: collection.lastCollectionDurationMs,
        failures: collection.failures,
        lastError: collection.lastError,
      },
      lastExport: { count: exports.exports, agoMs: agoMs(exports.lastExportAtMs), records: exports.lastExportRecords, counts: exports.lastExportCounts },
      counts: countVitals(this.snapshot().vitals),
      rejectedObjects: { kubernetes: this.cluster.rejected(), metricsItems: this.usage.rejected() },
    };
  }
}

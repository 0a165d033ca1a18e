import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { countVitals, freshVitals, type VitalsSnapshot } from '../../domain/vitals/vitals-snapshot.js';
import { AgentConfig } from '../config/agent-config.js';
import { ClockPort } from '../ports/clock.port.js';
import { LeaderElectionPort } from './leader-election.port.js';
import { MetricsServerWatch } from './metrics-server.watch.js';
import { RepeatingTask } from '../scheduling/repeating-task.js';
import { VitalsCollector } from './vitals-collector.service.js';
import { VitalsSinkPort } from './vitals-sink.port.js';

/**
 * Checks for the metrics server every VITALS_METRICS_SERVER_CHECK_INTERVAL s and
 * collects every VITALS_COLLECTION_INTERVAL s; the first check ends before the
 * first collection, so usage is there from the start when a metrics server is.
 */
@Injectable()
export class VitalsCollectionJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly metricsServerCheck: RepeatingTask;
  private readonly collection: RepeatingTask;

  constructor(
    config: AgentConfig,
    private readonly collector: VitalsCollector,
    private readonly leadership: LeaderElectionPort,
    metricsServer: MetricsServerWatch,
  ) {
    this.metricsServerCheck = new RepeatingTask('MetricsServerCheck', config.vitals.metricsServerCheckIntervalSeconds * 1000, () => metricsServer.check());
    this.collection = new RepeatingTask(VitalsCollectionJob.name, config.vitals.collectionIntervalSeconds * 1000, () => collector.collectOnce());
  }

  private stopping = false;

  onApplicationBootstrap(): void {
    this.leadership.onChange((leading) => this.collector.onLeadershipChange(leading));
    // Not awaited: start-up never waits on the API server.
    void this.metricsServerCheck.startNow().then(() => {
      if (!this.stopping) this.collection.start(0);
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all([this.metricsServerCheck.stop(), this.collection.stop()]);
  }
}

export interface ExportStats {
  exports: number;
  lastExportAtMs: number | undefined;
  lastExportRecords: number;
  lastExportCounts: Record<keyof VitalsSnapshot, number> | undefined;
}

/**
 * Exports every VITALS_EXPORT_INTERVAL s what is fresh: values this agent read
 * within VITALS_CACHE_TIMEOUT. Cluster-scoped vitals go only while leading, so a
 * DaemonSet exports each of them once.
 */
@Injectable()
export class VitalsExportJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(VitalsExportJob.name);
  private readonly task: RepeatingTask;
  private readonly exportIntervalMs: number;
  private readonly maxAgeMs: number;
  readonly stats: ExportStats = { exports: 0, lastExportAtMs: undefined, lastExportRecords: 0, lastExportCounts: undefined };

  constructor(
    config: AgentConfig,
    private readonly collector: VitalsCollector,
    private readonly leadership: LeaderElectionPort,
    private readonly sink: VitalsSinkPort,
    private readonly clock: ClockPort,
  ) {
    this.exportIntervalMs = config.vitals.exportIntervalSeconds * 1000;
    this.maxAgeMs = config.vitals.cacheTimeoutSeconds * 1000;
    this.task = new RepeatingTask(VitalsExportJob.name, this.exportIntervalMs, async () => this.exportOnce());
  }

  onApplicationBootstrap(): void {
    this.task.start(this.exportIntervalMs);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  exportOnce(): void {
    const nowMs = this.clock.nowMs();
    const snapshot = this.collector.snapshot();
    const scoped = this.leadership.isLeader() ? snapshot : { ...snapshot, pods: [], workloads: [], jobs: [], cronJobs: [], hpas: [] };
    const fresh = freshVitals(scoped, nowMs, this.maxAgeMs);
    const records = this.sink.export(fresh, nowMs);
    this.stats.exports++;
    this.stats.lastExportAtMs = nowMs;
    this.stats.lastExportRecords = records;
    this.stats.lastExportCounts = countVitals(fresh);
    this.logger.debug({ records, ...this.stats.lastExportCounts }, 'Vitals exported');
  }
}

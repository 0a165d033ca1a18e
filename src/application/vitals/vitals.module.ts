import { Module, type DynamicModule } from '@nestjs/common';
import type { AdapterModule } from '../flows/flows.module.js';
import { ClockPort } from '../ports/clock.port.js';
import { MetricsServerWatch } from './metrics-server.watch.js';
import { VitalsCollector } from './vitals-collector.service.js';
import { VitalsCollectionJob, VitalsExportJob } from './vitals-jobs.js';
import { ActiveVitalsReport, DisabledVitalsReport, VitalsReport } from './vitals-report.js';

/** The modules binding the ports vitals need. */
export interface VitalsAdapters {
  /** ClusterStatePort, ResourceUsagePort and LeaderElectionPort. */
  readonly kubernetes: AdapterModule;
  /** VitalsSinkPort. */
  readonly sink: AdapterModule;
  readonly clock: AdapterModule;
}

const useCases = [VitalsCollector, MetricsServerWatch, { provide: VitalsReport, useClass: ActiveVitalsReport }];
const jobs = [VitalsCollectionJob, VitalsExportJob];

/**
 * Kubernetes vitals: collection, export and the report /vitals and /status read.
 * Global, so StatusService finds VitalsReport (optionally) without importing it.
 */
@Module({})
export class VitalsModule {
  static register(adapters: VitalsAdapters): DynamicModule {
    return {
      module: VitalsModule,
      global: true,
      imports: [adapters.kubernetes, adapters.sink, adapters.clock],
      providers: [...useCases, ...jobs],
      exports: [VitalsReport],
    };
  }

  /** Vitals off: /vitals answers an empty snapshot and /status says why. */
  static disabled(reason: string, clock: AdapterModule): DynamicModule {
    return {
      module: VitalsModule,
      global: true,
      imports: [clock],
      providers: [{ provide: VitalsReport, inject: [ClockPort], useFactory: (clockPort: ClockPort) => new DisabledVitalsReport(reason, clockPort) }],
      exports: [VitalsReport],
    };
  }
}

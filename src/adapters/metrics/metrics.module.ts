import { Controller, Module, type DynamicModule } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { register } from 'prom-client';
import { MetricsServer } from './metrics.server.js';
import { PipelineMetrics } from './pipeline.metrics.js';
import type { AdapterModule } from '../../application/flows/flows.module.js';

/** @willsoto would serve /metrics on the health port; this route-less controller keeps it off there. */
@Controller()
class NoMetricsRouteOnHealthPort {}

/**
 * prom-client samples event-loop delay with a libuv timer, every 10 ms by
 * default. Each wake-up of an idle process costs ~70 µs of CPU on a VM
 * (measured: sampling every 100 ms was 0.7 of an idle agent's 1.9 ms/s). Once a
 * second still catches a lag that matters to a 1 s drain within a scrape
 * interval, and the drain itself is timed (ebpf_netflow_drain_duration_seconds).
 */
const EVENT_LOOP_SAMPLING_MS = 1000;

/** Process defaults can be registered once per process; tests start several apps in one. */
const processMetricsRegistered = (): boolean => register.getSingleMetric('process_cpu_user_seconds_total') !== undefined;

@Module({})
export class MetricsModule {
  static register(useCases: AdapterModule): DynamicModule {
    return {
      module: MetricsModule,
      imports: [
        PrometheusModule.register({
          controller: NoMetricsRouteOnHealthPort,
          defaultMetrics: { enabled: !processMetricsRegistered(), config: { eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLING_MS } },
        }),
        useCases,
      ],
      providers: [MetricsServer, PipelineMetrics],
    };
  }
}

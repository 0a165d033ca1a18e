import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { AgentConfig } from './application/config/agent-config.js';
import { FlowsModule, type FlowAdapters } from './application/flows/flows.module.js';
import { ConfigModule } from './adapters/config/config.module.js';
import { HttpModule } from './adapters/http/http.module.js';
import { VitalsHttpModule } from './adapters/http/vitals.controller.js';
import { LoggingModule } from './adapters/logging/logging.module.js';
import { MetricsModule } from './adapters/metrics/metrics.module.js';

/**
 * Composition root. The adapters come in as modules, so production (main.ts) and
 * tests (fakes) compose the same application around different adapters.
 */
@Module({})
export class AppModule {
  /** `vitals`: the Kubernetes vitals module (vitalsModule() in adapters/vitals); absent, the app has no vitals. */
  static forRoot(config: AgentConfig, rootLogger: Logger, adapters: FlowAdapters, vitals?: DynamicModule): DynamicModule {
    const flows = FlowsModule.register(adapters);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(rootLogger),
        flows,
        HttpModule.register(flows),
        MetricsModule.register(flows),
        ...(vitals === undefined ? [] : [vitals, VitalsHttpModule.register(vitals)]),
      ],
    };
  }
}

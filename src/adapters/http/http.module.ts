import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ComponentHealthIndicator } from './component.health.js';
import { HealthController } from './health.controller.js';
import { StatusController } from './status.controller.js';
import type { AdapterModule } from '../../application/flows/flows.module.js';

/** /health, /health/live, /health/ready and /status on HEALTH_PORT. */
@Module({})
export class HttpModule {
  static register(useCases: AdapterModule): DynamicModule {
    return {
      module: HttpModule,
      imports: [TerminusModule.forRoot({ logger: false }), useCases],
      controllers: [HealthController, StatusController],
      providers: [ComponentHealthIndicator],
    };
  }
}

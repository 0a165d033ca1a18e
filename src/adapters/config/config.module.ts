import { Global, Module, type DynamicModule } from '@nestjs/common';
import { AgentConfig } from '../../application/config/agent-config.js';

/** Provides the configuration validated in main.ts (or built by a test) to every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AgentConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: AgentConfig, useValue: config }], exports: [AgentConfig] };
  }
}

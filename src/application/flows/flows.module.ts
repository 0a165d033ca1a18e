import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { StatusService } from '../status/status.service.js';
import { FlowDrainJob } from './flow-drain.job.js';
import { FlowPipeline } from './flow-pipeline.service.js';
import { PipelineStats } from './pipeline-stats.js';

/** A module that can be both imported and re-exported. */
export type AdapterModule = Type | DynamicModule;

/** The modules that bind the ports the flow use case needs; swapping one swaps an adapter. */
export interface FlowAdapters {
  readonly flowSource: AdapterModule;
  readonly metadata: AdapterModule;
  readonly flowSink: AdapterModule;
  readonly clock: AdapterModule;
}

const useCases = [FlowPipeline, PipelineStats, StatusService];
const jobs = [FlowDrainJob];

@Module({})
export class FlowsModule {
  static register(adapters: FlowAdapters): DynamicModule {
    const adapterModules = [adapters.flowSource, adapters.metadata, adapters.flowSink, adapters.clock];
    return {
      module: FlowsModule,
      imports: adapterModules,
      providers: [...useCases, ...jobs],
      exports: [...adapterModules, FlowPipeline, StatusService],
    };
  }
}

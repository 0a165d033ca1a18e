import { Module } from '@nestjs/common';
import { FlowSourcePort } from '../../application/ports/flow-source.port.js';
import { EbpfFlowSource } from './ebpf-flow-source.adapter.js';

const adapters = [{ provide: FlowSourcePort, useClass: EbpfFlowSource }];

/** The eBPF flow source. Needs AgentConfig from the global config module. */
@Module({
  providers: [...adapters],
  exports: [FlowSourcePort],
})
export class CaptureModule {}

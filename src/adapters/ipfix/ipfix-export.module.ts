import { Module } from '@nestjs/common';
import { FlowSinkPort } from '../../application/ports/flow-sink.port.js';
import { IpfixExporterAdapter } from './ipfix-exporter.adapter.js';

const adapters = [{ provide: FlowSinkPort, useClass: IpfixExporterAdapter }];

/** IPFIX export of flows. Needs AgentConfig from a global config module. */
@Module({
  providers: [...adapters],
  exports: [FlowSinkPort],
})
export class IpfixExportModule {}

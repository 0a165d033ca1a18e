import { Module } from '@nestjs/common';
import { FlowSinkPort } from '../../application/ports/flow-sink.port.js';
import { VitalsSinkPort } from '../../application/vitals/vitals-sink.port.js';
import { IpfixExporterAdapter } from './ipfix-exporter.adapter.js';
import { IpfixVitalsSink } from './vitals-ipfix.sink.js';

const adapters = [
  IpfixExporterAdapter,
  { provide: FlowSinkPort, useExisting: IpfixExporterAdapter },
  { provide: VitalsSinkPort, useClass: IpfixVitalsSink },
];

/** IPFIX export of flows and vitals (one set of collector sockets). Needs AgentConfig from a global config module. */
@Module({
  providers: [...adapters],
  exports: [FlowSinkPort, VitalsSinkPort],
})
export class IpfixExportModule {}

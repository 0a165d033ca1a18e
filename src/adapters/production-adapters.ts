import type { FlowAdapters } from '../application/flows/flows.module.js';
import { CaptureModule } from './capture/capture.module.js';
import { SystemClockModule } from './clock/system-clock.adapter.js';
import { IpfixExportModule } from './ipfix/ipfix-export.module.js';
import { KubernetesMetadataModule } from './kubernetes/kubernetes-metadata.module.js';

/** The adapters the agent runs with in production: eBPF capture, the Kubernetes cache (or standalone), IPFIX over UDP. */
export function productionAdapters(): FlowAdapters {
  return {
    flowSource: CaptureModule,
    metadata: KubernetesMetadataModule.forRoot(),
    flowSink: IpfixExportModule,
    clock: SystemClockModule,
  };
}

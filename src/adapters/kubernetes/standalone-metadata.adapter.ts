import { Logger, type OnModuleInit } from '@nestjs/common';
import type { ComponentHealth } from '../../application/ports/component-health.js';
import { MetadataPort } from '../../application/ports/metadata.port.js';
import type { EndpointContext } from '../../domain/kubernetes/endpoint-context.js';

const STANDALONE_NOTE = 'no KUBECONFIG, no ~/.kube/config and no in-cluster service account: flows are exported without Kubernetes context';

/** MetadataPort when there is no cluster to ask: every end is unknown, and that is fine. */
export class StandaloneMetadataAdapter extends MetadataPort implements OnModuleInit {
  private readonly logger = new Logger(StandaloneMetadataAdapter.name);

  onModuleInit(): void {
    this.logger.warn({ mode: 'standalone' }, `Running standalone: ${STANDALONE_NOTE}`);
  }

  lookup(): EndpointContext | undefined {
    return undefined;
  }

  health(): ComponentHealth {
    return { ready: true, details: { mode: 'standalone', note: STANDALONE_NOTE } };
  }
}

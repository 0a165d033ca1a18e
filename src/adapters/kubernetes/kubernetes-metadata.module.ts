import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { AgentConfig } from '../../application/config/agent-config.js';
import { MetadataPort } from '../../application/ports/metadata.port.js';
import { KubernetesMetadataAdapter, type KubernetesCacheOptions } from './kubernetes-metadata.adapter.js';
import { resolveKubernetesConnection, type KubernetesConnection } from './kubernetes-connection.js';
import { StandaloneMetadataAdapter } from './standalone-metadata.adapter.js';

const KUBERNETES_CONNECTION = Symbol('KubernetesConnection');
const KUBERNETES_CACHE_OPTIONS = Symbol('KubernetesCacheOptions');

/**
 * Provides MetadataPort: the list/watch cache when a cluster is reachable, the
 * standalone adapter otherwise. Needs AgentConfig from the global config module.
 */
@Module({})
export class KubernetesMetadataModule {
  /** Production: finds the cluster from KUBECONFIG, ~/.kube/config or the service account. */
  static forRoot(): DynamicModule {
    return KubernetesMetadataModule.build({ provide: KUBERNETES_CONNECTION, useFactory: () => resolveKubernetesConnection() }, {});
  }

  /** Tests and tools: a given KubeConfig (e.g. the fake API server's) or 'standalone'. */
  static forConnection(connection: KubernetesConnection, options: Partial<KubernetesCacheOptions> = {}): DynamicModule {
    return KubernetesMetadataModule.build({ provide: KUBERNETES_CONNECTION, useValue: connection }, options);
  }

  private static build(connection: Provider, options: Partial<KubernetesCacheOptions>): DynamicModule {
    return {
      module: KubernetesMetadataModule,
      providers: [
        connection,
        { provide: KUBERNETES_CACHE_OPTIONS, useValue: options },
        {
          provide: MetadataPort,
          inject: [KUBERNETES_CONNECTION, AgentConfig, KUBERNETES_CACHE_OPTIONS],
          useFactory: (connection: KubernetesConnection, config: AgentConfig, cacheOptions: Partial<KubernetesCacheOptions>) =>
            connection === 'standalone' ? new StandaloneMetadataAdapter() : new KubernetesMetadataAdapter(connection, config, cacheOptions),
        },
      ],
      exports: [MetadataPort],
    };
  }
}

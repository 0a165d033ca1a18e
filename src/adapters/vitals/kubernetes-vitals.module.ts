import { Module, type DynamicModule } from '@nestjs/common';
import type { KubeConfig } from '@kubernetes/client-node';
import { AgentConfig } from '../../application/config/agent-config.js';
import type { AdapterModule } from '../../application/flows/flows.module.js';
import { ClockPort } from '../../application/ports/clock.port.js';
import { ClusterStatePort } from '../../application/vitals/cluster-state.port.js';
import { LeaderElectionPort } from '../../application/vitals/leader-election.port.js';
import { ResourceUsagePort } from '../../application/vitals/resource-usage.port.js';
import { VitalsModule } from '../../application/vitals/vitals.module.js';
import { DEFAULT_CACHE_OPTIONS } from '../kubernetes/kubernetes-metadata.adapter.js';
import { resolveKubernetesConnection, type KubernetesConnection } from '../kubernetes/kubernetes-connection.js';
import { IpfixExportModule } from '../ipfix/ipfix-export.module.js';
import type { BackoffOptions } from '../kubernetes/resource-reflector.js';
import { KubernetesClusterState } from './kubernetes-cluster-state.adapter.js';
import { LeaseLeaderElection, leaseTiming, type LeaseTiming } from './lease-leader-election.adapter.js';
import { MetricsServerClient } from './metrics-server.client.js';

/** Internal knobs; production uses the defaults, tests make them fast. */
export interface KubernetesVitalsOptions {
  readonly backoff: BackoffOptions;
  /** Lease timing in milliseconds; default: from VITALS_LEASE_* (whole seconds). */
  readonly leaseTiming: LeaseTiming | undefined;
}

const KUBE_CONFIG = Symbol('VitalsKubeConfig');

/** ClusterStatePort, ResourceUsagePort and LeaderElectionPort on the API server. */
@Module({})
export class KubernetesVitalsModule {
  static forConnection(kubeConfig: KubeConfig, clock: AdapterModule, options: Partial<KubernetesVitalsOptions> = {}): DynamicModule {
    const backoff = options.backoff ?? DEFAULT_CACHE_OPTIONS.backoff;
    return {
      module: KubernetesVitalsModule,
      imports: [clock],
      providers: [
        { provide: KUBE_CONFIG, useValue: kubeConfig },
        { provide: ClusterStatePort, inject: [KUBE_CONFIG, ClockPort], useFactory: (kc: KubeConfig, clockPort: ClockPort) => new KubernetesClusterState(kc, clockPort, { backoff }) },
        { provide: ResourceUsagePort, inject: [KUBE_CONFIG], useFactory: (kc: KubeConfig) => new MetricsServerClient(kc) },
        {
          provide: LeaderElectionPort,
          inject: [KUBE_CONFIG, AgentConfig, ClockPort],
          useFactory: (kc: KubeConfig, config: AgentConfig, clockPort: ClockPort) => new LeaseLeaderElection(kc, config, clockPort, options.leaseTiming ?? leaseTiming(config)),
        },
      ],
      exports: [ClusterStatePort, ResourceUsagePort, LeaderElectionPort],
    };
  }
}

/**
 * The vitals feature for a configuration and a connection: on, or off with the
 * reason when VITALS_ENABLED=false or there is no cluster (standalone).
 */
export function vitalsModule(
  config: AgentConfig,
  connection: KubernetesConnection,
  adapters: { readonly sink: AdapterModule; readonly clock: AdapterModule },
  options: Partial<KubernetesVitalsOptions> = {},
): DynamicModule {
  if (!config.vitals.enabled) return VitalsModule.disabled('VITALS_ENABLED is false', adapters.clock);
  if (connection === 'standalone') return VitalsModule.disabled('standalone mode: no Kubernetes API server', adapters.clock);
  return VitalsModule.register({ kubernetes: KubernetesVitalsModule.forConnection(connection, adapters.clock, options), sink: adapters.sink, clock: adapters.clock });
}

/** Production: the cluster found as the flow cache finds it, vitals sent by the IPFIX exporter. */
export function productionVitalsModule(config: AgentConfig, clock: AdapterModule): DynamicModule {
  return vitalsModule(config, resolveKubernetesConnection(), { sink: IpfixExportModule, clock });
}

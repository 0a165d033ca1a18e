import type { EndpointContext } from '../../domain/kubernetes/endpoint-context.js';
import type { ComponentHealth } from './component-health.js';

export interface EndpointQuery {
  readonly ip: string;
  readonly port: number;
  readonly protocol: number;
}

/**
 * Resolves one end of a flow to its Kubernetes context. Synchronous on purpose:
 * flow export never waits on the API server, it uses what is known now.
 */
export abstract class MetadataPort {
  abstract lookup(query: EndpointQuery): EndpointContext | undefined;
  abstract health(): ComponentHealth;
}

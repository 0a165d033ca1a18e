import type { EndpointContext } from '../../src/domain/kubernetes/endpoint-context.js';
import type { ComponentHealth } from '../../src/application/ports/component-health.js';
import { MetadataPort, type EndpointQuery } from '../../src/application/ports/metadata.port.js';

/** Metadata from a fixed table keyed by IP; unknown addresses resolve to nothing. */
export class FixedMetadata extends MetadataPort {
  readonly queries: EndpointQuery[] = [];

  constructor(private readonly byIp: ReadonlyMap<string, EndpointContext>) {
    super();
  }

  lookup(query: EndpointQuery): EndpointContext | undefined {
    this.queries.push(query);
    return this.byIp.get(query.ip);
  }

  health(): ComponentHealth {
    return { ready: true, details: { entries: this.byIp.size } };
  }
}

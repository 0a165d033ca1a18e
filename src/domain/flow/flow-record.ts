import type { FlowKey } from './flow-key.js';
import type { FlowCounts } from './flow-observation.js';
import type { EndpointContext } from '../kubernetes/endpoint-context.js';

/** IANA flowEndReason (IE 136). */
export const FlowEndReason = {
  IdleTimeout: 1,
  ActiveTimeout: 2,
  EndOfFlow: 3,
  ForcedEnd: 4,
  LackOfResources: 5,
} as const;
export type FlowEndReason = (typeof FlowEndReason)[keyof typeof FlowEndReason];

/** A flow observation's counts for one reporting period, released by the flow table. */
export interface FlowRecord extends FlowCounts {
  readonly key: FlowKey;
  readonly interfaceName: string;
  readonly endReason: FlowEndReason;
}

/** A released flow with the Kubernetes context of both ends (undefined when unknown). */
export interface EnrichedFlow {
  readonly flow: FlowRecord;
  readonly source: EndpointContext | undefined;
  readonly destination: EndpointContext | undefined;
}

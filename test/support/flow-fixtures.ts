import { FlowDirection, IpProtocol, type FlowKey } from '../../src/domain/flow/flow-key.js';
import { FlowEndReason, type EnrichedFlow, type FlowRecord } from '../../src/domain/flow/flow-record.js';
import { EndpointContext } from '../../src/domain/kubernetes/endpoint-context.js';

/** Kubernetes context with names of realistic length (generated pod suffixes, long namespaces). */
export const FRONTEND_CONTEXT = new EndpointContext({
  pod: 'checkout-frontend-7d9f8b6c5d-x2k9p',
  namespace: 'shop-production',
  node: 'ip-10-0-12-34.eu-west-1.compute.internal',
  container: 'frontend',
  serviceName: 'checkout-frontend',
  serviceNamespace: 'shop-production',
  servicePortName: 'http',
  workloadKind: 'Deployment',
  workloadName: 'checkout-frontend',
});

export const DATABASE_CONTEXT = new EndpointContext({
  pod: 'orders-postgresql-0',
  namespace: 'shop-production',
  node: 'ip-10-0-47-201.eu-west-1.compute.internal',
  container: 'postgresql',
  serviceName: 'orders-postgresql',
  serviceNamespace: 'shop-production',
  servicePortName: 'tcp-postgresql',
  workloadKind: 'StatefulSet',
  workloadName: 'orders-postgresql',
});

export const FLOW_START_MS = 1_767_225_600_123;

export function flowKey(overrides: Partial<FlowKey> = {}): FlowKey {
  return {
    ipVersion: 4,
    sourceAddress: '10.244.1.17',
    destinationAddress: '10.244.2.33',
    sourcePort: 43_512,
    destinationPort: 5432,
    protocol: IpProtocol.Tcp,
    icmpType: 0,
    icmpCode: 0,
    vlanId: 0,
    interfaceIndex: 17,
    direction: FlowDirection.Ingress,
    ...overrides,
  };
}

export function flowRecord(overrides: Partial<FlowRecord> = {}, keyOverrides: Partial<FlowKey> = {}): FlowRecord {
  return {
    key: flowKey(keyOverrides),
    interfaceName: 'veth3a9c1f2e',
    packets: 12,
    octets: 4_321,
    layer2Octets: 4_321 + 12 * 14,
    firstMs: FLOW_START_MS,
    lastMs: FLOW_START_MS + 2_345,
    tcpFlags: 0x1b,
    endReason: FlowEndReason.EndOfFlow,
    ...overrides,
  };
}

/** A full flow: both ends known, realistic names. */
export function enrichedFlow(overrides: Partial<FlowRecord> = {}, keyOverrides: Partial<FlowKey> = {}): EnrichedFlow {
  return { flow: flowRecord(overrides, keyOverrides), source: FRONTEND_CONTEXT, destination: DATABASE_CONTEXT };
}

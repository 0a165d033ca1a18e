import { FlowDirection, flowKeyId, IpProtocol, type FlowKey } from '../../src/domain/flow/flow-key.js';
import type { FlowDelta } from '../../src/domain/flow/flow-observation.js';

/** A TCP/IPv4 key observed as ingress on interface 7 ("veth-a"); override any field. */
export function flowKey(overrides: Partial<FlowKey> = {}): FlowKey {
  return {
    ipVersion: 4,
    sourceAddress: '10.244.1.10',
    destinationAddress: '10.244.1.20',
    sourcePort: 40000,
    destinationPort: 8080,
    protocol: IpProtocol.Tcp,
    icmpType: 0,
    icmpCode: 0,
    vlanId: 0,
    interfaceIndex: 7,
    direction: FlowDirection.Ingress,
    ...overrides,
  };
}

/** A delta of `packets` 100-byte packets between firstMs and lastMs. */
export function flowDelta(overrides: Partial<Omit<FlowDelta, 'keyId'>> = {}): FlowDelta {
  const packets = overrides.packets ?? 1;
  const key = overrides.key ?? flowKey();
  return {
    key,
    keyId: flowKeyId(key),
    interfaceName: 'veth-a',
    packets,
    octets: packets * 100,
    layer2Octets: packets * 114,
    firstMs: 1_000,
    lastMs: 1_000,
    tcpFlags: 0,
    ...overrides,
  };
}

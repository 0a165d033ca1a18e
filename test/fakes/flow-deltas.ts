import { FlowDirection, IpProtocol, type FlowKey } from '../../src/domain/flow/flow-key.js';
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

/** A string equal for equal keys and different otherwise. */
export function flowKeyId(key: FlowKey): string {
  return `${key.sourceAddress}|${key.destinationAddress}|${key.sourcePort}|${key.destinationPort}|${key.protocol}|${key.icmpType}|${key.icmpCode}|${key.vlanId}|${key.interfaceIndex}|${key.direction}`;
}

/**
 * The fakes' flow numbering: one number per distinct key for the life of the test
 * process, never given to another key, so a released number coming back means the
 * same key (which the flow table must treat as a new flow).
 */
const fakeFlowNumbers = new Map<string, number>();
/** The key each number stood for in the delta made last with it (a test may pick numbers itself). */
const fakeFlowKeys = new Map<number, FlowKey>();

export function fakeFlowNumber(key: FlowKey): number {
  const id = flowKeyId(key);
  let number = fakeFlowNumbers.get(id);
  if (number === undefined) fakeFlowNumbers.set(id, (number = fakeFlowNumbers.size));
  return number;
}

export function fakeFlowKey(flowNumber: number): FlowKey {
  const key = fakeFlowKeys.get(flowNumber);
  if (key === undefined) throw new Error(`no fake delta was made with flow number ${flowNumber}`);
  return key;
}

/** A delta of `packets` 100-byte packets between firstMs and lastMs, numbered by its key unless a flowNumber is given. */
export function flowDelta(overrides: Partial<FlowDelta> = {}): FlowDelta {
  const packets = overrides.packets ?? 1;
  const key = overrides.key ?? flowKey();
  const flowNumber = overrides.flowNumber ?? fakeFlowNumber(key);
  fakeFlowKeys.set(flowNumber, key);
  return {
    key,
    flowNumber,
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

import type { ExpectedFlow } from '../../test/lab/traffic.js';

/** Direction of an observation as the demo prints it: TC ingress on a pod's host veth = what the pod sends. */
export type Direction = 'in' | 'out';

/** Where a stream's packets must be observed, with the counts they must have there. */
export interface ExpectedObservation {
  readonly flow: ExpectedFlow;
  readonly interfaceName: string;
  readonly direction: Direction;
}

/** Kubernetes context of one end, as the exporter's enterprise fields carry it ('' when unknown). */
export interface EndContext {
  readonly pod: string;
  readonly namespace: string;
  readonly service: string;
  readonly workload: string;
}

/** One observation summed over every record the collector received for it. */
export interface CollectedObservation {
  readonly protocol: number;
  readonly sourceAddress: string;
  readonly destinationAddress: string;
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly icmpType: number;
  readonly vlanId: number;
  readonly interfaceName: string;
  readonly direction: Direction;
  readonly source: EndContext;
  readonly destination: EndContext;
  packets: number;
  octets: number;
  records: number;
}

type Fields = Record<string, string | number | boolean | undefined>;

const text = (value: unknown) => (value === undefined ? '' : String(value));

function endContext(fields: Fields, end: 'source' | 'destination'): EndContext {
  const kind = text(fields[`${end}WorkloadKind`]);
  const name = text(fields[`${end}WorkloadName`]);
  return {
    pod: text(fields[`${end}PodName`]),
    namespace: text(fields[`${end}PodNamespace`]),
    service: fields[`${end}ServiceName`] ? `${text(fields[`${end}ServiceNamespace`])}/${text(fields[`${end}ServiceName`])}` : '',
    workload: kind && name ? `${kind}/${name}` : '',
  };
}

/** ICMP type and code travel as one number, type × 256 + code. */
const icmpTypeOf = (fields: Fields) => Math.floor(Number(fields.icmpTypeCodeIPv4 ?? fields.icmpTypeCodeIPv6 ?? 0) / 256);

function observationKey(flow: {
  protocol: number;
  sourceAddress: string;
  destinationAddress: string;
  sourcePort: number;
  destinationPort: number;
  icmpType: number;
  vlanId?: number;
  interfaceName: string;
  direction: Direction;
}): string {
  const { protocol, sourceAddress, destinationAddress, sourcePort, destinationPort, icmpType, interfaceName, direction } = flow;
  return [protocol, sourceAddress, destinationAddress, sourcePort, destinationPort, icmpType, flow.vlanId ?? 0, interfaceName, direction].join('|');
}

/**
 * The flow records printed by `k8s-flow-exporter collect --format json`, summed per
 * observation (flow key + interface + direction): a flow exported in several
 * records (active timeout, end of flow) counts once, with its total.
 */
export class CollectedFlows {
  private readonly observations = new Map<string, CollectedObservation>();
  private lines = 0;

  /** Takes one JSON line of the collector; other lines (type records, noise) are ignored. */
  addLine(line: string): void {
    let record: { type?: string; fields?: Fields };
    try {
      record = JSON.parse(line);
    } catch {
      return;
    }
    const fields = record.fields;
    if (record.type !== 'data' || fields === undefined || fields.packetDeltaCount === undefined) return;
    this.lines++;
    const observation = {
      protocol: Number(fields.protocolIdentifier),
      sourceAddress: text(fields.sourceIPv4Address ?? fields.sourceIPv6Address),
      destinationAddress: text(fields.destinationIPv4Address ?? fields.destinationIPv6Address),
      sourcePort: Number(fields.sourceTransportPort ?? 0),
      destinationPort: Number(fields.destinationTransportPort ?? 0),
      icmpType: icmpTypeOf(fields),
      vlanId: Number(fields.vlanId ?? 0),
      interfaceName: text(fields.interfaceName),
      direction: (fields.flowDirection === 1 ? 'out' : 'in') as Direction,
    };
    const key = observationKey(observation);
    const known = this.observations.get(key);
    const packets = Number(fields.packetDeltaCount);
    const octets = Number(fields.octetDeltaCount);
    if (known !== undefined) {
      known.packets += packets;
      known.octets += octets;
      known.records++;
      return;
    }
    this.observations.set(key, { ...observation, source: endContext(fields, 'source'), destination: endContext(fields, 'destination'), packets, octets, records: 1 });
  }

  get recordCount(): number {
    return this.lines;
  }

  all(): CollectedObservation[] {
    return [...this.observations.values()];
  }

  find(expected: ExpectedObservation): CollectedObservation | undefined {
    return this.observations.get(observationKey({ ...expected.flow, interfaceName: expected.interfaceName, direction: expected.direction }));
  }

  /** What differs between an expected observation and what arrived; empty when it matches exactly. */
  mismatch(expected: ExpectedObservation): string {
    const found = this.find(expected);
    const where = `${expected.interfaceName}/${expected.direction}`;
    if (found === undefined) return `${where}: no record`;
    if (found.packets === expected.flow.packets && found.octets === expected.flow.octets) return '';
    return `${where}: ${found.packets} packets, ${found.octets} bytes (sent ${expected.flow.packets}, ${expected.flow.octets})`;
  }
}

import { VARIABLE_LENGTH } from './ipfix-protocol.js';

/**
 * Abstract data types of RFC 7012 §3.1 with their RFC 5610 §3.1 codes (IANA "IPFIX
 * Information Element Data Types"). The NTP-format micro/nanosecond time types are
 * left out: we neither send nor decode them (a collector shows them as octets).
 */
export const DataTypeCode = {
  octetArray: 0,
  unsigned8: 1,
  unsigned16: 2,
  unsigned32: 3,
  unsigned64: 4,
  signed8: 5,
  signed16: 6,
  signed32: 7,
  signed64: 8,
  float32: 9,
  float64: 10,
  boolean: 11,
  macAddress: 12,
  string: 13,
  dateTimeSeconds: 14,
  dateTimeMilliseconds: 15,
  ipv4Address: 18,
  ipv6Address: 19,
} as const;
export type IpfixDataType = keyof typeof DataTypeCode;

/** Encoded length of each type when the template does not reduce it (RFC 7011 §6.2). */
export const DEFAULT_LENGTH: Readonly<Record<IpfixDataType, number>> = {
  octetArray: VARIABLE_LENGTH,
  unsigned8: 1,
  unsigned16: 2,
  unsigned32: 4,
  unsigned64: 8,
  signed8: 1,
  signed16: 2,
  signed32: 4,
  signed64: 8,
  float32: 4,
  float64: 8,
  boolean: 1,
  macAddress: 6,
  string: VARIABLE_LENGTH,
  dateTimeSeconds: 4,
  dateTimeMilliseconds: 8,
  ipv4Address: 4,
  ipv6Address: 16,
};

/** IANA "IPFIX Information Element Semantics" (RFC 5610 §3.2). */
export const ElementSemantics = {
  default: 0,
  quantity: 1,
  totalCounter: 2,
  deltaCounter: 3,
  identifier: 4,
  flags: 5,
  list: 6,
  snmpCounter: 7,
  snmpGauge: 8,
} as const;
export type ElementSemantics = keyof typeof ElementSemantics;

/** IANA "IPFIX Information Element Units" (RFC 5610 §3.3), the ones we use. */
export const ElementUnits = { none: 0, octets: 2, packets: 3, milliseconds: 6 } as const;
export type ElementUnits = keyof typeof ElementUnits;

/** One information element: what a template field refers to and how its value is encoded. */
export interface InformationElement {
  readonly name: string;
  readonly id: number;
  /** 0 for IANA elements, else the private enterprise number (RFC 7011 §3.2). */
  readonly enterpriseId: number;
  readonly type: IpfixDataType;
  /** Encoded length in octets, or VARIABLE_LENGTH. */
  readonly length: number;
  readonly semantics?: ElementSemantics;
  readonly units?: ElementUnits;
  readonly description: string;
}

export const IANA_ENTERPRISE_ID = 0;

function iana(
  id: number,
  name: string,
  type: IpfixDataType,
  description: string,
  extra: { semantics?: ElementSemantics; units?: ElementUnits } = {},
): InformationElement {
  return { name, id, enterpriseId: IANA_ENTERPRISE_ID, type, length: DEFAULT_LENGTH[type], ...extra, description };
}

/** The IANA elements this exporter sends (flow templates and RFC 5610 type records). */
export const IANA_ELEMENTS: readonly InformationElement[] = [
  iana(1, 'octetDeltaCount', 'unsigned64', 'IP-level octets (IP headers and payload) of the flow in this record.', { semantics: 'deltaCounter', units: 'octets' }),
  iana(2, 'packetDeltaCount', 'unsigned64', 'Packets of the flow in this record.', { semantics: 'deltaCounter', units: 'packets' }),
  iana(4, 'protocolIdentifier', 'unsigned8', 'IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, 132 SCTP).', { semantics: 'identifier' }),
  iana(6, 'tcpControlBits', 'unsigned16', 'OR of the TCP header flags seen in the flow; 0 for other protocols.', { semantics: 'flags' }),
  iana(7, 'sourceTransportPort', 'unsigned16', 'Source port (0 for ICMP).', { semantics: 'identifier' }),
  iana(8, 'sourceIPv4Address', 'ipv4Address', 'Source IPv4 address.', { semantics: 'default' }),
  iana(10, 'ingressInterface', 'unsigned32', 'Index of the interface the flow was observed on, for ingress observations.', { semantics: 'identifier' }),
  iana(11, 'destinationTransportPort', 'unsigned16', 'Destination port (0 for ICMP).', { semantics: 'identifier' }),
  iana(12, 'destinationIPv4Address', 'ipv4Address', 'Destination IPv4 address.', { semantics: 'default' }),
  iana(14, 'egressInterface', 'unsigned32', 'Index of the interface the flow was observed on, for egress observations.', { semantics: 'identifier' }),
  iana(27, 'sourceIPv6Address', 'ipv6Address', 'Source IPv6 address.', { semantics: 'default' }),
  iana(28, 'destinationIPv6Address', 'ipv6Address', 'Destination IPv6 address.', { semantics: 'default' }),
  iana(32, 'icmpTypeCodeIPv4', 'unsigned16', 'ICMP type × 256 + code; 0 for other protocols.', { semantics: 'identifier' }),
  iana(58, 'vlanId', 'unsigned16', '802.1Q VLAN id, 0 when untagged.', { semantics: 'identifier' }),
  iana(61, 'flowDirection', 'unsigned8', 'Direction of the observation on its interface: 0 ingress, 1 egress.', { semantics: 'identifier' }),
  iana(82, 'interfaceName', 'string', 'Name of the interface the flow was observed on.', { semantics: 'default' }),
  iana(130, 'exporterIPv4Address', 'ipv4Address', 'IPv4 address the exporter sends from.', { semantics: 'default' }),
  iana(131, 'exporterIPv6Address', 'ipv6Address', 'IPv6 address the exporter sends from.', { semantics: 'default' }),
  iana(136, 'flowEndReason', 'unsigned8', 'Why the record was released: 1 idle timeout, 2 active timeout, 3 end of flow, 4 forced end, 5 lack of resources.', { semantics: 'identifier' }),
  iana(139, 'icmpTypeCodeIPv6', 'unsigned16', 'ICMPv6 type × 256 + code; 0 for other protocols.', { semantics: 'identifier' }),
  iana(152, 'flowStartMilliseconds', 'dateTimeMilliseconds', 'First packet of the flow in this record, epoch milliseconds.', { semantics: 'default', units: 'milliseconds' }),
  iana(153, 'flowEndMilliseconds', 'dateTimeMilliseconds', 'Last packet of the flow in this record, epoch milliseconds.', { semantics: 'default', units: 'milliseconds' }),
  iana(303, 'informationElementId', 'unsigned16', 'RFC 5610: id of the element a type record describes.', { semantics: 'identifier' }),
  iana(339, 'informationElementDataType', 'unsigned8', 'RFC 5610: data type code of the described element.', { semantics: 'identifier' }),
  iana(340, 'informationElementDescription', 'string', 'RFC 5610: description of the described element.', { semantics: 'default' }),
  iana(341, 'informationElementName', 'string', 'RFC 5610: name of the described element.', { semantics: 'default' }),
  iana(342, 'informationElementRangeBegin', 'unsigned64', 'RFC 5610: lowest value of the described element (0 when not applicable).', { semantics: 'quantity' }),
  iana(343, 'informationElementRangeEnd', 'unsigned64', 'RFC 5610: highest value of the described element (0 when not applicable).', { semantics: 'quantity' }),
  iana(344, 'informationElementSemantics', 'unsigned8', 'RFC 5610: semantics code of the described element.', { semantics: 'identifier' }),
  iana(345, 'informationElementUnits', 'unsigned16', 'RFC 5610: units code of the described element.', { semantics: 'identifier' }),
  iana(346, 'privateEnterpriseNumber', 'unsigned32', 'RFC 5610: enterprise number of the described element.', { semantics: 'identifier' }),
  iana(352, 'layer2OctetDeltaCount', 'unsigned64', 'Octets including the layer-2 header of the flow in this record.', { semantics: 'deltaCounter', units: 'octets' }),
];

/** An enterprise element before the operator's enterprise number is known. */
export type EnterpriseElementDefinition = Omit<InformationElement, 'enterpriseId'>;

/** The Kubernetes context carried for each end of a flow, in the order of its element ids. */
export const ENDPOINT_CONTEXT_FIELDS = [
  { field: 'pod', element: 'PodName', meaning: 'pod name' },
  { field: 'namespace', element: 'PodNamespace', meaning: 'pod namespace' },
  { field: 'node', element: 'NodeName', meaning: 'name of the node the pod runs on' },
  { field: 'container', element: 'ContainerName', meaning: 'container name' },
  { field: 'serviceName', element: 'ServiceName', meaning: 'service name' },
  { field: 'serviceNamespace', element: 'ServiceNamespace', meaning: 'service namespace' },
  { field: 'servicePortName', element: 'ServicePortName', meaning: 'service port name' },
  { field: 'workloadKind', element: 'WorkloadKind', meaning: 'kind of the top owner: Deployment, StatefulSet, DaemonSet, CronJob, Job, ReplicaSet or Pod' },
  { field: 'workloadName', element: 'WorkloadName', meaning: 'name of the top owner' },
] as const;
export type EndpointContextField = (typeof ENDPOINT_CONTEXT_FIELDS)[number]['field'];

function kubernetesString(id: number, name: string, description: string): EnterpriseElementDefinition {
  return { name, id, type: 'string', length: VARIABLE_LENGTH, semantics: 'default', units: 'none', description };
}

/**
 * Our enterprise elements. Ids are stable: from now on they are only added, never
 * changed or reused. Flow context takes 1–19; the next free id is 20.
 */
export const ENTERPRISE_ELEMENT_DEFINITIONS: readonly EnterpriseElementDefinition[] = [
  ...ENDPOINT_CONTEXT_FIELDS.map(({ element, meaning }, index) =>
    kubernetesString(1 + index, `source${element}`, `Source end: ${meaning}; empty when unknown.`),
  ),
  ...ENDPOINT_CONTEXT_FIELDS.map(({ element, meaning }, index) =>
    kubernetesString(1 + ENDPOINT_CONTEXT_FIELDS.length + index, `destination${element}`, `Destination end: ${meaning}; empty when unknown.`),
  ),
  kubernetesString(19, 'observerNodeName', 'Name of the node whose agent observed and exported the flow.'),
];

export function enterpriseElements(enterpriseId: number): InformationElement[] {
  return ENTERPRISE_ELEMENT_DEFINITIONS.map((definition) => ({ ...definition, enterpriseId }));
}

/** Looks elements up by name or by (enterprise number, id). */
export class InformationElementRegistry {
  private readonly byNameMap = new Map<string, InformationElement>();
  private readonly byIdMap = new Map<string, InformationElement>();

  constructor(readonly elements: readonly InformationElement[]) {
    for (const element of elements) {
      const idKey = elementKey(element.enterpriseId, element.id);
      if (this.byNameMap.has(element.name) || this.byIdMap.has(idKey)) {
        throw new Error(`Duplicate information element ${element.name} (${idKey})`);
      }
      this.byNameMap.set(element.name, element);
      this.byIdMap.set(idKey, element);
    }
  }

  /** The element of that name; throws for a name that is not in the registry (a programming error). */
  byName(name: string): InformationElement {
    const element = this.byNameMap.get(name);
    if (element === undefined) throw new Error(`Unknown information element ${name}`);
    return element;
  }

  find(enterpriseId: number, id: number): InformationElement | undefined {
    return this.byIdMap.get(elementKey(enterpriseId, id));
  }
}

function elementKey(enterpriseId: number, id: number): string {
  return `${enterpriseId}/${id}`;
}

/** The registry of an exporter: IANA elements plus ours under the configured enterprise number. */
export function exporterRegistry(enterpriseId: number): InformationElementRegistry {
  return new InformationElementRegistry([...IANA_ELEMENTS, ...enterpriseElements(enterpriseId)]);
}

/** What a collector knows before any RFC 5610 record arrives: the IANA elements. */
export const IANA_REGISTRY = new InformationElementRegistry(IANA_ELEMENTS);

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
  iana(323, 'observationTimeMilliseconds', 'dateTimeMilliseconds', 'Vitals: when this agent last read the values of the record (the oldest of them), epoch milliseconds.', { semantics: 'default', units: 'milliseconds' }),
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

type VitalsElementKind = 'count' | 'total' | 'millicores' | 'bytes' | 'time' | 'duration' | 'string' | 'flag';

/** Vitals elements: amounts are unsigned64 (CPU in millicores, memory in bytes), counts unsigned32. */
function vitals(id: number, name: string, kind: VitalsElementKind, description: string): EnterpriseElementDefinition {
  if (kind === 'string') return kubernetesString(id, name, description);
  const shapes: Record<Exclude<VitalsElementKind, 'string'>, Omit<EnterpriseElementDefinition, 'id' | 'name' | 'description'>> = {
    count: { type: 'unsigned32', length: 4, semantics: 'quantity', units: 'none' },
    total: { type: 'unsigned32', length: 4, semantics: 'totalCounter', units: 'none' },
    millicores: { type: 'unsigned64', length: 8, semantics: 'quantity', units: 'none' },
    bytes: { type: 'unsigned64', length: 8, semantics: 'quantity', units: 'octets' },
    time: { type: 'dateTimeMilliseconds', length: 8, semantics: 'default', units: 'milliseconds' },
    duration: { type: 'unsigned64', length: 8, semantics: 'quantity', units: 'milliseconds' },
    flag: { type: 'boolean', length: 1, semantics: 'default', units: 'none' },
  };
  return { name, id, ...shapes[kind], description };
}

/** Kubernetes vitals (observation domain N+2, docs/vitals.md), ids 20–69. */
const VITALS_ELEMENT_DEFINITIONS: readonly EnterpriseElementDefinition[] = [
  vitals(20, 'kubernetesNamespace', 'string', 'Vitals: namespace of the object the record describes.'),
  vitals(21, 'kubernetesName', 'string', 'Vitals: name of the object the record describes (pod, node, workload, job, CronJob or HPA).'),
  vitals(22, 'kubernetesKind', 'string', 'Vitals: kind of the workload: Deployment, StatefulSet or DaemonSet.'),
  vitals(23, 'podNodeName', 'string', 'Vitals: node the pod is scheduled on; empty while unscheduled.'),
  vitals(24, 'podPhase', 'string', 'Vitals: pod phase: Pending, Running, Succeeded, Failed or Unknown.'),
  vitals(25, 'podReady', 'flag', "Vitals: the pod's Ready condition is True."),
  vitals(26, 'podRestartCount', 'total', 'Vitals: restarts of all containers of the pod (init containers included).'),
  vitals(27, 'cpuUsageMillicores', 'millicores', 'Vitals: CPU usage from metrics.k8s.io in millicores (a pod: sum of its containers).'),
  vitals(28, 'memoryUsageBytes', 'bytes', 'Vitals: memory usage (working set) from metrics.k8s.io in bytes (a pod: sum of its containers).'),
  vitals(29, 'cpuRequestMillicores', 'millicores', 'Vitals: sum of the CPU requests of the pod containers, millicores.'),
  vitals(30, 'memoryRequestBytes', 'bytes', 'Vitals: sum of the memory requests of the pod containers, bytes.'),
  vitals(31, 'cpuLimitMillicores', 'millicores', 'Vitals: sum of the CPU limits of the pod containers, millicores; absent unless every container has one.'),
  vitals(32, 'memoryLimitBytes', 'bytes', 'Vitals: sum of the memory limits of the pod containers, bytes; absent unless every container has one.'),
  vitals(33, 'cpuCapacityMillicores', 'millicores', 'Vitals: CPU capacity of the node, millicores.'),
  vitals(34, 'memoryCapacityBytes', 'bytes', 'Vitals: memory capacity of the node, bytes.'),
  vitals(35, 'cpuAllocatableMillicores', 'millicores', 'Vitals: CPU allocatable to pods on the node, millicores.'),
  vitals(36, 'memoryAllocatableBytes', 'bytes', 'Vitals: memory allocatable to pods on the node, bytes.'),
  vitals(37, 'nodeConditionReady', 'string', 'Vitals: status of the node condition Ready: True, False, Unknown, or empty when not reported.'),
  vitals(38, 'nodeConditionMemoryPressure', 'string', 'Vitals: status of the node condition MemoryPressure (True, False, Unknown, or empty).'),
  vitals(39, 'nodeConditionDiskPressure', 'string', 'Vitals: status of the node condition DiskPressure (True, False, Unknown, or empty).'),
  vitals(40, 'nodeConditionPIDPressure', 'string', 'Vitals: status of the node condition PIDPressure (True, False, Unknown, or empty).'),
  vitals(41, 'nodeConditionNetworkUnavailable', 'string', 'Vitals: status of the node condition NetworkUnavailable (True, False, Unknown, or empty).'),
  vitals(42, 'replicasDesired', 'count', 'Vitals: replicas the workload asks for (a DaemonSet: nodes it should run on).'),
  vitals(43, 'replicasReady', 'count', 'Vitals: ready replicas of the workload.'),
  vitals(44, 'replicasAvailable', 'count', 'Vitals: available replicas of the workload.'),
  vitals(45, 'replicasUpdated', 'count', 'Vitals: replicas at the current pod template.'),
  vitals(46, 'workloadHealth', 'string', 'Vitals: healthy, degraded or unavailable, derived from the replica counts (docs/vitals.md).'),
  vitals(47, 'jobActive', 'count', 'Vitals: running pods of the job.'),
  vitals(48, 'jobSucceeded', 'count', 'Vitals: pods of the job that succeeded.'),
  vitals(49, 'jobFailed', 'count', 'Vitals: pods of the job that failed.'),
  vitals(50, 'jobStartMilliseconds', 'time', 'Vitals: when the job started, epoch milliseconds; absent until it starts.'),
  vitals(51, 'jobCompletionMilliseconds', 'time', 'Vitals: when the job completed, epoch milliseconds; absent until it completes.'),
  vitals(52, 'jobDurationMilliseconds', 'duration', 'Vitals: completion minus start of a completed job, milliseconds.'),
  vitals(53, 'cronJobSchedule', 'string', 'Vitals: the CronJob schedule (cron syntax).'),
  vitals(54, 'cronJobSuspended', 'flag', 'Vitals: the CronJob is suspended.'),
  vitals(55, 'cronJobLastScheduleMilliseconds', 'time', 'Vitals: when the CronJob last scheduled a job, epoch milliseconds; absent if never.'),
  vitals(56, 'cronJobLastSuccessfulMilliseconds', 'time', 'Vitals: when a job of the CronJob last succeeded, epoch milliseconds; absent if never.'),
  vitals(57, 'cronJobActiveJobs', 'count', 'Vitals: jobs of the CronJob running now.'),
  vitals(58, 'hpaScaleTargetKind', 'string', 'Vitals: kind of the object the HPA scales.'),
  vitals(59, 'hpaScaleTargetName', 'string', 'Vitals: name of the object the HPA scales.'),
  vitals(60, 'hpaMinReplicas', 'count', 'Vitals: minimum replicas of the HPA.'),
  vitals(61, 'hpaMaxReplicas', 'count', 'Vitals: maximum replicas of the HPA.'),
  vitals(62, 'hpaCurrentReplicas', 'count', 'Vitals: replicas the HPA last saw.'),
  vitals(63, 'hpaDesiredReplicas', 'count', 'Vitals: replicas the HPA last asked for.'),
  vitals(64, 'hpaMetricSourceType', 'string', 'Vitals: metric source of an HPA metric: Resource, ContainerResource, Pods, Object or External.'),
  vitals(65, 'hpaMetricName', 'string', 'Vitals: name of an HPA metric (cpu, memory or the metric name).'),
  vitals(66, 'hpaMetricTargetType', 'string', 'Vitals: target type of an HPA metric: Utilization, AverageValue or Value.'),
  vitals(67, 'hpaMetricUnit', 'string', 'Vitals: unit of the HPA metric values: percent, millicores, bytes or milli (thousandths).'),
  vitals(68, 'hpaMetricTargetValue', 'millicores', 'Vitals: target of an HPA metric, in hpaMetricUnit.'),
  vitals(69, 'hpaMetricCurrentValue', 'millicores', 'Vitals: current value of an HPA metric, in hpaMetricUnit; absent while unknown.'),
];

/**
 * Our enterprise elements. Ids are stable: from now on they are only added, never
 * changed or reused. Flow context takes 1–19, vitals 20–69; the next free id is 70.
 */
export const ENTERPRISE_ELEMENT_DEFINITIONS: readonly EnterpriseElementDefinition[] = [
  ...ENDPOINT_CONTEXT_FIELDS.map(({ element, meaning }, index) =>
    kubernetesString(1 + index, `source${element}`, `Source end: ${meaning}; empty when unknown.`),
  ),
  ...ENDPOINT_CONTEXT_FIELDS.map(({ element, meaning }, index) =>
    kubernetesString(1 + ENDPOINT_CONTEXT_FIELDS.length + index, `destination${element}`, `Destination end: ${meaning}; empty when unknown.`),
  ),
  kubernetesString(19, 'observerNodeName', 'Name of the node whose agent observed and exported the record (flows and vitals).'),
  ...VITALS_ELEMENT_DEFINITIONS,
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

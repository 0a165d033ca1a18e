import { FlowDirection } from '../../domain/flow/flow-key.js';
import type { EnrichedFlow } from '../../domain/flow/flow-record.js';
import type { EndpointContext } from '../../domain/kubernetes/endpoint-context.js';
import { ENDPOINT_CONTEXT_FIELDS, type EndpointContextField, type InformationElementRegistry } from './information-elements.js';
import type { FieldValue } from './field-value.codec.js';
import { defineTemplate, type RecordTemplate } from './ipfix-message.encoder.js';

/** Who exports: the same for every record of a batch, so its fields are encoded once and copied. */
export interface ExporterIdentity {
  /** Local address of the socket towards the collector (exporterIPv4/IPv6Address). */
  readonly address: string;
  /** The node whose agent observed the flow. */
  readonly observerNodeName: string;
}

/**
 * What one flow data record is read from. The exporter reuses one row for a whole
 * batch (only `flow` changes), so encoding allocates nothing per record.
 */
export interface FlowExportRow {
  flow: EnrichedFlow;
  /** Immutable: its encoded fields are cached per instance. */
  exporter: ExporterIdentity;
}

export type IpVersion = 4 | 6;

export interface FlowTemplateVariant {
  readonly ipVersion: IpVersion;
  readonly direction: FlowDirection;
  readonly exporterIpVersion: IpVersion;
}

/** First flow template id; 8 variants follow (RFC 7011 §3.4.1: data template ids start at 256). */
const FLOW_TEMPLATE_ID_BASE = 256;

function variantIndex(ipVersion: IpVersion, direction: FlowDirection, exporterIpVersion: IpVersion): number {
  return (ipVersion === 6 ? 4 : 0) + direction * 2 + (exporterIpVersion === 6 ? 1 : 0);
}

type Field = {
  readonly element: string;
  readonly read: (row: FlowExportRow) => FieldValue;
  readonly owner?: (row: FlowExportRow) => object | undefined;
};

const exporterOf = (row: FlowExportRow): ExporterIdentity => row.exporter;

/** One end's context; EndpointContext is frozen, so its encoded bytes are cached per instance. */
function endpointFields(prefix: 'source' | 'destination', end: (row: FlowExportRow) => EndpointContext | undefined): Field[] {
  return ENDPOINT_CONTEXT_FIELDS.map(({ field, element }) => {
    const key: EndpointContextField = field;
    return { element: `${prefix}${element}`, read: (row: FlowExportRow) => end(row)?.[key] ?? '', owner: end };
  });
}

/** The fields of one variant, in wire order: IANA flow fields, then the Kubernetes context. */
function flowFields(variant: FlowTemplateVariant): Field[] {
  const v6 = variant.ipVersion === 6;
  return [
    { element: v6 ? 'sourceIPv6Address' : 'sourceIPv4Address', read: (row) => row.flow.flow.key.sourceAddress },
    { element: v6 ? 'destinationIPv6Address' : 'destinationIPv4Address', read: (row) => row.flow.flow.key.destinationAddress },
    { element: 'sourceTransportPort', read: (row) => row.flow.flow.key.sourcePort },
    { element: 'destinationTransportPort', read: (row) => row.flow.flow.key.destinationPort },
    { element: 'protocolIdentifier', read: (row) => row.flow.flow.key.protocol },
    { element: 'octetDeltaCount', read: (row) => row.flow.flow.octets },
    { element: 'layer2OctetDeltaCount', read: (row) => row.flow.flow.layer2Octets },
    { element: 'packetDeltaCount', read: (row) => row.flow.flow.packets },
    { element: 'flowStartMilliseconds', read: (row) => row.flow.flow.firstMs },
    { element: 'flowEndMilliseconds', read: (row) => row.flow.flow.lastMs },
    { element: 'tcpControlBits', read: (row) => row.flow.flow.tcpFlags },
    // icmpTypeCode = type × 256 + code; FlowKey keeps both 0 for non-ICMP flows.
    { element: v6 ? 'icmpTypeCodeIPv6' : 'icmpTypeCodeIPv4', read: (row) => row.flow.flow.key.icmpType * 256 + row.flow.flow.key.icmpCode },
    { element: 'vlanId', read: (row) => row.flow.flow.key.vlanId },
    { element: 'flowDirection', read: (row) => row.flow.flow.key.direction },
    { element: variant.direction === FlowDirection.Ingress ? 'ingressInterface' : 'egressInterface', read: (row) => row.flow.flow.key.interfaceIndex },
    { element: 'interfaceName', read: (row) => row.flow.flow.interfaceName },
    { element: 'flowEndReason', read: (row) => row.flow.flow.endReason },
    { element: variant.exporterIpVersion === 6 ? 'exporterIPv6Address' : 'exporterIPv4Address', read: (row) => row.exporter.address, owner: exporterOf },
    { element: 'observerNodeName', read: (row) => row.exporter.observerNodeName, owner: exporterOf },
    ...endpointFields('source', (row) => row.flow.source),
    ...endpointFields('destination', (row) => row.flow.destination),
  ];
}

/**
 * The flow templates: one per address family × observation direction (ingress
 * carries ingressInterface, egress egressInterface) × exporter address family.
 */
export class FlowTemplates {
  /** Indexed by variantIndex(); template id = FLOW_TEMPLATE_ID_BASE + index. */
  private readonly variants: RecordTemplate<FlowExportRow>[] = [];

  constructor(registry: InformationElementRegistry) {
    for (const ipVersion of [4, 6] as const) {
      for (const direction of [FlowDirection.Ingress, FlowDirection.Egress]) {
        for (const exporterIpVersion of [4, 6] as const) {
          const index = variantIndex(ipVersion, direction, exporterIpVersion);
          const fields = flowFields({ ipVersion, direction, exporterIpVersion }).map((field) => ({ ...field, element: registry.byName(field.element) }));
          this.variants[index] = defineTemplate(FLOW_TEMPLATE_ID_BASE + index, fields);
        }
      }
    }
  }

  /** The template of one record (primitive arguments: called per record, allocates nothing). */
  templateFor(ipVersion: IpVersion, direction: FlowDirection, exporterIpVersion: IpVersion): RecordTemplate<FlowExportRow> {
    return this.variants[variantIndex(ipVersion, direction, exporterIpVersion)];
  }

  /** The templates a collector needs: those with its exporter address family. */
  forExporter(exporterIpVersion: IpVersion): RecordTemplate<FlowExportRow>[] {
    return this.variants.filter((_, index) => index % 2 === (exporterIpVersion === 6 ? 1 : 0));
  }
}

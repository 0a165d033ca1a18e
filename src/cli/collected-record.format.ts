import type { FieldValue } from '../adapters/ipfix/field-value.codec.js';
import type { CollectedRecord } from '../adapters/ipfix/ipfix-message.decoder.js';

/** A field value as JSON: integers beyond 2^53 as decimal strings, octets as hex, the rest as is. */
function jsonValue(value: FieldValue): string | number | boolean {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.length).toString('hex');
  return value;
}

/** One line per data record: {"type":"data","domain":…,"template":…,"exporter":…,"fields":{…}}. */
export function recordJsonLine(record: CollectedRecord): string {
  const fields: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(record.fields)) fields[name] = jsonValue(value);
  return JSON.stringify({ type: 'data', domain: record.domain, template: record.templateId, exporter: record.exporter, fields });
}

const PROTOCOL_NAMES: Readonly<Record<number, string>> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp6', 132: 'sctp' };

interface Column {
  readonly title: string;
  readonly width: number;
  readonly alignRight?: boolean;
  readonly cell: (fields: CollectedRecord['fields']) => string;
}

const text = (value: FieldValue | undefined) => (value === undefined ? '' : String(jsonValue(value)));
const endpoint = (address: FieldValue | undefined, port: FieldValue | undefined) => {
  const host = text(address);
  return host.includes(':') ? `[${host}]:${text(port)}` : `${host}:${text(port)}`;
};
const workload = (namespace: FieldValue | undefined, pod: FieldValue | undefined) => (pod ? `${text(namespace)}/${text(pod)}` : '-');

const COLUMNS: readonly Column[] = [
  { title: 'END', width: 12, cell: (f) => (typeof f.flowEndMilliseconds === 'number' ? new Date(f.flowEndMilliseconds).toISOString().slice(11, 23) : '') },
  { title: 'PROTO', width: 5, cell: (f) => PROTOCOL_NAMES[f.protocolIdentifier as number] ?? text(f.protocolIdentifier) },
  { title: 'SOURCE', width: 28, cell: (f) => endpoint(f.sourceIPv4Address ?? f.sourceIPv6Address, f.sourceTransportPort) },
  { title: 'DESTINATION', width: 28, cell: (f) => endpoint(f.destinationIPv4Address ?? f.destinationIPv6Address, f.destinationTransportPort) },
  { title: 'PACKETS', width: 9, alignRight: true, cell: (f) => text(f.packetDeltaCount) },
  { title: 'BYTES', width: 11, alignRight: true, cell: (f) => text(f.octetDeltaCount) },
  { title: 'DIR', width: 3, cell: (f) => (f.flowDirection === 1 ? 'out' : f.flowDirection === 0 ? 'in' : '') },
  { title: 'IF', width: 14, cell: (f) => text(f.interfaceName) },
  { title: 'END REASON', width: 10, cell: (f) => ({ 1: 'idle', 2: 'active', 3: 'end', 4: 'forced', 5: 'resources' })[f.flowEndReason as number] ?? '' },
  { title: 'SOURCE POD', width: 52, cell: (f) => workload(f.sourcePodNamespace, f.sourcePodName) },
  { title: 'DESTINATION POD', width: 52, cell: (f) => workload(f.destinationPodNamespace, f.destinationPodName) },
];

/** Lines repeat the header every this many rows, so a scrolling terminal keeps it in view. */
const HEADER_EVERY = 30;

/** A live, aligned view of flow records; other records (type records) are not shown. */
export class FlowTable {
  private rows = 0;

  /** The lines to print for this record (none for records that are not flows). */
  lines(record: CollectedRecord): string[] {
    const fields = record.fields;
    if (fields.sourceIPv4Address === undefined && fields.sourceIPv6Address === undefined) return [];
    const lines = this.rows % HEADER_EVERY === 0 ? [this.row(COLUMNS.map((column) => column.title))] : [];
    lines.push(this.row(COLUMNS.map((column) => column.cell(fields))));
    this.rows++;
    return lines;
  }

  private row(cells: string[]): string {
    return cells
      .map((cell, index) => {
        const { width, alignRight } = COLUMNS[index];
        const fitted = cell.length > width ? `${cell.slice(0, width - 1)}…` : cell;
        return alignRight ? fitted.padStart(width) : fitted.padEnd(width);
      })
      .join(' ')
      .trimEnd();
  }
}

import type { CollectedFlows, CollectedObservation, EndContext, ExpectedObservation } from './collected-flows.js';

const PROTOCOL_NAMES: Readonly<Record<number, string>> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' };
/** Router/neighbour solicitation and advertisement, MLD reports: every IPv6 link's housekeeping. */
const IPV6_HOUSEKEEPING_TYPES = new Set([133, 134, 135, 136, 143]);

const endpoint = (address: string, port: number, protocol: number) =>
  protocol === 1 || protocol === 58 ? address : address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;

/** "namespace/pod (workload) svc namespace/name", or "-" when the exporter knew nothing of that end. */
function context(end: EndContext): string {
  const parts = [end.pod ? `${end.namespace}/${end.pod}` : '', end.workload ? `(${end.workload})` : '', end.service ? `svc ${end.service}` : ''].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : '-';
}

function alignedTable(header: readonly string[], rows: readonly string[][], rightAligned: ReadonlySet<number>): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const format = (row: readonly string[]) =>
    row
      .map((cell, column) => (rightAligned.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  return [format(header), ...rows.map(format)];
}

/** Every observation the collector received, summed over its records, one line each. */
export function flowTable(collected: CollectedFlows): string[] {
  const shown: CollectedObservation[] = [];
  let housekeeping = 0;
  for (const observation of collected.all()) {
    if (observation.protocol === 58 && IPV6_HOUSEKEEPING_TYPES.has(observation.icmpType)) housekeeping++;
    else shown.push(observation);
  }
  shown.sort((a, b) => a.protocol - b.protocol || a.sourceAddress.localeCompare(b.sourceAddress) || a.sourcePort - b.sourcePort || a.interfaceName.localeCompare(b.interfaceName));
  const rows = shown.map((flow) => [
    PROTOCOL_NAMES[flow.protocol] ?? String(flow.protocol),
    endpoint(flow.sourceAddress, flow.sourcePort, flow.protocol),
    context(flow.source),
    endpoint(flow.destinationAddress, flow.destinationPort, flow.protocol),
    context(flow.destination),
    flow.direction,
    flow.interfaceName,
    String(flow.packets),
    String(flow.octets),
  ]);
  const lines = alignedTable(['PROTO', 'SOURCE', 'SOURCE CONTEXT', 'DESTINATION', 'DESTINATION CONTEXT', 'DIR', 'IF', 'PACKETS', 'BYTES'], rows, new Set([7, 8]));
  lines.push('DIR in: sent by the pod behind IF (TC ingress of its host veth); out: delivered to it. BYTES: IP headers + payload.');
  if (housekeeping > 0) lines.push(`(${housekeeping} IPv6 neighbour discovery / MLD observations not shown)`);
  return lines;
}

export interface StreamVerdict {
  readonly name: string;
  readonly passed: boolean;
  readonly line: string;
}

/** PASS when every observation of the stream arrived with exactly the packets and bytes sent. */
export function streamVerdicts(expected: ReadonlyMap<string, ReadonlyMap<string, ExpectedObservation>>, collected: CollectedFlows): StreamVerdict[] {
  return [...expected].map(([name, observations]) => {
    const list = [...observations.values()];
    const problems = list.map((observation) => collected.mismatch(observation)).filter(Boolean);
    const summary = list.map(({ flow, interfaceName, direction }) => `${flow.packets} packets ${flow.octets} bytes at ${interfaceName}/${direction}`).join(', ');
    const passed = problems.length === 0;
    return { name, passed, line: passed ? `PASS ${name}: ${summary}` : `FAIL ${name}: sent ${summary}; received ${problems.join('; ')}` };
  });
}

import { DataTypeCode, exporterRegistry, type InformationElement } from './information-elements.js';
import { ObservationDomainOffset, VARIABLE_LENGTH } from './ipfix-protocol.js';

/**
 * The published element table (docs/ipfix-elements.json and .md), rendered from the
 * registry so the documents cannot drift from what the exporter sends.
 */

/** RFC 5612: the documentation enterprise number, our default (IPFIX_ENTERPRISE_ID). */
export const DEFAULT_ENTERPRISE_ID = 32473;

export interface ElementDocumentRow {
  readonly id: number;
  readonly enterpriseId: number;
  readonly name: string;
  readonly type: string;
  readonly dataTypeCode: number;
  readonly length: number | 'variable';
  readonly semantics: string;
  readonly units: string;
  readonly description: string;
}

export interface ElementDocument {
  readonly enterpriseId: number;
  readonly observationDomains: Readonly<Record<keyof typeof ObservationDomainOffset, string>>;
  readonly elements: readonly ElementDocumentRow[];
}

function row(element: InformationElement): ElementDocumentRow {
  return {
    id: element.id,
    enterpriseId: element.enterpriseId,
    name: element.name,
    type: element.type,
    dataTypeCode: DataTypeCode[element.type],
    length: element.length === VARIABLE_LENGTH ? 'variable' : element.length,
    semantics: element.semantics ?? 'default',
    units: element.units ?? 'none',
    description: element.description,
  };
}

export function elementDocument(enterpriseId: number = DEFAULT_ENTERPRISE_ID): ElementDocument {
  return {
    enterpriseId,
    observationDomains: {
      Flows: `IPFIX_OBSERVATION_DOMAIN_ID + ${ObservationDomainOffset.Flows}`,
      TypeRecords: `IPFIX_OBSERVATION_DOMAIN_ID + ${ObservationDomainOffset.TypeRecords} (RFC 5610 type records)`,
      Vitals: `IPFIX_OBSERVATION_DOMAIN_ID + ${ObservationDomainOffset.Vitals}`,
    },
    elements: exporterRegistry(enterpriseId).elements.map(row),
  };
}

export function elementDocumentJson(enterpriseId: number = DEFAULT_ENTERPRISE_ID): string {
  return `${JSON.stringify(elementDocument(enterpriseId), null, 2)}\n`;
}

export function elementDocumentMarkdown(enterpriseId: number = DEFAULT_ENTERPRISE_ID): string {
  const document = elementDocument(enterpriseId);
  const table = (rows: readonly ElementDocumentRow[]) => [
    '| id | name | type | length | meaning |',
    '|---:|---|---|---|---|',
    ...rows.map((r) => `| ${r.id} | ${r.name} | ${r.type} | ${r.length} | ${r.description.replaceAll('|', '\\|')} |`),
  ];
  return [
    '# IPFIX information elements',
    '',
    'Generated from `src/adapters/ipfix/information-elements.ts` (`node dist/cli.js ipfix-elements --format markdown`);',
    'a test checks this file and `ipfix-elements.json` against the registry.',
    '',
    `Enterprise elements are sent under the enterprise number IPFIX_ENTERPRISE_ID (default ${document.enterpriseId},`,
    'reserved for documentation by RFC 5612: set your own). Their ids are stable: ids are only ever added.',
    'Every enterprise element is described to collectors by an RFC 5610 type record.',
    '',
    'Observation domains: flows in IPFIX_OBSERVATION_DOMAIN_ID (N), RFC 5610 type records in N+1, vitals in N+2.',
    'Unknown Kubernetes context is sent as an empty string.',
    '',
    `## Enterprise elements (enterprise ${document.enterpriseId})`,
    '',
    ...table(document.elements.filter((r) => r.enterpriseId !== 0)),
    '',
    '## IANA elements',
    '',
    ...table(document.elements.filter((r) => r.enterpriseId === 0)),
    '',
  ].join('\n');
}

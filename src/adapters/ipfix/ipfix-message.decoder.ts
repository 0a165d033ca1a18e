import { DataTypeCode, IANA_REGISTRY, type InformationElementRegistry, type IpfixDataType } from './information-elements.js';
import { decodeField, isValidFieldLength, type FieldValue } from './field-value.codec.js';
import type { FieldSpecifier, MessageHeader, TemplateDefinition } from './ipfix-message.encoder.js';
import {
  ENTERPRISE_BIT,
  ENTERPRISE_NUMBER_LENGTH,
  FIELD_SPECIFIER_LENGTH,
  IPFIX_VERSION,
  MESSAGE_HEADER_LENGTH,
  MIN_DATA_SET_ID,
  OPTIONS_TEMPLATE_RECORD_HEADER_LENGTH,
  OPTIONS_TEMPLATE_SET_ID,
  SEQUENCE_MODULUS,
  SET_HEADER_LENGTH,
  TEMPLATE_RECORD_HEADER_LENGTH,
  TEMPLATE_SET_ID,
  VARIABLE_LENGTH,
  VARIABLE_LENGTH_LONG_MARKER,
} from './ipfix-protocol.js';

/** Why a message or part of it could not be decoded; the collector counts these by reason. */
export class IpfixDecodeError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

export type DecodedRecord = Record<string, FieldValue>;

export type DecodedSet =
  | { readonly kind: 'templates'; readonly templates: TemplateDefinition[] }
  | { readonly kind: 'optionsTemplates'; readonly templates: TemplateDefinition[] }
  | { readonly kind: 'data'; readonly templateId: number; readonly records: DecodedRecord[] };

export interface DecodedMessage {
  readonly header: MessageHeader;
  readonly sets: DecodedSet[];
}

/** How a field is named and typed when decoding a data record. */
export interface ElementInfo {
  readonly name: string;
  readonly type: IpfixDataType;
}

/** Names by (enterprise number, id); undefined for an element nobody described. */
export type ElementResolver = (enterpriseId: number, elementId: number) => ElementInfo | undefined;

/** RFC 7011 §3.1 header; throws IpfixDecodeError unless it is a whole IPFIX message. */
export function decodeMessageHeader(buf: Buffer): MessageHeader & { readonly length: number } {
  if (buf.length < MESSAGE_HEADER_LENGTH) throw new IpfixDecodeError('truncated_header', `Datagram of ${buf.length} octets`);
  const version = buf.readUInt16BE(0);
  if (version !== IPFIX_VERSION) throw new IpfixDecodeError('bad_version', `Version ${version}`);
  const length = buf.readUInt16BE(2);
  if (length < MESSAGE_HEADER_LENGTH || length > buf.length) {
    throw new IpfixDecodeError('bad_message_length', `Message length ${length} in a datagram of ${buf.length} octets`);
  }
  return {
    length,
    exportTime: buf.readUInt32BE(4),
    sequenceNumber: buf.readUInt32BE(8),
    observationDomainId: buf.readUInt32BE(12),
  };
}

/** Template or options template records of one set body [start, end) (RFC 7011 §3.4). */
export function decodeTemplateRecords(buf: Buffer, start: number, end: number, options: boolean): TemplateDefinition[] {
  const templates: TemplateDefinition[] = [];
  const headerLength = options ? OPTIONS_TEMPLATE_RECORD_HEADER_LENGTH : TEMPLATE_RECORD_HEADER_LENGTH;
  let cursor = start;
  // Anything shorter than a record header at the end of a set is padding (RFC 7011 §3.3.1).
  while (end - cursor >= headerLength) {
    const templateId = buf.readUInt16BE(cursor);
    const fieldCount = buf.readUInt16BE(cursor + 2);
    if (templateId < MIN_DATA_SET_ID) {
      if (templateId === 0 && fieldCount === 0) break; // zero padding
      throw new IpfixDecodeError('bad_template_id', `Template id ${templateId}`);
    }
    const scopeFieldCount = options ? buf.readUInt16BE(cursor + 4) : 0;
    if (options && (scopeFieldCount === 0 || scopeFieldCount > fieldCount)) {
      throw new IpfixDecodeError('bad_scope_count', `Options template ${templateId} with ${scopeFieldCount} scope fields of ${fieldCount}`);
    }
    cursor += headerLength;
    const fields: FieldSpecifier[] = [];
    for (let i = 0; i < fieldCount; i++) {
      if (cursor + FIELD_SPECIFIER_LENGTH > end) throw new IpfixDecodeError('truncated_template', `Template ${templateId} overruns its set`);
      const rawId = buf.readUInt16BE(cursor);
      const length = buf.readUInt16BE(cursor + 2);
      cursor += FIELD_SPECIFIER_LENGTH;
      let enterpriseId = 0;
      if (rawId & ENTERPRISE_BIT) {
        if (cursor + ENTERPRISE_NUMBER_LENGTH > end) throw new IpfixDecodeError('truncated_template', `Template ${templateId} overruns its set`);
        enterpriseId = buf.readUInt32BE(cursor);
        cursor += ENTERPRISE_NUMBER_LENGTH;
      }
      if (length === 0) throw new IpfixDecodeError('bad_field_length', `Template ${templateId} field of length 0`);
      fields.push({ elementId: rawId & ~ENTERPRISE_BIT, enterpriseId, length });
    }
    templates.push({ templateId, scopeFieldCount, fields });
  }
  return templates;
}

/** Data records of one set body [start, end), each keyed by field name. */
export function decodeDataRecords(template: TemplateDefinition, resolve: ElementResolver, buf: Buffer, start: number, end: number): DecodedRecord[] {
  const fields = template.fields.map((field) => {
    const info = resolve(field.enterpriseId, field.elementId);
    const usable = info !== undefined && isValidFieldLength(info.type, field.length);
    return {
      length: field.length,
      name: info?.name ?? `${field.enterpriseId}/${field.elementId}`,
      typeCode: usable ? DataTypeCode[info.type] : DataTypeCode.octetArray,
    };
  });
  const minimumLength = fields.reduce((sum, field) => sum + (field.length === VARIABLE_LENGTH ? 1 : field.length), 0);
  const records: DecodedRecord[] = [];
  let cursor = start;
  // A remainder shorter than the shortest record is padding (RFC 7011 §3.3.1).
  while (end - cursor >= Math.max(minimumLength, 1)) {
    const record: DecodedRecord = {};
    for (const field of fields) {
      let length = field.length;
      if (length === VARIABLE_LENGTH) {
        if (cursor >= end) throw new IpfixDecodeError('truncated_record', `Record of template ${template.templateId} overruns its set`);
        length = buf[cursor++];
        if (length === VARIABLE_LENGTH_LONG_MARKER) {
          if (cursor + 2 > end) throw new IpfixDecodeError('truncated_record', `Record of template ${template.templateId} overruns its set`);
          length = buf.readUInt16BE(cursor);
          cursor += 2;
        }
      }
      if (cursor + length > end) throw new IpfixDecodeError('truncated_record', `Record of template ${template.templateId} overruns its set`);
      record[field.name] = decodeField(field.typeCode, buf, cursor, length);
      cursor += length;
    }
    records.push(record);
  }
  return records;
}

/** A whole message with a fixed template table and resolver (tests, tools). */
export function decodeMessage(
  buf: Buffer,
  templates: ReadonlyMap<number, TemplateDefinition>,
  resolve: ElementResolver = ianaResolver(IANA_REGISTRY),
): DecodedMessage {
  const header = decodeMessageHeader(buf);
  const sets: DecodedSet[] = [];
  const known = new Map(templates);
  forEachSet(buf, header.length, (setId, start, end) => {
    if (setId === TEMPLATE_SET_ID || setId === OPTIONS_TEMPLATE_SET_ID) {
      const records = decodeTemplateRecords(buf, start, end, setId === OPTIONS_TEMPLATE_SET_ID);
      for (const template of records) known.set(template.templateId, template);
      sets.push({ kind: setId === TEMPLATE_SET_ID ? 'templates' : 'optionsTemplates', templates: records });
      return;
    }
    const template = known.get(setId);
    if (template === undefined) throw new IpfixDecodeError('missing_template', `No template ${setId}`);
    sets.push({ kind: 'data', templateId: setId, records: decodeDataRecords(template, resolve, buf, start, end) });
  });
  return { header: { exportTime: header.exportTime, sequenceNumber: header.sequenceNumber, observationDomainId: header.observationDomainId }, sets };
}

/** Walks the sets of a message body; throws on a set that overruns the message or has a reserved id. */
function forEachSet(buf: Buffer, messageLength: number, visit: (setId: number, start: number, end: number) => void): void {
  let cursor = MESSAGE_HEADER_LENGTH;
  while (cursor < messageLength) {
    if (cursor + SET_HEADER_LENGTH > messageLength) throw new IpfixDecodeError('truncated_set', 'Set header overruns the message');
    const setId = buf.readUInt16BE(cursor);
    const setLength = buf.readUInt16BE(cursor + 2);
    if (setLength < SET_HEADER_LENGTH || cursor + setLength > messageLength) {
      throw new IpfixDecodeError('bad_set_length', `Set ${setId} of length ${setLength} at ${cursor} in a message of ${messageLength}`);
    }
    if (setId !== TEMPLATE_SET_ID && setId !== OPTIONS_TEMPLATE_SET_ID && setId < MIN_DATA_SET_ID) {
      throw new IpfixDecodeError('reserved_set_id', `Set id ${setId}`);
    }
    visit(setId, cursor + SET_HEADER_LENGTH, cursor + setLength);
    cursor += setLength;
  }
}

export function ianaResolver(registry: InformationElementRegistry): ElementResolver {
  return (enterpriseId, elementId) => registry.find(enterpriseId, elementId);
}

/** RFC 5610 §3.1 codes back to type names, for types learned from type records. */
const DATA_TYPE_BY_CODE = new Map<number, IpfixDataType>(Object.entries(DataTypeCode).map(([name, code]) => [code, name as IpfixDataType]));

/** RFC 5610 §3: an options template scoped by these two fields describes elements. */
const TYPE_RECORD_SCOPE = ['privateEnterpriseNumber', 'informationElementId'] as const;

/** A data record handed to the consumer, with where it came from. */
export interface CollectedRecord {
  readonly exporter: string;
  readonly domain: number;
  readonly templateId: number;
  readonly exportTime: number;
  readonly fields: DecodedRecord;
}

export interface DecoderStats {
  messages: number;
  dataRecords: number;
  templates: number;
  /** Messages whose sequence number differed from the records counted so far in their domain. */
  sequenceErrors: number;
  /** Problems by reason: malformed messages or sets, data sets without a known template. */
  readonly problems: Map<string, number>;
}

/** Most templates held across all exporters, so hostile traffic cannot grow memory without bound. */
const MAX_TEMPLATES = 10_000;

/**
 * Decodes a stream of datagrams as a collector does: templates are kept per
 * (exporter address and port, observation domain, template id); element names come
 * from the IANA registry or from RFC 5610 type records the exporter sent. Never
 * throws: each problem is counted by reason and returned.
 */
export class IpfixDecoder {
  readonly stats: DecoderStats = { messages: 0, dataRecords: 0, templates: 0, sequenceErrors: 0, problems: new Map() };
  private readonly templates = new Map<string, TemplateDefinition>();
  private readonly learnedTypes = new Map<string, ElementInfo>();
  /** Next expected sequence number per exporter and domain. */
  private readonly nextSequence = new Map<string, number>();

  constructor(private readonly registry: InformationElementRegistry = IANA_REGISTRY) {}

  decode(datagram: Buffer, exporter: string): { records: CollectedRecord[]; problems: IpfixDecodeError[] } {
    const records: CollectedRecord[] = [];
    const problems: IpfixDecodeError[] = [];
    try {
      const header = decodeMessageHeader(datagram);
      const domain = header.observationDomainId;
      const resolve: ElementResolver = (enterpriseId, elementId) =>
        this.registry.find(enterpriseId, elementId) ?? this.learnedTypes.get(`${exporter}|${enterpriseId}/${elementId}`);
      forEachSet(datagram, header.length, (setId, start, end) => {
        if (setId === TEMPLATE_SET_ID || setId === OPTIONS_TEMPLATE_SET_ID) {
          for (const template of decodeTemplateRecords(datagram, start, end, setId === OPTIONS_TEMPLATE_SET_ID)) this.keepTemplate(exporter, domain, template);
          return;
        }
        const template = this.templates.get(templateKey(exporter, domain, setId));
        if (template === undefined) {
          problems.push(new IpfixDecodeError('missing_template', `No template ${setId} from ${exporter} in domain ${domain}`));
          return;
        }
        for (const fields of decodeDataRecords(template, resolve, datagram, start, end)) {
          records.push({ exporter, domain, templateId: setId, exportTime: header.exportTime, fields });
          if (template.scopeFieldCount > 0) this.learnType(exporter, fields);
        }
      });
      this.checkSequence(exporter, domain, header.sequenceNumber, records.length);
      this.stats.messages++;
    } catch (error) {
      // Reading past a set is already an IpfixDecodeError; anything else (a bad boolean octet) is malformed too.
      problems.push(error instanceof IpfixDecodeError ? error : new IpfixDecodeError('malformed_field', String(error)));
    }
    this.stats.dataRecords += records.length;
    for (const problem of problems) this.stats.problems.set(problem.reason, (this.stats.problems.get(problem.reason) ?? 0) + 1);
    return { records, problems };
  }

  private keepTemplate(exporter: string, domain: number, template: TemplateDefinition): void {
    const key = templateKey(exporter, domain, template.templateId);
    // RFC 7011 §8.1: a template record with no fields withdraws the template.
    if (template.fields.length === 0) {
      this.templates.delete(key);
      return;
    }
    if (!this.templates.has(key) && this.templates.size >= MAX_TEMPLATES) {
      throw new IpfixDecodeError('template_limit', `More than ${MAX_TEMPLATES} templates`);
    }
    this.templates.set(key, template);
    this.stats.templates++;
  }

  /** RFC 5610 type record: remember the described element's name and type for this exporter. */
  private learnType(exporter: string, fields: DecodedRecord): void {
    const [enterpriseField, idField] = TYPE_RECORD_SCOPE;
    const enterpriseId = fields[enterpriseField];
    const elementId = fields[idField];
    const name = fields.informationElementName;
    const type = DATA_TYPE_BY_CODE.get(fields.informationElementDataType as number);
    if (typeof enterpriseId !== 'number' || typeof elementId !== 'number' || typeof name !== 'string' || type === undefined) return;
    this.learnedTypes.set(`${exporter}|${enterpriseId}/${elementId}`, { name, type });
  }

  /** RFC 7011 §3.1: the sequence number is the count of data records sent before this message. */
  private checkSequence(exporter: string, domain: number, sequenceNumber: number, dataRecords: number): void {
    const key = `${exporter}|${domain}`;
    const expected = this.nextSequence.get(key);
    if (expected !== undefined && expected !== sequenceNumber) this.stats.sequenceErrors++;
    this.nextSequence.set(key, (sequenceNumber + dataRecords) % SEQUENCE_MODULUS);
  }
}

function templateKey(exporter: string, domain: number, templateId: number): string {
  return `${exporter}|${domain}|${templateId}`;
}

import { DataTypeCode, type InformationElement } from './information-elements.js';
import {
  fieldEncodingLength,
  fieldWriter,
  fixedFieldWriter,
  NO_ROOM,
  type FieldValue,
  type FieldWriter,
  type FixedFieldWriter,
  writeUnsigned16,
  writeUnsigned32,
} from './field-value.codec.js';
import {
  ENTERPRISE_BIT,
  ENTERPRISE_NUMBER_LENGTH,
  FIELD_SPECIFIER_LENGTH,
  IPFIX_VERSION,
  MAX_VARIABLE_LENGTH,
  MESSAGE_HEADER_LENGTH,
  OPTIONS_TEMPLATE_RECORD_HEADER_LENGTH,
  OPTIONS_TEMPLATE_SET_ID,
  SET_HEADER_LENGTH,
  TEMPLATE_RECORD_HEADER_LENGTH,
  TEMPLATE_SET_ID,
  VARIABLE_LENGTH,
} from './ipfix-protocol.js';

/**
 * Pure IPFIX encoders (RFC 7011 §3): each writes into a caller-owned buffer at an
 * offset and returns the offset after what it wrote; each has a pure length function.
 */

/** One field of a template as it travels on the wire (RFC 7011 §3.2). */
export interface FieldSpecifier {
  readonly elementId: number;
  /** 0 for IANA elements; otherwise the E bit is set and this number follows. */
  readonly enterpriseId: number;
  readonly length: number;
}

/** A template or options template record (RFC 7011 §3.4.1, §3.4.2.2); scope fields come first. */
export interface TemplateDefinition {
  readonly templateId: number;
  /** 0 for a plain template; at least 1 for an options template. */
  readonly scopeFieldCount: number;
  readonly fields: readonly FieldSpecifier[];
}

/** A template field bound to the element it carries and to where its value comes from. */
export interface TemplateField<Source> {
  readonly element: InformationElement;
  readonly length: number;
  readonly typeCode: number;
  readonly read: (source: Source) => FieldValue;
  /** This field's entry of the encoding table (field-value.codec.ts). */
  readonly write: FieldWriter;
  /** Fixed-length fields only: the same without the limit check (compiled encoders check a run of fields at once). */
  readonly writeFixed: FixedFieldWriter | undefined;
}

/** How a template field is declared: the element, its value, and optionally the object it belongs to. */
export interface FieldDeclaration<Source> {
  readonly element: InformationElement;
  readonly read: (source: Source) => FieldValue;
  /**
   * The immutable object this value is read from (e.g. one end's Kubernetes context).
   * Consecutive fields with the same `owner` function form a block whose bytes are
   * encoded once per object and then copied: most flows share a few contexts, and one
   * copy is far cheaper than encoding nine strings.
   */
  readonly owner?: (source: Source) => object | undefined;
}

/** A run of template fields encoded either one by one or, for owned fields, as one cached block. */
export type TemplateSegment<Source> =
  | { readonly kind: 'field'; readonly field: TemplateField<Source> }
  | {
      readonly kind: 'ownedBlock';
      readonly fields: readonly TemplateField<Source>[];
      readonly owner: (source: Source) => object | undefined;
      /** Encoded bytes per owner object; entries go when the object is collected. */
      readonly cache: WeakMap<object, Buffer>;
    };

/** A template ready to encode data records read from values of type Source. */
export interface RecordTemplate<Source> {
  readonly definition: TemplateDefinition;
  readonly fields: readonly TemplateField<Source>[];
  readonly segments: readonly TemplateSegment<Source>[];
  /** Octets of the fixed-length fields and the shortest possible variable-length fields. */
  readonly minimumRecordLength: number;
  /** The segments compiled into one function (see compileRecordEncoder). */
  readonly encodeRecord: RecordEncoder<Source>;
}

/** Writes one whole record at offset; the offset after it, or NO_ROOM (nothing written past limit). */
export type RecordEncoder<Source> = (source: Source, buf: Buffer, offset: number, limit: number) => number;

export interface MessageHeader {
  readonly exportTime: number;
  readonly sequenceNumber: number;
  readonly observationDomainId: number;
}

export type MessageSet<Source> =
  | { readonly kind: 'templates'; readonly templates: readonly TemplateDefinition[] }
  | { readonly kind: 'optionsTemplates'; readonly templates: readonly TemplateDefinition[] }
  | { readonly kind: 'data'; readonly template: RecordTemplate<Source>; readonly records: readonly Source[] };

export interface IpfixMessage<Source> {
  readonly header: MessageHeader;
  readonly sets: readonly MessageSet<Source>[];
}

export function fieldSpecifier(element: InformationElement, length: number = element.length): FieldSpecifier {
  return { elementId: element.id, enterpriseId: element.enterpriseId, length };
}

/** Binds elements to value readers; the first `scopeFieldCount` fields are scope fields. */
export function defineTemplate<Source>(
  templateId: number,
  declarations: ReadonlyArray<FieldDeclaration<Source>>,
  scopeFieldCount = 0,
): RecordTemplate<Source> {
  const fields = declarations.map(({ element, read }) => {
    const { length } = element;
    const typeCode = DataTypeCode[element.type];
    const writeFixed = length === VARIABLE_LENGTH ? undefined : fixedFieldWriter(typeCode, length);
    return { element, length, typeCode, read, write: fieldWriter(typeCode, length), writeFixed };
  });
  const segments: TemplateSegment<Source>[] = [];
  declarations.forEach(({ owner }, index) => {
    const previous = segments.at(-1);
    if (owner === undefined) segments.push({ kind: 'field', field: fields[index] });
    else if (previous?.kind === 'ownedBlock' && previous.owner === owner) (previous.fields as TemplateField<Source>[]).push(fields[index]);
    else segments.push({ kind: 'ownedBlock', fields: [fields[index]], owner, cache: new WeakMap() });
  });
  return {
    definition: { templateId, scopeFieldCount, fields: fields.map(({ element }) => fieldSpecifier(element)) },
    fields,
    segments,
    minimumRecordLength: fields.reduce((sum, field) => sum + (field.length === VARIABLE_LENGTH ? 1 : field.length), 0),
    encodeRecord: compileRecordEncoder(templateId, segments),
  };
}

/** Fields of an unknown owner (undefined) are encoded too: their readers give the "unknown" values. */
const UNKNOWN_OWNER = {};

/** Below this size a byte loop beats the native call behind TypedArray#set. */
const NATIVE_COPY_THRESHOLD = 16;

/**
 * Compiles a template's segment table into one straight-line function, the way
 * protobufjs and avsc generate codecs from schemas. In a loop over the table every
 * field shares one call site, so V8 sees dozens of readers and writers there and
 * can inline none; in the generated code each field has a call site of its own
 * that sees one function, and gets inlined. Consecutive fixed-length fields are
 * one run: a single limit check, then each written at its constant offset in the
 * run. Only numbers from the table enter the generated text; readers, writers and
 * block lookups are passed in as values.
 */
function compileRecordEncoder<Source>(templateId: number, segments: readonly TemplateSegment<Source>[]): RecordEncoder<Source> {
  const names: string[] = ['NO_ROOM', 'MAX_VARIABLE_LENGTH', 'NATIVE_COPY_THRESHOLD', 'UNKNOWN_OWNER'];
  const values: unknown[] = [NO_ROOM, MAX_VARIABLE_LENGTH, NATIVE_COPY_THRESHOLD, UNKNOWN_OWNER];
  const body: string[] = [];
  let fixedRun: string[] = [];
  let fixedRunLength = 0;
  const endFixedRun = () => {
    if (fixedRunLength === 0) return;
    body.push(`if (cursor + ${fixedRunLength} > limit) return NO_ROOM;`, ...fixedRun, `cursor += ${fixedRunLength};`);
    fixedRun = [];
    fixedRunLength = 0;
  };
  segments.forEach((segment, index) => {
    if (segment.kind === 'field' && segment.field.writeFixed !== undefined) {
      names.push(`read${index}`, `write${index}`);
      values.push(segment.field.read, segment.field.writeFixed);
      fixedRun.push(`write${index}(read${index}(source), buf, cursor + ${fixedRunLength});`);
      fixedRunLength += segment.field.length;
      return;
    }
    endFixedRun();
    if (segment.kind === 'field') {
      names.push(`read${index}`, `write${index}`);
      values.push(segment.field.read, segment.field.write);
      body.push(`cursor = write${index}(read${index}(source), buf, cursor, limit, MAX_VARIABLE_LENGTH);
    if (cursor === NO_ROOM) return NO_ROOM;`);
      return;
    }
    names.push(`owner${index}`, `cache${index}`, `fill${index}`);
    values.push(segment.owner, segment.cache, (source: Source, owner: object) => fillOwnedBlock(segment, source, owner));
    body.push(`owner = owner${index}(source) ?? UNKNOWN_OWNER;
    block = cache${index}.get(owner) ?? fill${index}(source, owner);
    if (cursor + block.length > limit) return NO_ROOM;
    if (block.length >= NATIVE_COPY_THRESHOLD) buf.set(block, cursor);
    else for (let i = 0; i < block.length; i++) buf[cursor + i] = block[i];
    cursor += block.length;`);
  });
  endFixedRun();
  // The template id in the function name keeps each template's compiled code (and its type feedback) apart.
  const source = `"use strict";
  return function encodeTemplate${templateId}(source, buf, offset, limit) {
    let cursor = offset;
    let owner;
    let block;
    ${body.join('\n    ')}
    return cursor;
  };`;
  return new Function(...names, source)(...values) as RecordEncoder<Source>;
}

export function encodeMessageHeader(header: MessageHeader, messageLength: number, buf: Buffer, offset: number): number {
  writeUnsigned16(IPFIX_VERSION, buf, offset);
  writeUnsigned16(messageLength, buf, offset + 2);
  writeUnsigned32(header.exportTime, buf, offset + 4);
  writeUnsigned32(header.sequenceNumber, buf, offset + 8);
  writeUnsigned32(header.observationDomainId, buf, offset + 12);
  return offset + MESSAGE_HEADER_LENGTH;
}

/** Offset of the sequence number in the message header, for stamping a built message per collector. */
export const SEQUENCE_NUMBER_OFFSET = 8;

export function encodeSetHeader(setId: number, setLength: number, buf: Buffer, offset: number): number {
  writeUnsigned16(setId, buf, offset);
  writeUnsigned16(setLength, buf, offset + 2);
  return offset + SET_HEADER_LENGTH;
}

export function fieldSpecifierEncodingLength(field: FieldSpecifier): number {
  return field.enterpriseId === 0 ? FIELD_SPECIFIER_LENGTH : FIELD_SPECIFIER_LENGTH + ENTERPRISE_NUMBER_LENGTH;
}

export function encodeFieldSpecifier(field: FieldSpecifier, buf: Buffer, offset: number): number {
  const enterprise = field.enterpriseId !== 0;
  buf.writeUInt16BE(enterprise ? field.elementId | ENTERPRISE_BIT : field.elementId, offset);
  buf.writeUInt16BE(field.length, offset + 2);
  if (!enterprise) return offset + FIELD_SPECIFIER_LENGTH;
  buf.writeUInt32BE(field.enterpriseId, offset + FIELD_SPECIFIER_LENGTH);
  return offset + FIELD_SPECIFIER_LENGTH + ENTERPRISE_NUMBER_LENGTH;
}

export function templateRecordEncodingLength(template: TemplateDefinition): number {
  const header = template.scopeFieldCount > 0 ? OPTIONS_TEMPLATE_RECORD_HEADER_LENGTH : TEMPLATE_RECORD_HEADER_LENGTH;
  return template.fields.reduce((sum, field) => sum + fieldSpecifierEncodingLength(field), header);
}

/** A template record, or an options template record when scopeFieldCount > 0. */
export function encodeTemplateRecord(template: TemplateDefinition, buf: Buffer, offset: number): number {
  buf.writeUInt16BE(template.templateId, offset);
  buf.writeUInt16BE(template.fields.length, offset + 2);
  let cursor = offset + TEMPLATE_RECORD_HEADER_LENGTH;
  if (template.scopeFieldCount > 0) {
    buf.writeUInt16BE(template.scopeFieldCount, cursor);
    cursor += OPTIONS_TEMPLATE_RECORD_HEADER_LENGTH - TEMPLATE_RECORD_HEADER_LENGTH;
  }
  for (const field of template.fields) cursor = encodeFieldSpecifier(field, buf, cursor);
  return cursor;
}

/** A template set (id 2) or options template set (id 3) holding the given records. */
export function templateSetEncodingLength(templates: readonly TemplateDefinition[]): number {
  return templates.reduce((sum, template) => sum + templateRecordEncodingLength(template), SET_HEADER_LENGTH);
}

export function encodeTemplateSet(templates: readonly TemplateDefinition[], options: boolean, buf: Buffer, offset: number): number {
  const length = templateSetEncodingLength(templates);
  let cursor = encodeSetHeader(options ? OPTIONS_TEMPLATE_SET_ID : TEMPLATE_SET_ID, length, buf, offset);
  for (const template of templates) cursor = encodeTemplateRecord(template, buf, cursor);
  return cursor;
}

export function dataRecordEncodingLength<Source>(template: RecordTemplate<Source>, source: Source): number {
  let length = 0;
  for (const field of template.fields) length += fieldEncodingLength(field.element.type, field.length, field.read(source));
  return length;
}

/**
 * One data record, or NO_ROOM if it would pass `limit`. Variable-length strings
 * are cut to `maxStringBytes` octets (a record truncated to fit a message); cut
 * records bypass the owned-block cache.
 */
export function encodeDataRecord<Source>(
  template: RecordTemplate<Source>,
  source: Source,
  buf: Buffer,
  offset: number,
  limit: number,
  maxStringBytes = MAX_VARIABLE_LENGTH,
): number {
  if (maxStringBytes < MAX_VARIABLE_LENGTH) return encodeFields(template.fields, source, buf, offset, limit, maxStringBytes);
  return template.encodeRecord(source, buf, offset, limit);
}

function encodeFields<Source>(
  fields: readonly TemplateField<Source>[],
  source: Source,
  buf: Buffer,
  offset: number,
  limit: number,
  maxStringBytes: number,
): number {
  let cursor = offset;
  for (let i = 0; i < fields.length && cursor !== NO_ROOM; i++) {
    const field = fields[i];
    cursor = field.write(field.read(source), buf, cursor, limit, maxStringBytes);
  }
  return cursor;
}


/** Encodes an owned block once per owner object and keeps it (the owner is immutable). */
function fillOwnedBlock<Source>(segment: Extract<TemplateSegment<Source>, { kind: 'ownedBlock' }>, source: Source, owner: object): Buffer {
  const length = segment.fields.reduce((sum, field) => sum + fieldEncodingLength(field.element.type, field.length, field.read(source)), 0);
  const block = Buffer.allocUnsafe(length);
  encodeFields(segment.fields, source, block, 0, length, MAX_VARIABLE_LENGTH);
  segment.cache.set(owner, block);
  return block;
}

export function dataSetEncodingLength<Source>(template: RecordTemplate<Source>, records: readonly Source[]): number {
  return records.reduce((sum, record) => sum + dataRecordEncodingLength(template, record), SET_HEADER_LENGTH);
}

export function encodeDataSet<Source>(template: RecordTemplate<Source>, records: readonly Source[], buf: Buffer, offset: number): number {
  let cursor = encodeSetHeader(template.definition.templateId, dataSetEncodingLength(template, records), buf, offset);
  for (const record of records) {
    cursor = encodeDataRecord(template, record, buf, cursor, buf.length);
    if (cursor === NO_ROOM) throw new RangeError('Buffer too small for the data set');
  }
  return cursor;
}

export function messageEncodingLength<Source>(message: IpfixMessage<Source>): number {
  return message.sets.reduce(
    (sum, set) => sum + (set.kind === 'data' ? dataSetEncodingLength(set.template, set.records) : templateSetEncodingLength(set.templates)),
    MESSAGE_HEADER_LENGTH,
  );
}

/** A whole message from a description of its sets (templates, tests, tools); the flow path uses FlowMessagePacker. */
export function encodeMessage<Source>(message: IpfixMessage<Source>, buf: Buffer, offset: number): number {
  let cursor = encodeMessageHeader(message.header, messageEncodingLength(message), buf, offset);
  for (const set of message.sets) {
    cursor = set.kind === 'data'
      ? encodeDataSet(set.template, set.records, buf, cursor)
      : encodeTemplateSet(set.templates, set.kind === 'optionsTemplates', buf, cursor);
  }
  return cursor;
}

import { DataTypeCode } from './information-elements.js';
import { NO_ROOM, variableLengthPrefixLength } from './field-value.codec.js';
import {
  encodeDataRecord,
  encodeMessageHeader,
  encodeSetHeader,
  encodeTemplateRecord,
  templateRecordEncodingLength,
  type RecordTemplate,
  type TemplateDefinition,
} from './ipfix-message.encoder.js';
import {
  MAX_MESSAGE_LENGTH,
  MAX_VARIABLE_LENGTH,
  MESSAGE_HEADER_LENGTH,
  OPTIONS_TEMPLATE_SET_ID,
  SET_HEADER_LENGTH,
  TEMPLATE_SET_ID,
  VARIABLE_LENGTH,
} from './ipfix-protocol.js';

/** One finished message. Its sequence number is 0: each collector session stamps its own. */
export interface PackedMessage {
  readonly buffer: Buffer;
  readonly observationDomainId: number;
  /** Data records in the message (what the sequence number counts, RFC 7011 §3.1). */
  readonly dataRecords: number;
}

export interface PackerStats {
  /** Records that fit only with their strings cut. */
  truncatedRecords: number;
  /** Records that do not fit a message even with every string empty. */
  oversizedRecords: number;
  /** Records with a value their data type cannot carry (e.g. a malformed address). */
  unencodableRecords: number;
}

const NO_SET = -1;

/**
 * Packs records into messages of at most maxMessageSize octets for one
 * observation domain. Records are written straight into a reused scratch buffer
 * (encoders never pass the limit); a record that does not fit closes the message
 * and is written again into the next one; a record too big for an empty message
 * has its strings cut. Each finished message is copied out once, so sends can
 * run while the next batch is packed.
 */
export class MessagePacker<Source> {
  readonly stats: PackerStats = { truncatedRecords: 0, oversizedRecords: 0, unencodableRecords: 0 };
  private readonly scratch: Buffer;
  private readonly limit: number;
  private messages: PackedMessage[] = [];
  private exportTime = 0;
  private offset = MESSAGE_HEADER_LENGTH;
  private setStart = NO_SET;
  private setId = NO_SET;
  private recordsInMessage = 0;
  /** Template ids whose template travels in the current message. */
  private readonly templatesInMessage = new Set<number>();

  constructor(private readonly options: { readonly maxMessageSize: number; readonly observationDomainId: number }) {
    if (!(options.maxMessageSize > MESSAGE_HEADER_LENGTH + SET_HEADER_LENGTH && options.maxMessageSize <= MAX_MESSAGE_LENGTH)) {
      throw new RangeError(`maxMessageSize ${options.maxMessageSize} out of range`);
    }
    this.limit = options.maxMessageSize;
    this.scratch = Buffer.alloc(options.maxMessageSize);
  }

  /** Starts a batch of messages stamped with this export time (epoch seconds). */
  begin(exportTimeSeconds: number): void {
    this.exportTime = exportTimeSeconds;
  }

  /** Adds template (or options template) records, as many per set and message as fit. */
  addTemplates(templates: readonly TemplateDefinition[]): void {
    for (const template of templates) {
      if (this.tryAppendTemplate(template)) continue;
      this.closeMessage();
      if (!this.tryAppendTemplate(template)) throw new RangeError(`Template ${template.templateId} exceeds maxMessageSize`);
    }
  }

  /**
   * Adds one data record. With `inlineTemplate`, every message holding records of
   * this template also carries the template ahead of them (RFC 7011 §8: templates
   * precede their data; over UDP they go in the same message).
   */
  addRecord(template: RecordTemplate<Source>, source: Source, inlineTemplate: boolean): void {
    try {
      if (this.tryAppendRecord(template, source, inlineTemplate, MAX_VARIABLE_LENGTH)) return;
      if (this.hasContent()) {
        this.closeMessage();
        if (this.tryAppendRecord(template, source, inlineTemplate, MAX_VARIABLE_LENGTH)) return;
      }
      this.appendTruncated(template, source, inlineTemplate);
    } catch {
      this.stats.unencodableRecords++;
    }
  }

  /** Closes the batch and hands over its messages. */
  finish(): PackedMessage[] {
    if (this.hasContent()) this.closeMessage();
    const messages = this.messages;
    this.messages = [];
    return messages;
  }

  private hasContent(): boolean {
    return this.offset > MESSAGE_HEADER_LENGTH;
  }

  private tryAppendTemplate(template: TemplateDefinition): boolean {
    const setId = template.scopeFieldCount > 0 ? OPTIONS_TEMPLATE_SET_ID : TEMPLATE_SET_ID;
    const needsSetHeader = this.setId !== setId;
    const length = templateRecordEncodingLength(template) + (needsSetHeader ? SET_HEADER_LENGTH : 0);
    if (this.offset + length > this.limit) return false;
    if (needsSetHeader) this.openSet(setId);
    this.offset = encodeTemplateRecord(template, this.scratch, this.offset);
    this.templatesInMessage.add(template.templateId);
    return true;
  }

  /** Appends a record (and its template, set header) or leaves the message untouched and returns false. */
  private tryAppendRecord(template: RecordTemplate<Source>, source: Source, inlineTemplate: boolean, maxStringBytes: number): boolean {
    const savedOffset = this.offset;
    const savedSetStart = this.setStart;
    const savedSetId = this.setId;
    const templateId = template.definition.templateId;
    const addsTemplate = inlineTemplate && !this.templatesInMessage.has(templateId);
    let end = NO_ROOM;
    try {
      if (!addsTemplate || this.tryAppendTemplate(template.definition)) {
        if (this.setId !== templateId && this.offset + SET_HEADER_LENGTH <= this.limit) this.openSet(templateId);
        if (this.setId === templateId) end = encodeDataRecord(template, source, this.scratch, this.offset, this.limit, maxStringBytes);
      }
    } finally {
      // On no room or a throw, restoring the offsets is enough: bytes past them are rewritten before the message closes.
      if (end === NO_ROOM) {
        this.offset = savedOffset;
        this.setStart = savedSetStart;
        this.setId = savedSetId;
        if (addsTemplate) this.templatesInMessage.delete(templateId);
      }
    }
    if (end === NO_ROOM) return false;
    this.offset = end;
    this.recordsInMessage++;
    return true;
  }

  /** The record alone in a message with every string cut to the largest common length that fits. */
  private appendTruncated(template: RecordTemplate<Source>, source: Source, inlineTemplate: boolean): void {
    const overhead = MESSAGE_HEADER_LENGTH + SET_HEADER_LENGTH + (inlineTemplate ? SET_HEADER_LENGTH + templateRecordEncodingLength(template.definition) : 0);
    const maxStringBytes = largestStringCap(template, source, this.limit - overhead);
    if (maxStringBytes !== undefined && this.tryAppendRecord(template, source, inlineTemplate, maxStringBytes)) {
      this.stats.truncatedRecords++;
      return;
    }
    this.stats.oversizedRecords++;
  }

  private openSet(setId: number): void {
    this.closeSet();
    this.setStart = this.offset;
    this.setId = setId;
    this.offset += SET_HEADER_LENGTH;
  }

  private closeSet(): void {
    if (this.setStart === NO_SET) return;
    encodeSetHeader(this.setId, this.offset - this.setStart, this.scratch, this.setStart);
    this.setStart = NO_SET;
    this.setId = NO_SET;
  }

  private closeMessage(): void {
    this.closeSet();
    const { observationDomainId } = this.options;
    encodeMessageHeader({ exportTime: this.exportTime, sequenceNumber: 0, observationDomainId }, this.offset, this.scratch, 0);
    this.messages.push({ buffer: Buffer.from(this.scratch.subarray(0, this.offset)), observationDomainId, dataRecords: this.recordsInMessage });
    this.offset = MESSAGE_HEADER_LENGTH;
    this.recordsInMessage = 0;
    this.templatesInMessage.clear();
  }
}

/**
 * The largest per-string octet cap with which the record fits `available` octets
 * (strings longer than the cap are cut to it), or undefined if even empty strings
 * do not fit. Strings cut at a character boundary only get shorter, so the
 * record still fits.
 */
function largestStringCap<Source>(template: RecordTemplate<Source>, source: Source, available: number): number | undefined {
  let fixedLength = 0;
  const stringLengths: number[] = [];
  for (const field of template.fields) {
    const value = field.read(source);
    if (field.length !== VARIABLE_LENGTH) fixedLength += field.length;
    else if (field.typeCode === DataTypeCode.string) stringLengths.push(Buffer.byteLength(value as string, 'utf8'));
    else fixedLength += variableLengthPrefixLength((value as Uint8Array).length) + (value as Uint8Array).length;
  }
  const lengthWithCap = (cap: number) =>
    stringLengths.reduce((sum, length) => {
      const kept = Math.min(length, cap);
      return sum + variableLengthPrefixLength(kept) + kept;
    }, fixedLength);
  if (lengthWithCap(0) > available) return undefined;
  let fits = 0;
  let tooBig = Math.min(Math.max(0, ...stringLengths), MAX_VARIABLE_LENGTH) + 1;
  while (tooBig - fits > 1) {
    const middle = Math.floor((fits + tooBig) / 2);
    if (lengthWithCap(middle) <= available) fits = middle;
    else tooBig = middle;
  }
  return fits;
}

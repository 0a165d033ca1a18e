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
/** Messages are carved from slabs of at least this size, so finishing one costs no copy. */
const MIN_SLAB_SIZE = 1 << 20;
/**
 * Slabs kept to be written again after releaseMessages(): 8 MiB, the messages of
 * ~18,000 flow records of ~460 octets. Larger batches take fresh slabs beyond.
 */
const MAX_KEPT_SLABS = 8;

/**
 * Packs records into messages of at most maxMessageSize octets for one
 * observation domain. Messages are built in place in a slab and handed out as
 * views of it (no copy; the next message starts where the last one ended); they
 * stay valid until the caller releases them with releaseMessages(). A
 * record is encoded right where it would go in the current message, using room
 * past the message limit; only when it turns out not to fit is it moved, once,
 * into the next message. A record too big for any message has its strings cut.
 */
export class MessagePacker<Source> {
  readonly stats: PackerStats = { truncatedRecords: 0, oversizedRecords: 0, unencodableRecords: 0 };
  private readonly maxMessageSize: number;
  /** Largest record: alone in a message behind the message and set headers. */
  private readonly recordLimit: number;
  /** Octets a message may need while built: itself, then an inline template and set header, then a record past its limit. */
  private readonly window: number;
  /** Where a record that must move waits while its old message is closed. */
  private readonly parking: Buffer;
  private slab: Buffer;
  /**
   * The first MAX_KEPT_SLABS slabs, in the order they are written; only once the
   * caller has released messages (a packer never released keeps nothing alive).
   */
  private readonly keptSlabs: Buffer[] = [];
  private releasesMessages = false;
  /** Position of the current slab in that order, since construction or releaseMessages(). */
  private slabIndex = -1;
  /** Start of the current message in the slab; offsets below are absolute slab offsets. */
  private base = 0;
  private limit = 0;
  private offset = 0;
  private setStart = NO_SET;
  private setId = NO_SET;
  private recordsInMessage = 0;
  /** Template ids whose template travels in (or right ahead of) the current message. */
  private readonly templatesInMessage = new Set<number>();
  private messages: PackedMessage[] = [];
  private exportTime = 0;

  constructor(private readonly options: { readonly maxMessageSize: number; readonly observationDomainId: number }) {
    if (!(options.maxMessageSize > MESSAGE_HEADER_LENGTH + SET_HEADER_LENGTH && options.maxMessageSize <= MAX_MESSAGE_LENGTH)) {
      throw new RangeError(`maxMessageSize ${options.maxMessageSize} out of range`);
    }
    this.maxMessageSize = options.maxMessageSize;
    this.recordLimit = options.maxMessageSize - MESSAGE_HEADER_LENGTH - SET_HEADER_LENGTH;
    this.window = 3 * options.maxMessageSize;
    this.parking = Buffer.alloc(this.recordLimit);
    this.slab = this.nextSlab();
    this.startMessage();
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
   * precede their data; over UDP they go in the same message), or, when template and
   * record cannot share a message, the template travels alone right ahead.
   */
  addRecord(template: RecordTemplate<Source>, source: Source, inlineTemplate: boolean): void {
    const definition = template.definition;
    let prefixLength = this.prefixLength(definition, inlineTemplate);
    // Less room left than the template's shortest record: the record would only be encoded to be moved.
    if (this.offset + prefixLength + template.minimumRecordLength > this.limit && this.hasContent()) {
      this.closeMessage();
      prefixLength = this.prefixLength(definition, inlineTemplate);
    }
    const start = this.offset + prefixLength;
    let end: number;
    try {
      end = encodeDataRecord(template, source, this.slab, start, start + this.recordLimit);
      if (end === NO_ROOM) {
        const maxStringBytes = largestStringCap(template, source, this.recordLimit);
        if (maxStringBytes === undefined) {
          this.stats.oversizedRecords++;
          return;
        }
        end = encodeDataRecord(template, source, this.slab, start, start + this.recordLimit, maxStringBytes);
        this.stats.truncatedRecords++;
      }
    } catch {
      this.stats.unencodableRecords++;
      return;
    }
    if (end <= this.limit) {
      this.writePrefix(definition, inlineTemplate);
      this.offset = end;
    } else {
      this.moveToNextMessage(definition, inlineTemplate, start, end - start);
    }
    this.recordsInMessage++;
  }

  /** Closes the batch and hands over its messages. */
  finish(): PackedMessage[] {
    if (this.hasContent()) this.closeMessage();
    const messages = this.messages;
    this.messages = [];
    return messages;
  }

  /**
   * The caller is done with every message handed out so far (sent or dropped):
   * the next ones are written over the same memory. Fresh memory costs a page
   * fault per page on its first write (measured: ~10× the cost of writing warm
   * memory), so at a million records per second reuse matters. Between batches only.
   */
  releaseMessages(): void {
    if (this.hasContent() || this.messages.length > 0) throw new Error('releaseMessages() in the middle of a batch');
    this.releasesMessages = true;
    this.slabIndex = -1;
    this.slab = this.nextSlab();
    this.startMessage();
  }

  /** Octets between the current offset and where the next record of this template starts. */
  private prefixLength(template: TemplateDefinition, inlineTemplate: boolean): number {
    if (this.needsTemplate(template, inlineTemplate)) {
      return (this.setId === TEMPLATE_SET_ID ? 0 : SET_HEADER_LENGTH) + templateRecordEncodingLength(template) + SET_HEADER_LENGTH;
    }
    return this.setId === template.templateId ? 0 : SET_HEADER_LENGTH;
  }

  /** Writes the inline template and data set header in front of a record (exactly prefixLength octets). */
  private writePrefix(template: TemplateDefinition, inlineTemplate: boolean): void {
    if (this.needsTemplate(template, inlineTemplate)) this.tryAppendTemplate(template);
    if (this.setId !== template.templateId) this.openSet(template.templateId);
  }

  /**
   * The record at [start, start + length) does not fit this message: close the
   * message and move the record into the next one (behind a template-only message
   * if template and record cannot share one). It moves before the next message's
   * prefix is written, which may overlap where it was.
   */
  private moveToNextMessage(template: TemplateDefinition, inlineTemplate: boolean, start: number, length: number): void {
    let from = this.slab;
    let fromStart = start;
    if (this.hasContent()) this.closeMessage();
    if (MESSAGE_HEADER_LENGTH + this.prefixLength(template, inlineTemplate) + length > this.maxMessageSize) {
      // The template-only message may be written over the record: park it first.
      from.copy(this.parking, 0, start, start + length);
      from = this.parking;
      fromStart = 0;
      this.addTemplates([template]);
      this.closeMessage();
      this.templatesInMessage.add(template.templateId);
    }
    const target = this.offset + this.prefixLength(template, inlineTemplate);
    // copyWithin is far cheaper than Buffer#copy; a closed message may have moved the packer to a new slab.
    if (from === this.slab) this.slab.copyWithin(target, fromStart, fromStart + length);
    else this.slab.set(from.subarray(fromStart, fromStart + length), target);
    this.writePrefix(template, inlineTemplate);
    this.offset = target + length;
  }

  private needsTemplate(template: TemplateDefinition, inlineTemplate: boolean): boolean {
    return inlineTemplate && !this.templatesInMessage.has(template.templateId);
  }

  private hasContent(): boolean {
    return this.offset > this.base + MESSAGE_HEADER_LENGTH;
  }

  private tryAppendTemplate(template: TemplateDefinition): boolean {
    const setId = template.scopeFieldCount > 0 ? OPTIONS_TEMPLATE_SET_ID : TEMPLATE_SET_ID;
    const needsSetHeader = this.setId !== setId;
    const length = templateRecordEncodingLength(template) + (needsSetHeader ? SET_HEADER_LENGTH : 0);
    if (this.offset + length > this.limit) return false;
    if (needsSetHeader) this.openSet(setId);
    this.offset = encodeTemplateRecord(template, this.slab, this.offset);
    this.templatesInMessage.add(template.templateId);
    return true;
  }

  private openSet(setId: number): void {
    this.closeSet();
    this.setStart = this.offset;
    this.setId = setId;
    this.offset += SET_HEADER_LENGTH;
  }

  private closeSet(): void {
    if (this.setStart === NO_SET) return;
    encodeSetHeader(this.setId, this.offset - this.setStart, this.slab, this.setStart);
    this.setStart = NO_SET;
    this.setId = NO_SET;
  }

  private closeMessage(): void {
    this.closeSet();
    const { observationDomainId } = this.options;
    const length = this.offset - this.base;
    encodeMessageHeader({ exportTime: this.exportTime, sequenceNumber: 0, observationDomainId }, length, this.slab, this.base);
    this.messages.push({ buffer: this.slab.subarray(this.base, this.offset), observationDomainId, dataRecords: this.recordsInMessage });
    this.base = this.offset;
    if (this.base + this.window > this.slab.length) this.slab = this.nextSlab();
    this.startMessage();
    this.recordsInMessage = 0;
    // Set#clear allocates a new table even when empty (~70 ns measured): most messages carry no inline template.
    if (this.templatesInMessage.size > 0) this.templatesInMessage.clear();
  }

  private startMessage(): void {
    this.limit = this.base + this.maxMessageSize;
    this.offset = this.base + MESSAGE_HEADER_LENGTH;
  }

  /** The next slab in order: a kept one, or a fresh one (unkept ones live on only as long as their messages do). */
  private nextSlab(): Buffer {
    this.base = 0;
    this.slabIndex++;
    const kept = this.keptSlabs[this.slabIndex];
    if (kept !== undefined) return kept;
    const slab = Buffer.allocUnsafeSlow(Math.max(MIN_SLAB_SIZE, 4 * this.window));
    if (this.releasesMessages && this.keptSlabs.length < MAX_KEPT_SLABS) this.keptSlabs.push(slab);
    return slab;
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

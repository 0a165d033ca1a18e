import { DataTypeCode, type IpfixDataType } from './information-elements.js';
import {
  MAX_SHORT_VARIABLE_LENGTH,
  MAX_VARIABLE_LENGTH,
  VARIABLE_LENGTH,
  VARIABLE_LENGTH_LONG_MARKER,
} from './ipfix-protocol.js';
import { formatIpv6 } from '../net/ipv6-text.js';

/**
 * Encoding of single field values per abstract data type (RFC 7011 §6). Integers
 * are JS numbers, or bigints beyond 2^53; addresses are text; strings are UTF-8.
 */
export type FieldValue = number | bigint | string | boolean | Uint8Array;

/** Returned by the encoders when the value does not fit before `limit`. */
export const NO_ROOM = -1;

const TWO_POW_32 = 2 ** 32;
/** RFC 7011 §6.1.5: boolean true is 1, false is 2. */
const BOOLEAN_TRUE = 1;
const BOOLEAN_FALSE = 2;
const FIRST_NON_ASCII = 0x80;
const UTF8_CONTINUATION_MASK = 0xc0;
const UTF8_CONTINUATION_BITS = 0x80;

export class FieldEncodingError extends Error {}

/** Octets of the length prefix of a variable-length field carrying `length` octets. */
export function variableLengthPrefixLength(length: number): number {
  return length <= MAX_SHORT_VARIABLE_LENGTH ? 1 : 3;
}

/** Writes the 1- or 3-octet length prefix of a variable-length field (RFC 7011 §7). */
export function encodeVariableLengthPrefix(length: number, buf: Uint8Array, offset: number): number {
  if (length <= MAX_SHORT_VARIABLE_LENGTH) {
    buf[offset] = length;
    return offset + 1;
  }
  buf[offset] = VARIABLE_LENGTH_LONG_MARKER;
  buf[offset + 1] = length >>> 8;
  buf[offset + 2] = length & 0xff;
  return offset + 3;
}

/** Octets a field takes in a data record: its template length, or prefix + content when variable. */
export function fieldEncodingLength(type: IpfixDataType, length: number, value: FieldValue): number {
  if (length !== VARIABLE_LENGTH) return length;
  const contentLength = type === 'string' ? Buffer.byteLength(value as string, 'utf8') : (value as Uint8Array).length;
  return variableLengthPrefixLength(contentLength) + contentLength;
}

/**
 * Writes one value at offset and returns the offset after it, or NO_ROOM when it
 * would pass `limit` (nothing past `limit` is written). Variable-length strings
 * are cut to `maxStringBytes` at a character boundary.
 */
export type FieldWriter = (value: FieldValue, buf: Buffer, offset: number, limit: number, maxStringBytes: number) => number;

/**
 * Writes one value of a fixed-length field at offset; the caller has checked that
 * the field fits. Compiled templates check a whole run of fixed fields at once.
 */
export type FixedFieldWriter = (value: FieldValue, buf: Buffer, offset: number) => void;

/** The writer of a type at a template length, checking `limit`: the encoding table. */
export function fieldWriter(typeCode: number, length: number): FieldWriter {
  if (length === VARIABLE_LENGTH) return typeCode === DataTypeCode.string ? encodeVariableString : encodeVariableOctets;
  const write = fixedFieldWriter(typeCode, length);
  return (value, buf, offset, limit) => {
    if (offset + length > limit) return NO_ROOM;
    write(value, buf, offset);
    return offset + length;
  };
}

/**
 * The unchecked writer of a fixed-length type. Default-size integers get their own
 * writers (the flow hot path); reduced sizes and bigints take the general one.
 */
export function fixedFieldWriter(typeCode: number, length: number): FixedFieldWriter {
  switch (typeCode) {
    case DataTypeCode.unsigned8:
      return length === 1 ? writeUnsigned8 : (value, buf, offset) => writeUnsigned(value, buf, offset, length);
    case DataTypeCode.unsigned16:
      return length === 2 ? writeUnsigned16 : (value, buf, offset) => writeUnsigned(value, buf, offset, length);
    case DataTypeCode.unsigned32:
    case DataTypeCode.dateTimeSeconds:
      return length === 4 ? writeUnsigned32 : (value, buf, offset) => writeUnsigned(value, buf, offset, length);
    case DataTypeCode.unsigned64:
    case DataTypeCode.dateTimeMilliseconds:
      return length === 8 ? writeUnsigned64 : (value, buf, offset) => writeUnsigned(value, buf, offset, length);
    case DataTypeCode.signed8:
    case DataTypeCode.signed16:
    case DataTypeCode.signed32:
    case DataTypeCode.signed64:
      return (value, buf, offset) => writeSigned(value, buf, offset, length);
    case DataTypeCode.float32:
      return (value, buf, offset) => buf.writeFloatBE(value as number, offset);
    case DataTypeCode.float64:
      return (value, buf, offset) => buf.writeDoubleBE(value as number, offset);
    case DataTypeCode.boolean:
      return (value, buf, offset) => (buf[offset] = value ? BOOLEAN_TRUE : BOOLEAN_FALSE);
    case DataTypeCode.ipv4Address:
      return writeIpv4Field;
    case DataTypeCode.ipv6Address:
      return (value, buf, offset) => buf.set(ipv6Bytes(value as string), offset);
    case DataTypeCode.macAddress:
      return (value, buf, offset) => writeMac(value as string, buf, offset);
    case DataTypeCode.string:
      return (value, buf, offset) => writeFixedString(value as string, buf, offset, length);
    case DataTypeCode.octetArray:
      return (value, buf, offset) => writeFixedOctets(value as Uint8Array, buf, offset, length);
    default:
      throw new FieldEncodingError(`Cannot encode data type code ${typeCode}`);
  }
}

/** encodeField for one-off use (tests, tools); templates keep their writers from fieldWriter(). */
export function encodeField(
  typeCode: number,
  length: number,
  value: FieldValue,
  buf: Buffer,
  offset: number,
  limit: number,
  maxStringBytes: number = MAX_VARIABLE_LENGTH,
): number {
  return fieldWriter(typeCode, length)(value, buf, offset, limit, maxStringBytes);
}

const writeUnsigned8: FixedFieldWriter = (value, buf, offset) => {
  buf[offset] = Number(value);
};

/** Exported for the message and set headers too: byte stores cost less than Buffer#writeUInt16BE/32BE and their argument checks. */
export const writeUnsigned16: FixedFieldWriter = (value, buf, offset) => {
  const number = Number(value);
  buf[offset] = number >>> 8;
  buf[offset + 1] = number;
};

export const writeUnsigned32: FixedFieldWriter = (value, buf, offset) => {
  const number = Number(value);
  buf[offset] = number >>> 24;
  buf[offset + 1] = number >>> 16;
  buf[offset + 2] = number >>> 8;
  buf[offset + 3] = number;
};

const writeUnsigned64: FixedFieldWriter = (value, buf, offset) => {
  if (typeof value === 'bigint') {
    writeUnsigned(value, buf, offset, 8);
    return;
  }
  // Two 32-bit halves with integer stores: bit operators take a number modulo 2^32
  // after truncating it, so the quotient gives the high half and the value the low one.
  writeUnsigned32((value as number) / TWO_POW_32, buf, offset);
  writeUnsigned32(value, buf, offset + 4);
};

/** Parsed IPv4 addresses as 32-bit numbers: pod addresses repeat across flows, so parsing is mostly a lookup. */
const ipv4Cache = new Map<string, number>();
const IPV4_CACHE_LIMIT = 65_536;
const ipv4Scratch = new Uint8Array(4);

const writeIpv4Field: FixedFieldWriter = (value, buf, offset) => {
  let address = ipv4Cache.get(value as string);
  if (address === undefined) {
    writeIpv4(value as string, ipv4Scratch, 0);
    address = ((ipv4Scratch[0] << 24) | (ipv4Scratch[1] << 16) | (ipv4Scratch[2] << 8) | ipv4Scratch[3]) >>> 0;
    if (ipv4Cache.size >= IPV4_CACHE_LIMIT) ipv4Cache.clear();
    ipv4Cache.set(value as string, address);
  }
  buf[offset] = address >>> 24;
  buf[offset + 1] = address >>> 16;
  buf[offset + 2] = address >>> 8;
  buf[offset + 3] = address;
};

/** Reads one fixed-length value (variable-length content is read by the caller and passed the same way). */
export function decodeField(typeCode: number, buf: Buffer, offset: number, length: number): FieldValue {
  switch (typeCode) {
    case DataTypeCode.unsigned8:
    case DataTypeCode.unsigned16:
    case DataTypeCode.unsigned32:
    case DataTypeCode.unsigned64:
    case DataTypeCode.dateTimeSeconds:
    case DataTypeCode.dateTimeMilliseconds:
      return readUnsigned(buf, offset, length);
    case DataTypeCode.signed8:
    case DataTypeCode.signed16:
    case DataTypeCode.signed32:
    case DataTypeCode.signed64:
      return readSigned(buf, offset, length);
    case DataTypeCode.float32:
      return buf.readFloatBE(offset);
    case DataTypeCode.float64:
      return buf.readDoubleBE(offset);
    case DataTypeCode.boolean:
      if (buf[offset] === BOOLEAN_TRUE) return true;
      if (buf[offset] === BOOLEAN_FALSE) return false;
      throw new FieldEncodingError(`Invalid boolean octet ${buf[offset]}`);
    case DataTypeCode.ipv4Address:
      return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
    case DataTypeCode.ipv6Address:
      return formatIpv6(buf.subarray(offset, offset + 16));
    case DataTypeCode.macAddress:
      return Array.from(buf.subarray(offset, offset + 6), (octet) => octet.toString(16).padStart(2, '0')).join(':');
    case DataTypeCode.string:
      return buf.toString('utf8', offset, offset + length);
    default:
      return Uint8Array.prototype.slice.call(buf, offset, offset + length);
  }
}

/** Which lengths a type may have in a template: its own, reduced-size integers (RFC 7011 §6.2), or variable. */
export function isValidFieldLength(type: IpfixDataType, length: number): boolean {
  switch (type) {
    case 'string':
    case 'octetArray':
      return true;
    case 'unsigned8':
    case 'unsigned16':
    case 'unsigned32':
    case 'unsigned64':
    case 'signed8':
    case 'signed16':
    case 'signed32':
    case 'signed64':
      return length >= 1 && length <= 8;
    case 'float32':
      return length === 4;
    case 'float64':
      return length === 4 || length === 8;
    case 'boolean':
      return length === 1;
    case 'macAddress':
      return length === 6;
    case 'dateTimeSeconds':
      return length === 4;
    case 'dateTimeMilliseconds':
      return length === 8;
    case 'ipv4Address':
      return length === 4;
    case 'ipv6Address':
      return length === 16;
  }
}

/**
 * Strings are mostly short ASCII Kubernetes names: copy their char codes directly
 * (cheaper than a native call per string) and fall back to Buffer.write otherwise.
 */
function encodeVariableString(fieldValue: FieldValue, buf: Buffer, offset: number, limit: number, maxBytes: number): number {
  const value = fieldValue as string;
  const charCount = value.length;
  if (charCount <= MAX_SHORT_VARIABLE_LENGTH && charCount <= maxBytes) {
    // UTF-8 never takes fewer octets than UTF-16 code units, so this bound holds for any string.
    if (offset + 1 + charCount > limit) return NO_ROOM;
    let out = offset + 1;
    for (let i = 0; i < charCount; i++) {
      const code = value.charCodeAt(i);
      if (code >= FIRST_NON_ASCII) return encodeUtf8String(value, buf, offset, limit, maxBytes);
      buf[out++] = code;
    }
    buf[offset] = charCount;
    return out;
  }
  return encodeUtf8String(value, buf, offset, limit, maxBytes);
}

function encodeUtf8String(value: string, buf: Buffer, offset: number, limit: number, maxBytes: number): number {
  const cap = Math.min(maxBytes, MAX_VARIABLE_LENGTH);
  const byteLength = Buffer.byteLength(value, 'utf8');
  if (byteLength <= cap) {
    const start = offset + variableLengthPrefixLength(byteLength);
    if (start + byteLength > limit) return NO_ROOM;
    encodeVariableLengthPrefix(byteLength, buf, offset);
    buf.write(value, start, byteLength, 'utf8');
    return start + byteLength;
  }
  const bytes = Buffer.from(value, 'utf8');
  return encodeVariableOctets(bytes.subarray(0, utf8BoundaryAtOrBefore(bytes, cap)), buf, offset, limit);
}

/** The largest cut ≤ maxBytes that does not split a UTF-8 sequence. */
export function utf8BoundaryAtOrBefore(bytes: Uint8Array, maxBytes: number): number {
  if (maxBytes >= bytes.length) return bytes.length;
  let cut = maxBytes;
  while (cut > 0 && (bytes[cut] & UTF8_CONTINUATION_MASK) === UTF8_CONTINUATION_BITS) cut--;
  return cut;
}

function encodeVariableOctets(fieldValue: FieldValue, buf: Buffer, offset: number, limit: number): number {
  const value = fieldValue as Uint8Array;
  const start = offset + variableLengthPrefixLength(value.length);
  if (start + value.length > limit) return NO_ROOM;
  if (value.length > MAX_VARIABLE_LENGTH) throw new FieldEncodingError(`Variable-length value of ${value.length} octets`);
  encodeVariableLengthPrefix(value.length, buf, offset);
  buf.set(value, start);
  return start + value.length;
}

function writeFixedString(value: string, buf: Buffer, offset: number, length: number): void {
  const bytes = Buffer.from(value, 'utf8');
  const cut = utf8BoundaryAtOrBefore(bytes, length);
  buf.set(bytes.subarray(0, cut), offset);
  buf.fill(0, offset + cut, offset + length);
}

function writeFixedOctets(value: Uint8Array, buf: Buffer, offset: number, length: number): void {
  if (value.length !== length) throw new FieldEncodingError(`Octet array of ${value.length} octets in a ${length}-octet field`);
  buf.set(value, offset);
}

function writeUnsigned(fieldValue: FieldValue, buf: Uint8Array, offset: number, length: number): void {
  let value = fieldValue as number | bigint;
  if (typeof value === 'bigint') {
    for (let i = length - 1; i >= 0; i--) {
      buf[offset + i] = Number(value & 0xffn);
      value >>= 8n;
    }
    return;
  }
  if (length <= 4) {
    for (let i = length - 1; i >= 0; i--) {
      buf[offset + i] = value & 0xff;
      value >>>= 8;
    }
    return;
  }
  // Above 32 bits JS bit operators do not apply: split into a high part and the low 32 bits.
  let high = Math.floor(value / TWO_POW_32);
  const low = value >>> 0;
  buf[offset + length - 1] = low & 0xff;
  buf[offset + length - 2] = (low >>> 8) & 0xff;
  buf[offset + length - 3] = (low >>> 16) & 0xff;
  buf[offset + length - 4] = low >>> 24;
  for (let i = length - 5; i >= 0; i--) {
    buf[offset + i] = high & 0xff;
    high >>>= 8;
  }
}

function readUnsigned(buf: Buffer, offset: number, length: number): number | bigint {
  if (length <= 6) return buf.readUIntBE(offset, length);
  let value = 0n;
  for (let i = 0; i < length; i++) value = (value << 8n) | BigInt(buf[offset + i]);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function writeSigned(fieldValue: FieldValue, buf: Buffer, offset: number, length: number): void {
  const value = fieldValue as number | bigint;
  if (length <= 6) buf.writeIntBE(Number(value), offset, length);
  else writeUnsigned(BigInt.asUintN(length * 8, BigInt(value)), buf, offset, length);
}

function readSigned(buf: Buffer, offset: number, length: number): number | bigint {
  if (length <= 6) return buf.readIntBE(offset, length);
  const value = BigInt.asIntN(length * 8, BigInt(readUnsigned(buf, offset, length)));
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

const DIGIT_ZERO = 0x30;
const DOT = 0x2e;

/** Parses dotted-quad text straight into the buffer (no intermediate arrays). */
function writeIpv4(text: string, buf: Uint8Array, offset: number): void {
  let part = 0;
  let octet = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === DOT) {
      if (digits === 0 || part === 3) throw new FieldEncodingError(`Invalid IPv4 address ${text}`);
      buf[offset + part++] = octet;
      octet = 0;
      digits = 0;
      continue;
    }
    const digit = code - DIGIT_ZERO;
    if (digit < 0 || digit > 9 || ++digits > 3) throw new FieldEncodingError(`Invalid IPv4 address ${text}`);
    octet = octet * 10 + digit;
    if (octet > 255) throw new FieldEncodingError(`Invalid IPv4 address ${text}`);
  }
  if (part !== 3 || digits === 0) throw new FieldEncodingError(`Invalid IPv4 address ${text}`);
  buf[offset + 3] = octet;
}

/** Parsed IPv6 addresses; flows repeat the same pod addresses, so parsing is mostly a lookup. */
const ipv6Cache = new Map<string, Uint8Array>();
const IPV6_CACHE_LIMIT = 4096;

function ipv6Bytes(text: string): Uint8Array {
  let bytes = ipv6Cache.get(text);
  if (bytes === undefined) {
    bytes = parseIpv6(text);
    if (ipv6Cache.size >= IPV6_CACHE_LIMIT) ipv6Cache.clear();
    ipv6Cache.set(text, bytes);
  }
  return bytes;
}

/** RFC 4291 §2.2 text forms: eight groups, one "::" run, optionally a dotted IPv4 tail. */
export function parseIpv6(text: string): Uint8Array {
  const invalid = () => new FieldEncodingError(`Invalid IPv6 address ${text}`);
  const bytes = new Uint8Array(16);
  const halves = text.split('::');
  if (halves.length > 2) throw invalid();
  const groupsOf = (half: string): number[] => {
    if (half === '') return [];
    const groups: number[] = [];
    const parts = half.split(':');
    parts.forEach((part, index) => {
      if (index === parts.length - 1 && part.includes('.')) {
        const v4 = new Uint8Array(4);
        writeIpv4(part, v4, 0);
        groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
        return;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) throw invalid();
      groups.push(parseInt(part, 16));
    });
    return groups;
  };
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) throw invalid();
  const groups = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  groups.forEach((group, index) => {
    bytes[index * 2] = group >>> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}

const MAC_ADDRESS = /^([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})$/;

function writeMac(text: string, buf: Uint8Array, offset: number): void {
  const match = MAC_ADDRESS.exec(text);
  if (match === null) throw new FieldEncodingError(`Invalid MAC address ${text}`);
  for (let i = 0; i < 6; i++) buf[offset + i] = parseInt(match[i + 1], 16);
}

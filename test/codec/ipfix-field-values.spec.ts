import { DataTypeCode, DEFAULT_LENGTH, type IpfixDataType } from '../../src/adapters/ipfix/information-elements.js';
import {
  decodeField,
  encodeField,
  fieldEncodingLength,
  NO_ROOM,
  parseIpv6,
  type FieldValue,
} from '../../src/adapters/ipfix/field-value.codec.js';
import { VARIABLE_LENGTH } from '../../src/adapters/ipfix/ipfix-protocol.js';
import { formatIpv6 } from '../../src/adapters/net/ipv6-text.js';
import { expectRoundTrip, hex, type Codec } from './round-trip.helper.js';

/** A field value as a codec: variable-length values carry their length prefix. */
function fieldCodec(type: IpfixDataType, length: number = DEFAULT_LENGTH[type]): Codec<FieldValue> {
  return {
    encodingLength: (value) => fieldEncodingLength(type, length, value),
    encode: (value, buf, offset) => encodeField(DataTypeCode[type], length, value, buf, offset, buf.length),
    decode: (buf, start, end) => {
      if (length !== VARIABLE_LENGTH) return decodeField(DataTypeCode[type], buf, start, end - start);
      const long = buf[start] === 255;
      const contentStart = start + (long ? 3 : 1);
      const contentLength = long ? buf.readUInt16BE(start + 1) : buf[start];
      expect(contentStart + contentLength).toBe(end);
      return decodeField(DataTypeCode[type], buf, contentStart, contentLength);
    },
  };
}

describe('IPFIX field values (RFC 7011 §6)', () => {
  it.each<[IpfixDataType, FieldValue, string]>([
    ['unsigned8', 200, 'c8'],
    ['unsigned16', 0xbeef, 'beef'],
    ['unsigned32', 0xdeadbeef, 'deadbeef'],
    ['unsigned64', 2 ** 40 + 5, '0000010000000005'],
    ['unsigned64', Number.MAX_SAFE_INTEGER, '001fffffffffffff'],
    ['unsigned64', 0xfedcba9876543210n, 'fedcba9876543210'],
    ['signed8', -2, 'fe'],
    ['signed16', -300, 'fed4'],
    ['signed32', -70000, 'fffeee90'],
    ['signed64', -1, 'ffffffffffffffff'],
    ['signed64', -(2n ** 62n), 'c000000000000000'],
    ['float32', 1.5, '3fc00000'],
    ['float64', -0.25, 'bfd0000000000000'],
    ['boolean', true, '01'],
    ['boolean', false, '02'],
    ['macAddress', '02:42:ac:11:00:02', '0242ac110002'],
    ['dateTimeSeconds', 1_767_225_600, '6955b900'],
    ['dateTimeMilliseconds', 1_767_225_600_123, '0000019b76daa87b'],
    ['ipv4Address', '10.244.1.17', '0af40111'],
    ['ipv4Address', '255.0.0.9', 'ff000009'],
    ['ipv6Address', '2001:db8::1', '20010db8000000000000000000000001'],
    ['ipv6Address', 'fd00:10:244:1::17', 'fd000010024400010000000000000017'],
    ['ipv6Address', '::ffff:10.1.2.3', '00000000000000000000ffff0a010203'],
    ['ipv6Address', '::', '00000000000000000000000000000000'],
    ['string', 'web', '03776562'],
    ['string', '', '00'],
    ['string', 'naïve', '066e61c3af7665'],
    ['octetArray', new Uint8Array([1, 2, 3]), '03010203'],
  ])('%s %p round-trips as %s', (type, value, golden) => {
    expect(expectRoundTrip(fieldCodec(type), value)).toEqual(hex(golden));
  });

  it('encodes reduced-size unsigned integers (RFC 7011 §6.2)', () => {
    expect(expectRoundTrip(fieldCodec('unsigned64', 4), 0x01020304)).toEqual(hex('01020304'));
    expect(expectRoundTrip(fieldCodec('unsigned32', 2), 513)).toEqual(hex('0201'));
    expect(expectRoundTrip(fieldCodec('unsigned64', 7), 2 ** 50)).toEqual(hex('04000000000000'));
  });

  it('uses a 1-octet length below 255 and 255 + u16 from 255 on (RFC 7011 §7)', () => {
    const codec = fieldCodec('string');
    const short = 'a'.repeat(254);
    expect(expectRoundTrip(codec, short)).toEqual(Buffer.concat([hex('fe'), Buffer.from(short)]));
    const boundary = 'b'.repeat(255);
    expect(expectRoundTrip(codec, boundary)).toEqual(Buffer.concat([hex('ff00ff'), Buffer.from(boundary)]));
    const long = 'c'.repeat(300);
    expect(expectRoundTrip(codec, long)).toEqual(Buffer.concat([hex('ff012c'), Buffer.from(long)]));
    // Length prefix counts octets, not characters: 100 × "é" is 200 octets, still short.
    expect(expectRoundTrip(codec, 'é'.repeat(100)).subarray(0, 1)).toEqual(hex('c8'));
    expect(expectRoundTrip(codec, 'é'.repeat(200)).subarray(0, 3)).toEqual(hex('ff0190'));
  });

  it('pads a fixed-length string field with zeros and cuts it at a character boundary', () => {
    const buf = Buffer.alloc(6);
    expect(encodeField(DataTypeCode.string, 6, 'ab', buf, 0, buf.length)).toBe(6);
    expect(buf).toEqual(hex('616200000000'));
    expect(encodeField(DataTypeCode.string, 6, 'abcdé€', buf, 0, buf.length)).toBe(6);
    expect(buf).toEqual(hex('61626364c3a9'));
  });

  it('cuts variable-length strings to a cap without splitting UTF-8 sequences', () => {
    const buf = Buffer.alloc(32);
    const end = encodeField(DataTypeCode.string, VARIABLE_LENGTH, 'aé€b', buf, 0, buf.length, 5);
    // "a" (1) + "é" (2) = 3 octets; "€" (3) would make 6 > 5.
    expect(buf.subarray(0, end)).toEqual(hex('0361c3a9'));
  });

  it('writes nothing past the limit and reports NO_ROOM', () => {
    const buf = Buffer.alloc(16, 0x77);
    expect(encodeField(DataTypeCode.unsigned64, 8, 1, buf, 10, 16)).toBe(NO_ROOM);
    expect(encodeField(DataTypeCode.string, VARIABLE_LENGTH, 'hello', buf, 11, 16)).toBe(NO_ROOM);
    expect(encodeField(DataTypeCode.string, VARIABLE_LENGTH, 'héllo', buf, 11, 16)).toBe(NO_ROOM);
    expect(buf.every((octet) => octet === 0x77)).toBe(true);
    expect(encodeField(DataTypeCode.string, VARIABLE_LENGTH, 'hello', buf, 10, 16)).toBe(16);
  });

  it.each(['10.0.0', '10.0.0.256', '1..2.3', '10.0.0.1.2', 'a.b.c.d', ''])('rejects the IPv4 text %p', (text) => {
    expect(() => encodeField(DataTypeCode.ipv4Address, 4, text, Buffer.alloc(4), 0, 4)).toThrow('Invalid IPv4');
  });

  it.each(['1::2::3', '12345::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', 'g::1', ':::'])('rejects the IPv6 text %p', (text) => {
    expect(() => parseIpv6(text)).toThrow('Invalid IPv6');
  });

  it('formats IPv6 as RFC 5952 text', () => {
    const cases: Array<[string, string]> = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['::1', '::1'],
      ['fe80::', 'fe80::'],
    ];
    for (const [input, canonical] of cases) expect(formatIpv6(parseIpv6(input))).toBe(canonical);
  });
});

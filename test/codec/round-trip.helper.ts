/** A codec in the project's shape: pure length, encode at an offset, decode a byte range (into T or a decoded view D). */
export interface Codec<T, D = T> {
  encodingLength(value: T): number;
  encode(value: T, buf: Buffer, offset: number): number;
  decode(buf: Buffer, start: number, end: number): D;
}

const GUARD = 0xa5;

/**
 * The one round-trip check every codec passes: encode → decode → deep-equal;
 * encodingLength agrees with the bytes written; encoding at an offset into a larger
 * buffer writes the same bytes and touches nothing outside them. Returns the bytes.
 */
export function expectRoundTrip<T, D = T>(codec: Codec<T, D>, value: T, expected: unknown = value): Buffer {
  const length = codec.encodingLength(value);
  const alone = Buffer.alloc(length);
  expect(codec.encode(value, alone, 0)).toBe(length);
  expect(codec.decode(alone, 0, length)).toEqual(expected);

  const offset = 7;
  const larger = Buffer.alloc(offset + length + 9, GUARD);
  expect(codec.encode(value, larger, offset)).toBe(offset + length);
  expect(larger.subarray(offset, offset + length)).toEqual(alone);
  expect([...larger.subarray(0, offset), ...larger.subarray(offset + length)].every((octet) => octet === GUARD)).toBe(true);
  expect(codec.decode(larger, offset, offset + length)).toEqual(expected);
  return alone;
}

/** Golden bytes written as hex: whitespace is ignored and "|" starts a comment to the end of the line. */
export function hex(text: string): Buffer {
  const digits = text.replace(/\|[^\n]*/g, '').replace(/\s/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) throw new Error(`Not hex: ${digits}`);
  return Buffer.from(digits, 'hex');
}

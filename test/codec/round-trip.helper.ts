/** A codec in the project's shape: pure length, encode at an offset, decode a byte range. */
export interface Codec<T> {
  encodingLength(value: T): number;
  encode(value: T, buf: Buffer, offset: number): number;
  decode(buf: Buffer, start: number, end: number): T;
}

const GUARD = 0xa5;

/**
 * The one round-trip check every codec passes: encode → decode → deep-equal;
 * encodingLength agrees with the bytes written; encoding at an offset into a larger
 * buffer writes the same bytes and touches nothing outside them. Returns the bytes.
 */
export function expectRoundTrip<T>(codec: Codec<T>, value: T, expected: unknown = value): Buffer {
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

/** Hex with spaces stripped, for readable golden fixtures. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/[\s|]/g, ''), 'hex');
}

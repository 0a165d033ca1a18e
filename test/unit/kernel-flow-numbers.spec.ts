import { KernelFlowNumbers } from '../../src/adapters/capture/kernel-flow-numbers.js';
import { NATIVE_LAYOUT as L } from '../../src/adapters/capture/native-layout.js';
import { seededRandom } from '../support/seeded-random.js';

/** 48-byte kernel keys in one buffer, told apart by source port and a word of the address (any byte counts). */
function keys(count: number): DataView {
  const view = new DataView(new ArrayBuffer(count * L.keySize));
  for (let index = 0; index < count; index++) {
    const start = index * L.keySize;
    view.setUint16(start + L.keySourcePort, index & 0xffff, true);
    view.setUint32(start + L.keyDestinationAddress + 12, index >>> 16, true);
    view.setUint8(start + L.keyProtocol, 17);
  }
  return view;
}

describe('KernelFlowNumbers', () => {
  it('gives equal keys one number and different keys different numbers, densely from 0', () => {
    const numbers = new KernelFlowNumbers();
    const view = keys(3);
    expect([0, 1, 2, 1, 0].map((key) => numbers.numberOf(view, key * L.keySize))).toEqual([0, 1, 2, 1, 0]);
    expect(numbers.size).toBe(3);
  });

  it('tells apart keys that differ in any one byte of the 48', () => {
    const numbers = new KernelFlowNumbers();
    const view = new DataView(new ArrayBuffer(49 * L.keySize));
    for (let byte = 0; byte < L.keySize; byte++) view.setUint8((byte + 1) * L.keySize + byte, 1);
    const assigned = Array.from({ length: 49 }, (_, key) => numbers.numberOf(view, key * L.keySize));
    expect(new Set(assigned).size).toBe(49);
  });

  it('hands a released number to the next new key, and the released key gets a fresh number', () => {
    const numbers = new KernelFlowNumbers();
    const view = keys(4);
    const [first, second, third] = [0, 1, 2].map((key) => numbers.numberOf(view, key * L.keySize));
    numbers.release(second);
    expect(numbers.numberOf(view, 3 * L.keySize)).toBe(second);
    expect(numbers.numberOf(view, 1 * L.keySize)).toBe(3);
    expect([numbers.numberOf(view, 0), numbers.numberOf(view, 2 * L.keySize)]).toEqual([first, third]);
  });

  it('keeps every key\'s bytes readable at keyStart as its store grows', () => {
    const numbers = new KernelFlowNumbers();
    const view = keys(3_000);
    const assigned = Array.from({ length: 3_000 }, (_, key) => numbers.numberOf(view, key * L.keySize));
    const original = new Uint8Array(view.buffer);
    const mismatched = assigned.filter((number, key) => {
      const stored = numbers.keyBytes.subarray(numbers.keyStart(number), numbers.keyStart(number) + L.keySize);
      return Buffer.compare(stored, original.subarray(key * L.keySize, (key + 1) * L.keySize)) !== 0;
    });
    expect(mismatched).toEqual([]);
    expect(numbers.keyView.getUint16(numbers.keyStart(assigned[2_999]) + L.keySourcePort, true)).toBe(2_999);
  });

  it('ignores a release of a number no key holds', () => {
    const numbers = new KernelFlowNumbers();
    const view = keys(2);
    const held = numbers.numberOf(view, 0);
    numbers.release(held);
    numbers.release(held);
    numbers.release(99);
    numbers.release(-1);
    expect(numbers.size).toBe(0);
    expect([numbers.numberOf(view, 0), numbers.numberOf(view, L.keySize)]).toEqual([held, 1]);
  });

  it('agrees with a plain Map through 200,000 random lookups and releases, growing past its first size', () => {
    const numbers = new KernelFlowNumbers();
    const universe = 6_000;
    const view = keys(universe);
    const next = seededRandom(0x5eed);
    const model = new Map<number, number>();
    const mismatches: string[] = [];
    for (let step = 0; step < 200_000; step++) {
      const key = Math.floor(next() * universe);
      const held = model.get(key);
      if (held !== undefined && next() < 0.3) {
        numbers.release(held);
        model.delete(key);
        continue;
      }
      const number = numbers.numberOf(view, key * L.keySize);
      if (held === undefined) model.set(key, number);
      else if (number !== held) mismatches.push(`step ${step}: key ${key} got ${number}, holds ${held}`);
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(numbers.size).toBe(model.size);
    // No number held twice, and numbers stay below the most ever held at once.
    const held = [...model.values()];
    expect(new Set(held).size).toBe(held.length);
    expect(Math.max(...held)).toBeLessThan(universe);
    const found = [...model.keys()].map((key) => numbers.numberOf(view, key * L.keySize));
    expect(found).toEqual(held);
  });
});

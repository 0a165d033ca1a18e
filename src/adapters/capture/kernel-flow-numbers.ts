import { NATIVE_LAYOUT } from './native-layout.js';

/** 32-bit words in a kernel flow key (struct flow_key, zeroed before it is filled: its every byte is the key's). */
const KEY_WORDS = NATIVE_LAYOUT.keySize / 4;
/** Each number's key words and then its hash, in one 64-byte line: a lookup that finds its key reads that line and its slot. */
const LINE_WORDS = 16;
const HASH = KEY_WORDS;
/** Marks an empty hash slot; a slot otherwise holds a flow number. */
const EMPTY = -1;
const INITIAL_NUMBERS = 1024;

/**
 * Numbers kernel flow keys for the flow table (FlowDelta.flowNumber). An
 * open-addressing hash table (linear probing, a power-of-two number of slots, at
 * most half full) over each key's 48 bytes as 32-bit words, read straight from the
 * drain buffer: no string and no object per key, where a string-keyed Map cost
 * ~0.3 µs per new flow. Released numbers are handed out again first, so numbers
 * stay dense (the flow table indexes an array with them).
 *
 * Size: a key is numbered when the flow table reaches its record, and a full
 * table releases before it inserts, so this holds the table's flows plus the one
 * being merged: 64 bytes (key and hash) and two 4-byte slots each.
 */
export class KernelFlowNumbers {
  private slots = new Int32Array(2 * INITIAL_NUMBERS).fill(EMPTY);
  private lines = new Int32Array(INITIAL_NUMBERS * LINE_WORDS);
  /** Byte views of `lines`, where held keys are decoded from (see keyStart); replaced when `lines` grows. */
  private bytes = new Uint8Array(this.lines.buffer);
  private view = new DataView(this.lines.buffer);
  /** Released numbers, the last released on top. */
  private released = new Int32Array(INITIAL_NUMBERS);
  private releasedCount = 0;
  /** Numbers handed out so far: every number below it is held or released. */
  private issued = 0;
  private held = 0;
  private readonly scratch = new Int32Array(KEY_WORDS);

  /** Numbers currently held by keys. */
  get size(): number {
    return this.held;
  }

  /** The number of the key whose 48 bytes start at `start`: the key's existing number, or a new one. */
  numberOf(view: DataView, start: number): number {
    const words = this.scratch;
    let hash = 0x2545f491;
    for (let index = 0; index < KEY_WORDS; index++) {
      const word = view.getInt32(start + index * 4, true);
      words[index] = word;
      hash = Math.imul(hash ^ word, 0x9e3779b1);
      hash ^= hash >>> 15;
    }
    hash = Math.imul(hash ^ (hash >>> 13), 0x85ebca6b);
    hash ^= hash >>> 16;
    const { slots, lines } = this;
    const mask = slots.length - 1;
    let slot = hash & mask;
    for (let number = slots[slot]; number !== EMPTY; number = slots[slot]) {
      if (lines[number * LINE_WORDS + HASH] === hash && sameKey(lines, number * LINE_WORDS, words)) return number;
      slot = (slot + 1) & mask;
    }
    const number = this.take();
    this.lines.set(words, number * LINE_WORDS);
    this.lines[number * LINE_WORDS + HASH] = hash;
    if (2 * (this.held + 1) > slots.length) this.growSlots(number);
    else slots[slot] = number;
    this.held++;
    return number;
  }

  get keyBytes(): Uint8Array {
    return this.bytes;
  }

  get keyView(): DataView {
    return this.view;
  }

  /** Where a held number's key bytes start in keyBytes and keyView. */
  keyStart(number: number): number {
    return number * LINE_WORDS * 4;
  }

  /** Frees the number for another key; a number no key holds is left alone. */
  release(number: number): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    if (!(number >= 0 && number < this.issued)) return;
    let slot = this.hashOf(number) & mask;
    while (slots[slot] !== number) {
      if (slots[slot] === EMPTY) return;
      slot = (slot + 1) & mask;
    }
    this.removeAt(slot);
    this.held--;
    if (this.releasedCount === this.released.length) this.released = grown(this.released, 2 * this.released.length);
    this.released[this.releasedCount++] = number;
  }

  private take(): number {
    if (this.releasedCount > 0) return this.released[--this.releasedCount];
    const number = this.issued++;
    if (number * LINE_WORDS === this.lines.length) {
      this.lines = grown(this.lines, 2 * this.lines.length);
      this.bytes = new Uint8Array(this.lines.buffer);
      this.view = new DataView(this.lines.buffer);
    }
    return number;
  }

  private hashOf(number: number): number {
    return this.lines[number * LINE_WORDS + HASH];
  }

  /**
   * Empties a slot without breaking any probe sequence (no tombstones): each later
   * entry of the run whose home slot is not between the hole and itself moves back
   * into the hole.
   */
  private removeAt(hole: number): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    slots[hole] = EMPTY;
    for (let slot = (hole + 1) & mask; slots[slot] !== EMPTY; slot = (slot + 1) & mask) {
      const home = this.hashOf(slots[slot]) & mask;
      const homeBetweenHoleAndSlot = hole <= slot ? hole < home && home <= slot : hole < home || home <= slot;
      if (homeBetweenHoleAndSlot) continue;
      slots[hole] = slots[slot];
      slots[slot] = EMPTY;
      hole = slot;
    }
  }

  /** Doubles the slots and places every held number again, and the one just taken. */
  private growSlots(taken: number): void {
    const previous = this.slots;
    const slots = new Int32Array(2 * previous.length).fill(EMPTY);
    const mask = slots.length - 1;
    const place = (number: number) => {
      let slot = this.hashOf(number) & mask;
      while (slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      slots[slot] = number;
    };
    for (const number of previous) if (number !== EMPTY) place(number);
    place(taken);
    this.slots = slots;
  }
}

function sameKey(lines: Int32Array, base: number, words: Int32Array): boolean {
  for (let index = 0; index < KEY_WORDS; index++) if (lines[base + index] !== words[index]) return false;
  return true;
}

function grown(array: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const larger = new Int32Array(length);
  larger.set(array);
  return larger;
}

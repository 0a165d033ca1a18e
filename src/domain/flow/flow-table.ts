import { deltaDefect, TcpFlag, type FlowDelta, type FlowNumbering } from './flow-observation.js';
import { FlowEndReason, type FlowRecord } from './flow-record.js';

export interface FlowTableLimits {
  /** Release a flow with no packets for this long (end reason 1). */
  readonly idleTimeoutMs: number;
  /** Release a long-lived flow's counts at least this often (end reason 2). */
  readonly activeTimeoutMs: number;
  /** After FIN or RST, wait this long for the last ACK before ending the flow (end reason 3). */
  readonly endLingerMs: number;
  /** Most flows held; beyond it the oldest is released early (end reason 5). */
  readonly maxFlows: number;
}

export interface MergeResult {
  /** Deltas merged into the table. */
  readonly merged: number;
  /** Flows released early because the table was full. */
  readonly released: FlowRecord[];
  /** Deltas refused as malformed, by defect; the caller counts them as drops. */
  readonly rejected: ReadonlyMap<string, number>;
}

/**
 * Each flow's counters in one 64-byte line of a Float64Array, at flowNumber * 8:
 * merging a delta into a held flow touches that line alone. Drains come in the
 * kernel's hash order, not the order flows arrived in, so every flow touched is a
 * cache miss; an object per flow (and a box per double field) cost several.
 */
const LINE = 8;
const PACKETS = 0; // 0: no flow held under this number
const OCTETS = 1;
const LAYER2_OCTETS = 2;
const FIRST_MS = 3;
const LAST_MS = 4;
const TCP_FLAGS = 5;
/** Time of the first FIN or RST seen, which starts the end-of-flow linger; NaN before one. */
const END_SEEN_MS = 6;
const NONE = -1;
const INITIAL_NUMBERS = 1024;

const FLOW_ENDING_FLAGS = TcpFlag.Fin | TcpFlag.Rst;

/**
 * Aggregates drained deltas into flows and decides when each flow's counts are
 * released, with IPFIX end reasons. Time always comes in as an argument (epoch ms).
 *
 * Flows are indexed by the source's flow numbers (FlowDelta.flowNumber). The
 * source keeps each number's key and hears of every number the table lets go of,
 * at once, so it never hands out a number the table still holds. A released flow
 * leaves the table; later packets of the same key start a new record, so no
 * record is ever emitted with zero counts. Flows are also linked in arrival
 * order: the oldest is the first released when the table is full, and expiry
 * visits them in that order.
 */
export class FlowTable {
  private counts = new Float64Array(INITIAL_NUMBERS * LINE);
  /** Read only when a flow is released; its key comes from the source then. */
  private readonly interfaceNames: Array<string | undefined> = [];
  private older = new Int32Array(INITIAL_NUMBERS).fill(NONE);
  private newer = new Int32Array(INITIAL_NUMBERS).fill(NONE);
  private oldest = NONE;
  private newest = NONE;
  private count = 0;

  constructor(
    private readonly limits: FlowTableLimits,
    private readonly numbering: FlowNumbering,
  ) {
    if (!(limits.maxFlows >= 1)) throw new RangeError('maxFlows must be at least 1');
  }

  get size(): number {
    return this.count;
  }

  get capacity(): number {
    return this.limits.maxFlows;
  }

  merge(deltas: Iterable<FlowDelta>): MergeResult {
    const released: FlowRecord[] = [];
    const rejected = new Map<string, number>();
    let merged = 0;
    for (const delta of deltas) {
      const defect = deltaDefect(delta);
      if (defect !== undefined) {
        rejected.set(defect, (rejected.get(defect) ?? 0) + 1);
        // A number the table does not hold goes back to the source, or it would stay taken.
        if (defect !== 'flowNumber' && !this.holds(delta.flowNumber)) this.numbering.release(delta.flowNumber);
        continue;
      }
      merged++;
      const number = delta.flowNumber;
      if (!this.holds(number)) {
        if (this.count >= this.limits.maxFlows) released.push(this.release(this.oldest, FlowEndReason.LackOfResources));
        this.insert(delta);
        continue;
      }
      const counts = this.counts;
      const line = number * LINE;
      counts[line + PACKETS] += delta.packets;
      counts[line + OCTETS] += delta.octets;
      counts[line + LAYER2_OCTETS] += delta.layer2Octets;
      if (delta.firstMs < counts[line + FIRST_MS]) counts[line + FIRST_MS] = delta.firstMs;
      if (delta.lastMs > counts[line + LAST_MS]) counts[line + LAST_MS] = delta.lastMs;
      counts[line + TCP_FLAGS] |= delta.tcpFlags;
      if (delta.tcpFlags & FLOW_ENDING_FLAGS && Number.isNaN(counts[line + END_SEEN_MS])) counts[line + END_SEEN_MS] = delta.lastMs;
    }
    return { merged, released, rejected };
  }

  /** Releases every flow whose end, idle or active timeout has come by nowMs. */
  expire(nowMs: number): FlowRecord[] {
    const released: FlowRecord[] = [];
    const { endLingerMs, idleTimeoutMs, activeTimeoutMs } = this.limits;
    for (let number = this.oldest; number !== NONE; ) {
      const next = this.newer[number];
      const line = number * LINE;
      const endSeenMs = this.counts[line + END_SEEN_MS];
      let reason: FlowEndReason | undefined;
      // NaN (no FIN or RST yet) compares false.
      if (nowMs - endSeenMs >= endLingerMs) reason = FlowEndReason.EndOfFlow;
      else if (nowMs - this.counts[line + LAST_MS] >= idleTimeoutMs) reason = FlowEndReason.IdleTimeout;
      else if (nowMs - this.counts[line + FIRST_MS] >= activeTimeoutMs) reason = FlowEndReason.ActiveTimeout;
      if (reason !== undefined) released.push(this.release(number, reason));
      number = next;
    }
    return released;
  }

  /** Releases everything (shutdown): end reason 4, forced end. */
  releaseAll(): FlowRecord[] {
    const released: FlowRecord[] = [];
    while (this.oldest !== NONE) released.push(this.release(this.oldest, FlowEndReason.ForcedEnd));
    return released;
  }

  private holds(number: number): boolean {
    return number * LINE < this.counts.length && this.counts[number * LINE + PACKETS] > 0;
  }

  private insert(delta: FlowDelta): void {
    const number = delta.flowNumber;
    if (number >= this.older.length) this.grow(number);
    const counts = this.counts;
    const line = number * LINE;
    counts[line + PACKETS] = delta.packets;
    counts[line + OCTETS] = delta.octets;
    counts[line + LAYER2_OCTETS] = delta.layer2Octets;
    counts[line + FIRST_MS] = delta.firstMs;
    counts[line + LAST_MS] = delta.lastMs;
    counts[line + TCP_FLAGS] = delta.tcpFlags;
    counts[line + END_SEEN_MS] = delta.tcpFlags & FLOW_ENDING_FLAGS ? delta.lastMs : Number.NaN;
    this.interfaceNames[number] = delta.interfaceName;
    this.older[number] = this.newest;
    this.newer[number] = NONE;
    if (this.newest === NONE) this.oldest = number;
    else this.newer[this.newest] = number;
    this.newest = number;
    this.count++;
  }

  /** Takes the flow out of the table, gives its number back to the source, and makes its record. */
  private release(number: number, endReason: FlowEndReason): FlowRecord {
    const older = this.older[number];
    const newer = this.newer[number];
    if (older === NONE) this.oldest = newer;
    else this.newer[older] = newer;
    if (newer === NONE) this.newest = older;
    else this.older[newer] = older;
    const counts = this.counts;
    const line = number * LINE;
    const record: FlowRecord = {
      key: this.numbering.keyOf(number),
      interfaceName: this.interfaceNames[number] as string,
      packets: counts[line + PACKETS],
      octets: counts[line + OCTETS],
      layer2Octets: counts[line + LAYER2_OCTETS],
      firstMs: counts[line + FIRST_MS],
      lastMs: counts[line + LAST_MS],
      tcpFlags: counts[line + TCP_FLAGS],
      endReason,
    };
    counts[line + PACKETS] = 0;
    this.interfaceNames[number] = undefined;
    this.count--;
    this.numbering.release(number);
    return record;
  }

  /** Makes room for flow numbers up to `number` (sources number densely, so this doubles a few times at most). */
  private grow(number: number): void {
    let numbers = this.older.length;
    while (numbers <= number) numbers *= 2;
    const counts = new Float64Array(numbers * LINE);
    counts.set(this.counts);
    this.counts = counts;
    this.older = grown(this.older, numbers);
    this.newer = grown(this.newer, numbers);
  }
}

function grown(links: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const larger = new Int32Array(length).fill(NONE);
  larger.set(links);
  return larger;
}

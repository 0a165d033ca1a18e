import type { FlowKey } from './flow-key.js';
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

interface FlowEntry {
  readonly flowNumber: number;
  readonly key: FlowKey;
  readonly interfaceName: string;
  packets: number;
  octets: number;
  layer2Octets: number;
  firstMs: number;
  lastMs: number;
  tcpFlags: number;
  /** Time of the first FIN or RST seen, which starts the end-of-flow linger. */
  endSeenMs: number | undefined;
  /** Neighbours in insertion order (oldest first), for releasing the oldest and for expiry. */
  older: FlowEntry | undefined;
  newer: FlowEntry | undefined;
}

const FLOW_ENDING_FLAGS = TcpFlag.Fin | TcpFlag.Rst;

/**
 * Aggregates drained deltas into flows and decides when each flow's counts are
 * released, with IPFIX end reasons. Time always comes in as an argument (epoch ms).
 *
 * Flows are indexed by the source's flow numbers (FlowDelta.flowNumber), and the
 * source hears of every number the table lets go of, at once, so it never hands
 * out a number the table still holds. A released flow leaves the table; later
 * packets of the same key start a new record, so no record is ever emitted with
 * zero counts. Entries are also linked in insertion order: the oldest flow is the
 * first released when the table is full.
 */
export class FlowTable {
  private readonly byNumber: Array<FlowEntry | undefined> = [];
  private oldest: FlowEntry | undefined;
  private newest: FlowEntry | undefined;
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
        if (defect !== 'flowNumber' && this.byNumber[delta.flowNumber] === undefined) this.numbering.release(delta.flowNumber);
        continue;
      }
      merged++;
      const entry = this.byNumber[delta.flowNumber];
      if (entry === undefined) {
        if (this.count >= this.limits.maxFlows) released.push(this.release(this.oldest as FlowEntry, FlowEndReason.LackOfResources));
        this.insert(delta);
        continue;
      }
      entry.packets += delta.packets;
      entry.octets += delta.octets;
      entry.layer2Octets += delta.layer2Octets;
      entry.firstMs = Math.min(entry.firstMs, delta.firstMs);
      entry.lastMs = Math.max(entry.lastMs, delta.lastMs);
      entry.tcpFlags |= delta.tcpFlags;
      if (entry.endSeenMs === undefined && delta.tcpFlags & FLOW_ENDING_FLAGS) entry.endSeenMs = delta.lastMs;
    }
    return { merged, released, rejected };
  }

  /** Releases every flow whose end, idle or active timeout has come by nowMs. */
  expire(nowMs: number): FlowRecord[] {
    const released: FlowRecord[] = [];
    const { endLingerMs, idleTimeoutMs, activeTimeoutMs } = this.limits;
    for (let entry = this.oldest; entry !== undefined; ) {
      const next = entry.newer;
      let reason: FlowEndReason | undefined;
      if (entry.endSeenMs !== undefined && nowMs - entry.endSeenMs >= endLingerMs) reason = FlowEndReason.EndOfFlow;
      else if (nowMs - entry.lastMs >= idleTimeoutMs) reason = FlowEndReason.IdleTimeout;
      else if (nowMs - entry.firstMs >= activeTimeoutMs) reason = FlowEndReason.ActiveTimeout;
      if (reason !== undefined) released.push(this.release(entry, reason));
      entry = next;
    }
    return released;
  }

  /** Releases everything (shutdown): end reason 4, forced end. */
  releaseAll(): FlowRecord[] {
    const released: FlowRecord[] = [];
    while (this.oldest !== undefined) released.push(this.release(this.oldest, FlowEndReason.ForcedEnd));
    return released;
  }

  private insert(delta: FlowDelta): void {
    const entry: FlowEntry = {
      flowNumber: delta.flowNumber,
      key: delta.key,
      interfaceName: delta.interfaceName,
      packets: delta.packets,
      octets: delta.octets,
      layer2Octets: delta.layer2Octets,
      firstMs: delta.firstMs,
      lastMs: delta.lastMs,
      tcpFlags: delta.tcpFlags,
      endSeenMs: delta.tcpFlags & FLOW_ENDING_FLAGS ? delta.lastMs : undefined,
      older: this.newest,
      newer: undefined,
    };
    if (this.newest === undefined) this.oldest = entry;
    else this.newest.newer = entry;
    this.newest = entry;
    this.byNumber[delta.flowNumber] = entry;
    this.count++;
  }

  /** Takes the entry out of the table, gives its number back to the source, and makes its record. */
  private release(entry: FlowEntry, endReason: FlowEndReason): FlowRecord {
    if (entry.older === undefined) this.oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) this.newest = entry.older;
    else entry.newer.older = entry.older;
    this.byNumber[entry.flowNumber] = undefined;
    this.count--;
    this.numbering.release(entry.flowNumber);
    return {
      key: entry.key,
      interfaceName: entry.interfaceName,
      packets: entry.packets,
      octets: entry.octets,
      layer2Octets: entry.layer2Octets,
      firstMs: entry.firstMs,
      lastMs: entry.lastMs,
      tcpFlags: entry.tcpFlags,
      endReason,
    };
  }
}

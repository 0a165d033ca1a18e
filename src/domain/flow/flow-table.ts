import type { FlowKey } from './flow-key.js';
import { deltaDefect, TcpFlag, type FlowDelta } from './flow-observation.js';
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
}

const FLOW_ENDING_FLAGS = TcpFlag.Fin | TcpFlag.Rst;

/**
 * Aggregates drained deltas into flows and decides when each flow's counts are
 * released, with IPFIX end reasons. Time always comes in as an argument (epoch ms).
 *
 * A released flow leaves the table; later packets of the same key start a new
 * record, so no record is ever emitted with zero counts. The Map keeps insertion
 * order, so the oldest flow is the first entry.
 */
export class FlowTable {
  private readonly flows = new Map<string, FlowEntry>();

  constructor(private readonly limits: FlowTableLimits) {
    if (!(limits.maxFlows >= 1)) throw new RangeError('maxFlows must be at least 1');
  }

  get size(): number {
    return this.flows.size;
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
        continue;
      }
      merged++;
      const id = delta.keyId;
      const entry = this.flows.get(id);
      if (entry === undefined) {
        if (this.flows.size >= this.limits.maxFlows) released.push(this.releaseOldest());
        this.flows.set(id, {
          key: delta.key,
          interfaceName: delta.interfaceName,
          packets: delta.packets,
          octets: delta.octets,
          layer2Octets: delta.layer2Octets,
          firstMs: delta.firstMs,
          lastMs: delta.lastMs,
          tcpFlags: delta.tcpFlags,
          endSeenMs: delta.tcpFlags & FLOW_ENDING_FLAGS ? delta.lastMs : undefined,
        });
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
    for (const [id, entry] of this.flows) {
      let reason: FlowEndReason | undefined;
      if (entry.endSeenMs !== undefined && nowMs - entry.endSeenMs >= endLingerMs) reason = FlowEndReason.EndOfFlow;
      else if (nowMs - entry.lastMs >= idleTimeoutMs) reason = FlowEndReason.IdleTimeout;
      else if (nowMs - entry.firstMs >= activeTimeoutMs) reason = FlowEndReason.ActiveTimeout;
      if (reason === undefined) continue;
      this.flows.delete(id);
      released.push(toRecord(entry, reason));
    }
    return released;
  }

  /** Releases everything (shutdown): end reason 4, forced end. */
  releaseAll(): FlowRecord[] {
    const released = Array.from(this.flows.values(), (entry) => toRecord(entry, FlowEndReason.ForcedEnd));
    this.flows.clear();
    return released;
  }

  private releaseOldest(): FlowRecord {
    const [id, entry] = this.flows.entries().next().value as [string, FlowEntry];
    this.flows.delete(id);
    return toRecord(entry, FlowEndReason.LackOfResources);
  }
}

function toRecord(entry: FlowEntry, endReason: FlowEndReason): FlowRecord {
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

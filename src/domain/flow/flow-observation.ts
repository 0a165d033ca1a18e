import type { FlowKey } from './flow-key.js';

/** TCP header flag bits as carried in IANA tcpControlBits (IE 6). */
export const TcpFlag = { Fin: 0x01, Syn: 0x02, Rst: 0x04, Psh: 0x08, Ack: 0x10, Urg: 0x20 } as const;

/** Counters of one flow observation over some period. */
export interface FlowCounts {
  readonly packets: number;
  /** IP-level octets: IP headers + payload, what IANA octetDeltaCount means. */
  readonly octets: number;
  /** Octets including the layer-2 header, IANA layer2OctetDeltaCount. */
  readonly layer2Octets: number;
  /** First and last packet, epoch milliseconds. */
  readonly firstMs: number;
  readonly lastMs: number;
  /** OR of the TCP flags seen; 0 for other protocols. */
  readonly tcpFlags: number;
}

/** What a flow source drains: the counts one observation gathered since the previous drain. */
export interface FlowDelta extends FlowCounts {
  /** For observers (a source may decode it only when read): the flow table asks the source (FlowNumbering.keyOf) when it releases the flow. */
  readonly key: FlowKey;
  /**
   * The flow's number at its source, the flow table's index: a non-negative
   * integer, equal for the deltas of one key while the table holds that flow. The
   * source gives a number to another key only after the table let go of it
   * (FlowNumbering.release), so numbers stay dense and the table needs no hashing
   * of its own (the capture source numbers kernel keys in a hash table of raw key
   * words, a fraction of what a string-keyed Map costs).
   */
  readonly flowNumber: number;
  readonly interfaceName: string;
}

/**
 * Whoever numbers the deltas (the source). It keeps each held number's key, so
 * the flow table holds none: it asks for the key when it releases the flow, and
 * says at once that it let go of the number.
 */
export interface FlowNumbering {
  /** The key a number the table holds stands for. */
  keyOf(flowNumber: number): FlowKey;
  release(flowNumber: number): void;
}

/**
 * Flow numbers stay below 2^24: a source numbers densely and hands numbers out as
 * the table merges each delta, so it holds at most the table's flows (10 M at
 * most) plus the one being merged; the table sizes its index by the highest
 * number it has seen.
 */
export const FLOW_NUMBER_LIMIT = 2 ** 24;

/** Why a delta cannot be merged, or undefined when it is sound. */
export function deltaDefect(delta: FlowDelta): string | undefined {
  if (!Number.isInteger(delta.flowNumber) || delta.flowNumber < 0 || delta.flowNumber >= FLOW_NUMBER_LIMIT) return 'flowNumber';
  if (!Number.isSafeInteger(delta.packets) || delta.packets <= 0) return 'packets';
  if (!Number.isSafeInteger(delta.octets) || delta.octets < 0) return 'octets';
  if (!Number.isSafeInteger(delta.layer2Octets) || delta.layer2Octets < delta.octets) return 'layer2Octets';
  if (!Number.isFinite(delta.firstMs) || !Number.isFinite(delta.lastMs) || delta.firstMs > delta.lastMs) return 'timestamps';
  return undefined;
}

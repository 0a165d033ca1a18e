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
  /** A source may decode it only when read: the flow table reads it only for a delta that starts a new flow. */
  readonly key: FlowKey;
  /**
   * The key's identity: equal for equal keys, different otherwise; the flow table's
   * map key. A source derives it from its own key encoding in one short flat string
   * (the capture decoder: the kernel key's fields as 16-bit character codes), which
   * hashes several times faster than one concatenated from the fields, since V8
   * hashes Map keys character by character; flowKeyId(key) builds one from the fields.
   */
  readonly keyId: string;
  readonly interfaceName: string;
}

/** Why a delta cannot be merged, or undefined when it is sound. */
export function deltaDefect(delta: FlowDelta): string | undefined {
  if (!Number.isSafeInteger(delta.packets) || delta.packets <= 0) return 'packets';
  if (!Number.isSafeInteger(delta.octets) || delta.octets < 0) return 'octets';
  if (!Number.isSafeInteger(delta.layer2Octets) || delta.layer2Octets < delta.octets) return 'layer2Octets';
  if (!Number.isFinite(delta.firstMs) || !Number.isFinite(delta.lastMs) || delta.firstMs > delta.lastMs) return 'timestamps';
  return undefined;
}

import type { FlowDirection, FlowKey } from '../../domain/flow/flow-key.js';
import type { FlowDelta } from '../../domain/flow/flow-observation.js';
import { NATIVE_LAYOUT as L } from './native-layout.js';
import { formatIpv6 } from '../net/ipv6-text.js';

export interface DecodedDrain {
  readonly deltas: FlowDelta[];
  /** Entries per inner kernel map. */
  readonly capacity: number;
  /** Kernel event counts since load, in the addon's counter order. */
  readonly eventTotals: number[];
}

export class DrainBufferError extends Error {}

/** Formatted addresses are cached by their bytes; the cache starts over past this many. */
const MAX_CACHED_ADDRESSES = 65_536;
const TWO_TO_32 = 2 ** 32;
const NS_PER_MS = 1e6;

/**
 * Decodes the addon's packed drain buffer (see native-layout.ts) straight into
 * FlowDelta objects. Formatting addresses is the expensive part, so their text
 * is cached by bytes (a node sees the same few hundred addresses again and again).
 */
export class FlowBufferDecoder {
  private readonly ipv4Text = new Map<number, string>();
  private readonly ipv6Text = new Map<string, string>();

  decode(buffer: Buffer, interfaceName: (interfaceIndex: number) => string): DecodedDrain {
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    if (buffer.byteLength < L.headerSize || view.getUint32(0, true) !== L.magic) throw new DrainBufferError('not a drain buffer (bad magic or too short)');
    const recordCount = view.getUint32(L.headerRecordCount, true);
    const counterCount = view.getUint32(L.headerCounterCount, true);
    const keysStart = L.headerSize;
    const countsStart = keysStart + recordCount * L.keySize;
    if (L.headerCounters + counterCount * 8 > L.headerSize || countsStart + recordCount * L.countsSize !== buffer.byteLength) {
      throw new DrainBufferError(`drain buffer of ${buffer.byteLength} bytes does not hold ${recordCount} records`);
    }
    const epochOffsetMs = view.getFloat64(L.headerEpochOffsetMs, true);
    const eventTotals: number[] = [];
    for (let index = 0; index < counterCount; index++) eventTotals.push(Number(view.getBigUint64(L.headerCounters + index * 8, true)));

    const deltas: FlowDelta[] = new Array(recordCount);
    for (let record = 0; record < recordCount; record++) {
      const keyStart = keysStart + record * L.keySize;
      const key = this.decodeKey(buffer, view, keyStart);
      const counts = countsStart + record * L.countsSize;
      deltas[record] = {
        key,
        // The kernel key bytes (zero-initialised padding included) identify the flow exactly.
        keyId: buffer.toString('latin1', keyStart, keyStart + L.keySize),
        interfaceName: interfaceName(key.interfaceIndex),
        packets: readUint64(view, counts + L.countsPackets),
        octets: readUint64(view, counts + L.countsIpOctets),
        layer2Octets: readUint64(view, counts + L.countsLayer2Octets),
        firstMs: Math.floor(readUint64(view, counts + L.countsFirstSeenNs) / NS_PER_MS + epochOffsetMs),
        lastMs: Math.floor(readUint64(view, counts + L.countsLastSeenNs) / NS_PER_MS + epochOffsetMs),
        tcpFlags: view.getUint32(counts + L.countsTcpFlags, true),
      };
    }
    return { deltas, capacity: view.getUint32(L.headerCapacity, true), eventTotals };
  }

  private decodeKey(buffer: Buffer, view: DataView, start: number): FlowKey {
    const ipVersion = view.getUint8(start + L.keyIpVersion) === 4 ? 4 : 6;
    return {
      ipVersion,
      sourceAddress: this.address(buffer, view, start + L.keySourceAddress, ipVersion),
      destinationAddress: this.address(buffer, view, start + L.keyDestinationAddress, ipVersion),
      sourcePort: view.getUint16(start + L.keySourcePort, true),
      destinationPort: view.getUint16(start + L.keyDestinationPort, true),
      protocol: view.getUint8(start + L.keyProtocol),
      icmpType: view.getUint8(start + L.keyIcmpType),
      icmpCode: view.getUint8(start + L.keyIcmpCode),
      vlanId: view.getUint16(start + L.keyVlanId, true),
      interfaceIndex: view.getUint32(start + L.keyInterfaceIndex, true),
      direction: view.getUint8(start + L.keyDirection) as FlowDirection,
    };
  }

  /** IPv4 sits in the last 4 of the 16 address bytes (::ffff:a.b.c.d). */
  private address(buffer: Buffer, view: DataView, start: number, ipVersion: 4 | 6): string {
    if (ipVersion === 4) {
      const value = view.getUint32(start + 12, false);
      let text = this.ipv4Text.get(value);
      if (text === undefined) {
        text = `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
        remember(this.ipv4Text, value, text);
      }
      return text;
    }
    const bytes = buffer.toString('latin1', start, start + 16);
    let text = this.ipv6Text.get(bytes);
    if (text === undefined) {
      text = formatIpv6(buffer.subarray(start, start + 16));
      remember(this.ipv6Text, bytes, text);
    }
    return text;
  }
}

function remember<K>(cache: Map<K, string>, key: K, text: string): void {
  if (cache.size >= MAX_CACHED_ADDRESSES) cache.clear();
  cache.set(key, text);
}

/** Counters stay far below 2^53 between drains; timestamps lose only sub-microsecond precision. */
function readUint64(view: DataView, offset: number): number {
  return view.getUint32(offset + 4, true) * TWO_TO_32 + view.getUint32(offset, true);
}

import type { FlowDirection, FlowKey } from '../../domain/flow/flow-key.js';
import type { FlowDelta, FlowNumbering } from '../../domain/flow/flow-observation.js';
import { NATIVE_LAYOUT as L } from './native-layout.js';
import { formatIpv6 } from '../net/ipv6-text.js';
import { KernelFlowNumbers } from './kernel-flow-numbers.js';

export interface DecodedDrain {
  /** One delta per drained record, decoded while it is iterated (see DrainedDeltas). */
  readonly deltas: DrainedDeltas;
  /** Entries per inner kernel map. */
  readonly capacity: number;
  /** How many of the records were entries of the flow map (the others come from hot-flow slots). */
  readonly mapRecords: number;
  /** Kernel event counts since load, in the addon's counter order. */
  readonly eventTotals: number[];
}

export class DrainBufferError extends Error {}

const TWO_TO_32 = 2 ** 32;
const NS_PER_MS = 1e6;

// The layout as plain constants: read for every record field, in the hottest loop of the agent.
const KEY_SIZE = L.keySize;
const COUNTS_SIZE = L.countsSize;
const SOURCE_ADDRESS = L.keySourceAddress;
const DESTINATION_ADDRESS = L.keyDestinationAddress;
const SOURCE_PORT = L.keySourcePort;
const DESTINATION_PORT = L.keyDestinationPort;
const PROTOCOL = L.keyProtocol;
const IP_VERSION = L.keyIpVersion;
const ICMP_TYPE = L.keyIcmpType;
const ICMP_CODE = L.keyIcmpCode;
const VLAN_ID = L.keyVlanId;
const INTERFACE_INDEX = L.keyInterfaceIndex;
const DIRECTION = L.keyDirection;
const PACKETS = L.countsPackets;
const IP_OCTETS = L.countsIpOctets;
const LAYER2_OCTETS = L.countsLayer2Octets;
const FIRST_SEEN_NS = L.countsFirstSeenNs;
const LAST_SEEN_NS = L.countsLastSeenNs;
const TCP_FLAGS = L.countsTcpFlags;

/**
 * Decodes the addon's packed drain batches (see native-layout.ts) into FlowDelta
 * objects, numbering each record's key (KernelFlowNumbers), which makes it the
 * flow table's FlowNumbering. Formatting addresses is the expensive part of a
 * key, so their text is cached by bytes (a node sees the same few hundred
 * addresses again and again).
 */
export class FlowBufferDecoder implements FlowNumbering {
  readonly flowNumbers = new KernelFlowNumbers();
  private readonly ipv4Text = new AddressTextCache((bytes) => `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`);
  private readonly ipv6Text = new AddressTextCache(formatIpv6);

  decode(buffer: Buffer, interfaceName: (interfaceIndex: number) => string): DecodedDrain {
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    if (buffer.byteLength < L.headerSize || view.getUint32(0, true) !== L.magic) throw new DrainBufferError('not a drain buffer (bad magic or too short)');
    const recordCount = view.getUint32(L.headerRecordCount, true);
    const counterCount = view.getUint32(L.headerCounterCount, true);
    if (L.headerCounters + counterCount * 8 > L.headerSize || L.headerSize + recordCount * (KEY_SIZE + COUNTS_SIZE) !== buffer.byteLength) {
      throw new DrainBufferError(`drain buffer of ${buffer.byteLength} bytes does not hold ${recordCount} records`);
    }
    const eventTotals: number[] = [];
    for (let index = 0; index < counterCount; index++) eventTotals.push(Number(view.getBigUint64(L.headerCounters + index * 8, true)));
    const deltas = new DrainedDeltas(this, view, recordCount, view.getFloat64(L.headerEpochOffsetMs, true), interfaceName);
    const mapRecords = view.getUint32(L.headerMapRecords, true);
    if (mapRecords > recordCount) throw new DrainBufferError(`drain batch claims ${mapRecords} map records of ${recordCount}`);
    return { deltas, capacity: view.getUint32(L.headerCapacity, true), mapRecords, eventTotals };
  }

  /** The key a held flow number stands for, decoded from the numbering's copy of its bytes. */
  keyOf(flowNumber: number): FlowKey {
    const numbers = this.flowNumbers;
    return this.decodeKey(numbers.keyBytes, numbers.keyView, numbers.keyStart(flowNumber));
  }

  release(flowNumber: number): void {
    this.flowNumbers.release(flowNumber);
  }

  private decodeKey(bytes: Uint8Array, view: DataView, start: number): FlowKey {
    const ipVersion = view.getUint8(start + IP_VERSION) === 4 ? 4 : 6;
    const addresses = ipVersion === 4 ? this.ipv4Text : this.ipv6Text;
    return {
      ipVersion,
      sourceAddress: addresses.text(bytes, view, start + SOURCE_ADDRESS),
      destinationAddress: addresses.text(bytes, view, start + DESTINATION_ADDRESS),
      sourcePort: view.getUint16(start + SOURCE_PORT, true),
      destinationPort: view.getUint16(start + DESTINATION_PORT, true),
      protocol: view.getUint8(start + PROTOCOL),
      icmpType: view.getUint8(start + ICMP_TYPE),
      icmpCode: view.getUint8(start + ICMP_CODE),
      vlanId: view.getUint16(start + VLAN_ID, true),
      interfaceIndex: view.getUint32(start + INTERFACE_INDEX, true),
      direction: view.getUint8(start + DIRECTION) as FlowDirection,
    };
  }
}

/**
 * The records of one drain batch as deltas, decoded one at a time as they are
 * iterated (every iteration decodes afresh): merged one by one, no delta outlives
 * its merge, so 100k records do not sit in the young generation all at once. A
 * record's key is numbered when the record is reached, after the flow table has
 * merged (and possibly released) every record before it.
 */
export class DrainedDeltas implements Iterable<FlowDelta> {
  constructor(
    private readonly decoder: FlowBufferDecoder,
    private readonly view: DataView,
    readonly length: number,
    private readonly epochOffsetMs: number,
    private readonly interfaceName: (interfaceIndex: number) => string,
  ) {}

  [Symbol.iterator](): Iterator<FlowDelta> {
    let record = 0;
    return { next: () => (record < this.length ? { done: false, value: this.deltaAt(record++) } : { done: true, value: undefined }) };
  }

  private deltaAt(record: number): FlowDelta {
    const { view, length, epochOffsetMs } = this;
    const keyStart = L.headerSize + record * KEY_SIZE;
    const counts = L.headerSize + length * KEY_SIZE + record * COUNTS_SIZE;
    return new DrainedDelta(
      this.decoder,
      this.decoder.flowNumbers.numberOf(view, keyStart),
      this.interfaceName(view.getUint32(keyStart + INTERFACE_INDEX, true)),
      readUint64(view, counts + PACKETS),
      readUint64(view, counts + IP_OCTETS),
      readUint64(view, counts + LAYER2_OCTETS),
      Math.floor(readUint64(view, counts + FIRST_SEEN_NS) / NS_PER_MS + epochOffsetMs),
      Math.floor(readUint64(view, counts + LAST_SEEN_NS) / NS_PER_MS + epochOffsetMs),
      view.getUint32(counts + TCP_FLAGS, true),
    );
  }
}

/**
 * A drained record: counts read at once, the key decoded only if read, from the
 * numbering, so read it while the batch is being consumed (the flow table never
 * reads it: it asks the source for a flow's key when it releases the flow). The
 * bookkeeping field is #private, so spreading a delta copies only FlowDelta fields.
 */
class DrainedDelta implements FlowDelta {
  readonly #decoder: FlowBufferDecoder;
  #key: FlowKey | undefined;

  constructor(
    decoder: FlowBufferDecoder,
    readonly flowNumber: number,
    readonly interfaceName: string,
    readonly packets: number,
    readonly octets: number,
    readonly layer2Octets: number,
    readonly firstMs: number,
    readonly lastMs: number,
    readonly tcpFlags: number,
  ) {
    this.#decoder = decoder;
  }

  get key(): FlowKey {
    return (this.#key ??= this.#decoder.keyOf(this.flowNumber));
  }
}

/** Slots of an address text cache (a power of two): far more than the addresses one node's pods use. */
const ADDRESS_CACHE_SLOT_BITS = 12;

/**
 * Text of 16-byte kernel addresses (IPv4 as ::ffff:a.b.c.d), cached in a
 * direct-mapped table: a slot chosen from the address words holds one address
 * and its text, and a colliding address replaces it. Cheaper than a Map: no key
 * to build and hash, and no heap number for IPv4 words above 2^30.
 */
class AddressTextCache {
  /** Four 32-bit words per slot: the address the slot's text belongs to. */
  private readonly words = new Int32Array(4 << ADDRESS_CACHE_SLOT_BITS);
  private readonly texts: Array<string | undefined> = new Array(1 << ADDRESS_CACHE_SLOT_BITS).fill(undefined);

  constructor(private readonly format: (bytes: Uint8Array) => string) {}

  text(bytes: Uint8Array, view: DataView, start: number): string {
    const w0 = view.getInt32(start, true);
    const w1 = view.getInt32(start + 4, true);
    const w2 = view.getInt32(start + 8, true);
    const w3 = view.getInt32(start + 12, true);
    const slot = Math.imul(w0 ^ w1 ^ w2 ^ w3, 0x9e3779b1) >>> (32 - ADDRESS_CACHE_SLOT_BITS);
    const words = this.words;
    const word = slot * 4;
    const cached = this.texts[slot];
    if (cached !== undefined && words[word] === w0 && words[word + 1] === w1 && words[word + 2] === w2 && words[word + 3] === w3) return cached;
    const text = this.format(bytes.subarray(start, start + 16));
    words.set([w0, w1, w2, w3], word);
    this.texts[slot] = text;
    return text;
  }
}

/** Counters stay far below 2^53 between drains; timestamps lose only sub-microsecond precision. */
function readUint64(view: DataView, offset: number): number {
  return view.getUint32(offset + 4, true) * TWO_TO_32 + view.getUint32(offset, true);
}

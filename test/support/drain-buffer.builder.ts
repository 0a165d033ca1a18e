import { NATIVE_LAYOUT as L } from '../../src/adapters/capture/native-layout.js';

/** One record as the kernel stores it: addresses as 16 bytes (IPv4 mapped), times in monotonic ns. */
export interface RawFlowRecord {
  ipVersion: 4 | 6;
  sourceAddress: number[];
  destinationAddress: number[];
  sourcePort: number;
  destinationPort: number;
  protocol: number;
  icmpType?: number;
  icmpCode?: number;
  vlanId?: number;
  interfaceIndex: number;
  direction: 0 | 1;
  packets: number;
  ipOctets: number;
  layer2Octets: number;
  firstSeenNs: bigint;
  lastSeenNs: bigint;
  tcpFlags?: number;
}

export function ipv4Mapped(a: number, b: number, c: number, d: number): number[] {
  return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d];
}

/** Builds a buffer in the addon's drain layout, as the unit tests' stand-in for the kernel. */
export function buildDrainBuffer(records: RawFlowRecord[], options: { epochOffsetMs: number; capacity?: number; mapRecords?: number; eventTotals?: number[] }): Buffer {
  const eventTotals = options.eventTotals ?? [];
  const buffer = Buffer.alloc(L.headerSize + records.length * (L.keySize + L.countsSize));
  buffer.writeUInt32LE(L.magic, 0);
  buffer.writeUInt32LE(records.length, L.headerRecordCount);
  buffer.writeUInt32LE(options.capacity ?? 1024, L.headerCapacity);
  buffer.writeUInt32LE(eventTotals.length, L.headerCounterCount);
  buffer.writeUInt32LE(options.mapRecords ?? records.length, L.headerMapRecords);
  buffer.writeDoubleLE(options.epochOffsetMs, L.headerEpochOffsetMs);
  eventTotals.forEach((total, index) => buffer.writeBigUInt64LE(BigInt(total), L.headerCounters + index * 8));
  records.forEach((record, index) => {
    const key = L.headerSize + index * L.keySize;
    Buffer.from(record.sourceAddress).copy(buffer, key + L.keySourceAddress);
    Buffer.from(record.destinationAddress).copy(buffer, key + L.keyDestinationAddress);
    buffer.writeUInt16LE(record.sourcePort, key + L.keySourcePort);
    buffer.writeUInt16LE(record.destinationPort, key + L.keyDestinationPort);
    buffer.writeUInt32LE(record.interfaceIndex, key + L.keyInterfaceIndex);
    buffer.writeUInt16LE(record.vlanId ?? 0, key + L.keyVlanId);
    buffer.writeUInt8(record.protocol, key + L.keyProtocol);
    buffer.writeUInt8(record.ipVersion, key + L.keyIpVersion);
    buffer.writeUInt8(record.icmpType ?? 0, key + L.keyIcmpType);
    buffer.writeUInt8(record.icmpCode ?? 0, key + L.keyIcmpCode);
    buffer.writeUInt8(record.direction, key + L.keyDirection);
    const counts = L.headerSize + records.length * L.keySize + index * L.countsSize;
    buffer.writeBigUInt64LE(BigInt(record.packets), counts + L.countsPackets);
    buffer.writeBigUInt64LE(BigInt(record.ipOctets), counts + L.countsIpOctets);
    buffer.writeBigUInt64LE(BigInt(record.layer2Octets), counts + L.countsLayer2Octets);
    buffer.writeBigUInt64LE(record.firstSeenNs, counts + L.countsFirstSeenNs);
    buffer.writeBigUInt64LE(record.lastSeenNs, counts + L.countsLastSeenNs);
    buffer.writeUInt32LE(record.tcpFlags ?? 0, counts + L.countsTcpFlags);
  });
  return buffer;
}

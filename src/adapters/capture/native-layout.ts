/**
 * Byte layout of each batch the addon's drain() hands over, as the one TypeScript
 * source of these numbers. They mirror bpf/flow_types.h and
 * native/src/core/drain_layout.h (where static_asserts pin them); the loader
 * compares them with the offsets the addon exports and refuses a mismatch.
 *
 * Each drain batch: header, then `recordCount` keys, then `recordCount` counts, all little-endian.
 */
export const NATIVE_LAYOUT = {
  magic: 0x31574c46,
  headerRecordCount: 4,
  headerCapacity: 8,
  headerCounterCount: 12,
  headerMapRecords: 16,
  headerEpochOffsetMs: 24,
  headerCounters: 32,
  headerSize: 112,
  keySize: 48,
  keySourceAddress: 0,
  keyDestinationAddress: 16,
  keySourcePort: 32,
  keyDestinationPort: 34,
  keyInterfaceIndex: 36,
  keyVlanId: 40,
  keyProtocol: 42,
  keyIpVersion: 43,
  keyIcmpType: 44,
  keyIcmpCode: 45,
  keyDirection: 46,
  countsSize: 48,
  countsPackets: 0,
  countsIpOctets: 8,
  countsLayer2Octets: 16,
  countsFirstSeenNs: 24,
  countsLastSeenNs: 32,
  countsTcpFlags: 40,
} as const;

export type NativeLayout = { readonly [K in keyof typeof NATIVE_LAYOUT]: number };

/** Names of the fields whose value differs between the addon and NATIVE_LAYOUT. */
export function layoutMismatches(native: NativeLayout): string[] {
  return (Object.keys(NATIVE_LAYOUT) as Array<keyof NativeLayout>).filter((field) => native[field] !== NATIVE_LAYOUT[field]);
}

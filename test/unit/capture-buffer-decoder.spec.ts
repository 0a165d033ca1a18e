import { DrainBufferError, FlowBufferDecoder } from '../../src/adapters/capture/flow-buffer.decoder.js';
import type { FlowDelta } from '../../src/domain/flow/flow-observation.js';
import { buildDrainBuffer, ipv4Mapped, type RawFlowRecord } from '../support/drain-buffer.builder.js';

const names = (index: number) => `veth${index}`;

/** Plain copies of decoded deltas: the decoder's deltas decode their key when it is read. */
function plain(deltas: Iterable<FlowDelta>): FlowDelta[] {
  return Array.from(deltas, (delta) => ({ ...delta, key: delta.key }));
}

function decodeAll(decoder: FlowBufferDecoder, buffer: Buffer): FlowDelta[] {
  return plain(decoder.decode(buffer, names).deltas);
}

const udpV4: RawFlowRecord = {
  ipVersion: 4,
  sourceAddress: ipv4Mapped(10, 244, 1, 2),
  destinationAddress: ipv4Mapped(10, 244, 2, 3),
  sourcePort: 40_000,
  destinationPort: 53,
  protocol: 17,
  vlanId: 100,
  interfaceIndex: 7,
  direction: 0,
  packets: 1000,
  ipOctets: 228_000,
  layer2Octets: 242_000,
  // Monotonic time above 2^53 ns (uptime > 104 days) must still convert to the right ms.
  firstSeenNs: 9_100_000_123_456_789n,
  lastSeenNs: 9_100_000_987_654_321n,
};

function ipv6Bytes(text: string): number[] {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const front = parse(head);
  const back = parse(tail);
  const groups = tail === undefined ? front : [...front, ...new Array(8 - front.length - back.length).fill(0), ...back];
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}

describe('FlowBufferDecoder', () => {
  it('decodes every field of a record, converting monotonic ns to epoch ms with the drain offset', () => {
    const epochOffsetMs = 1_700_000_000_000.25;
    const buffer = buildDrainBuffer([udpV4], { epochOffsetMs, capacity: 65_536, eventTotals: [3, 0, 5] });

    const decoded = new FlowBufferDecoder().decode(buffer, names);

    expect(decoded.capacity).toBe(65_536);
    expect(decoded.mapRecords).toBe(1);
    expect(decoded.eventTotals).toEqual([3, 0, 5]);
    expect(decoded.deltas.length).toBe(1);
    expect(plain(decoded.deltas)).toEqual([
      {
        key: {
          ipVersion: 4,
          sourceAddress: '10.244.1.2',
          destinationAddress: '10.244.2.3',
          sourcePort: 40_000,
          destinationPort: 53,
          protocol: 17,
          icmpType: 0,
          icmpCode: 0,
          vlanId: 100,
          interfaceIndex: 7,
          direction: 0,
        },
        flowNumber: 0,
        interfaceName: 'veth7',
        packets: 1000,
        octets: 228_000,
        layer2Octets: 242_000,
        firstMs: Math.floor(9_100_000_123.456789 + epochOffsetMs),
        lastMs: Math.floor(9_100_000_987.654321 + epochOffsetMs),
        tcpFlags: 0,
      },
    ]);
  });

  it('numbers each record by its key alone: equal keys share a number, any differing key field gives another', () => {
    const variants: RawFlowRecord[] = [
      udpV4,
      { ...udpV4, packets: 1, ipOctets: 228, layer2Octets: 242 },
      { ...udpV4, sourcePort: 40_001 },
      { ...udpV4, vlanId: 101 },
      { ...udpV4, interfaceIndex: 8 },
      { ...udpV4, direction: 1 },
      { ...udpV4, destinationPort: 54 },
      { ...udpV4, protocol: 6 },
      { ...udpV4, icmpType: 3 },
      { ...udpV4, icmpCode: 1 },
      { ...udpV4, sourceAddress: ipv4Mapped(10, 244, 1, 3) },
      { ...udpV4, destinationAddress: ipv4Mapped(11, 244, 2, 3) },
      { ...udpV4, interfaceIndex: 7 + 2 ** 16 },
      { ...udpV4, ipVersion: 6 },
      { ...udpV4, ipVersion: 6, sourceAddress: ipv6Bytes('fd00::2') },
      { ...udpV4, ipVersion: 6, sourceAddress: ipv6Bytes('fd01::2') },
    ];
    const numbers = decodeAll(new FlowBufferDecoder(), buildDrainBuffer(variants, { epochOffsetMs: 0 })).map((delta) => delta.flowNumber);
    expect(numbers).toEqual([0, 0, ...Array.from({ length: variants.length - 2 }, (_, index) => index + 1)]);
  });

  it('decodes IPv6 ICMP with type and code and the egress direction', () => {
    const record: RawFlowRecord = {
      ...udpV4,
      ipVersion: 6,
      sourceAddress: ipv6Bytes('fd00:10:244:1::2'),
      destinationAddress: ipv6Bytes('fd00:10:244:2::3'),
      sourcePort: 0,
      destinationPort: 0,
      protocol: 58,
      icmpType: 128,
      icmpCode: 0,
      direction: 1,
      tcpFlags: 0,
    };
    const [delta] = decodeAll(new FlowBufferDecoder(), buildDrainBuffer([record], { epochOffsetMs: 0 }));
    expect(delta.key).toMatchObject({ ipVersion: 6, sourceAddress: 'fd00:10:244:1::2', destinationAddress: 'fd00:10:244:2::3', protocol: 58, icmpType: 128, direction: 1 });
  });

  it('keeps records apart and reads keys and counts from their own blocks', () => {
    const tcp: RawFlowRecord = { ...udpV4, protocol: 6, sourcePort: 1, destinationPort: 2, packets: 3, ipOctets: 4, layer2Octets: 5, tcpFlags: 0x1b };
    const deltas = decodeAll(new FlowBufferDecoder(), buildDrainBuffer([udpV4, tcp], { epochOffsetMs: 0 }));
    expect(deltas.map((delta) => [delta.key.protocol, delta.packets, delta.octets, delta.layer2Octets, delta.tcpFlags])).toEqual([
      [17, 1000, 228_000, 242_000, 0],
      [6, 3, 4, 5, 0x1b],
    ]);
  });

  it('returns an empty drain for a buffer with only a header', () => {
    expect(decodeAll(new FlowBufferDecoder(), buildDrainBuffer([], { epochOffsetMs: 0 }))).toEqual([]);
  });

  it('refuses buffers that are not drains or whose length disagrees with the record count', () => {
    const decoder = new FlowBufferDecoder();
    const good = buildDrainBuffer([udpV4], { epochOffsetMs: 0 });
    const badMagic = Buffer.from(good);
    badMagic.writeUInt32LE(0, 0);
    expect(() => decoder.decode(badMagic, names)).toThrow(DrainBufferError);
    expect(() => decoder.decode(good.subarray(0, good.length - 1), names)).toThrow(DrainBufferError);
    expect(() => decoder.decode(Buffer.alloc(8), names)).toThrow(DrainBufferError);
    expect(() => decoder.decode(buildDrainBuffer([udpV4], { epochOffsetMs: 0, mapRecords: 2 }), names)).toThrow(DrainBufferError);
  });

  it('tells the flow map\'s records from the hot-flow slots\' (a batch of slots has none of the map)', () => {
    const slots = new FlowBufferDecoder().decode(buildDrainBuffer([udpV4, udpV4], { epochOffsetMs: 0, mapRecords: 0 }), names);
    expect(slots.mapRecords).toBe(0);
    expect(slots.deltas.length).toBe(2);
  });

  it('decodes from a buffer that starts at an offset inside a larger allocation', () => {
    const good = buildDrainBuffer([udpV4], { epochOffsetMs: 0 });
    const larger = Buffer.alloc(good.length + 13);
    good.copy(larger, 13);
    const [delta] = decodeAll(new FlowBufferDecoder(), larger.subarray(13));
    expect(delta.key.sourceAddress).toBe('10.244.1.2');
  });

  it('reuses the cached text of addresses it has seen', () => {
    const decoder = new FlowBufferDecoder();
    const [first] = decodeAll(decoder, buildDrainBuffer([udpV4], { epochOffsetMs: 0 }));
    const [second] = decodeAll(decoder, buildDrainBuffer([{ ...udpV4, sourcePort: 1 }], { epochOffsetMs: 0 }));
    expect(second.key.sourceAddress).toBe(first.key.sourceAddress);
  });
});

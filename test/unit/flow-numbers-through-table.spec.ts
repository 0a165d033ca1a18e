import { FlowBufferDecoder } from '../../src/adapters/capture/flow-buffer.decoder.js';
import { FlowTable } from '../../src/domain/flow/flow-table.js';
import { FlowEndReason, type FlowRecord } from '../../src/domain/flow/flow-record.js';
import { buildDrainBuffer, ipv4Mapped, type RawFlowRecord } from '../support/drain-buffer.builder.js';
import { flowKeyId } from '../fakes/flow-deltas.js';
import { seededRandom } from '../support/seeded-random.js';

const NS_PER_MS = 1_000_000n;

/**
 * The capture decoder's flow numbering and the flow table together, as the
 * pipeline wires them: numbers handed out, given back on every kind of release
 * (a full table mid-merge, idle expiry, shutdown) and handed out again, over many
 * drains. Whatever the reuse, every key's packets must come out in its own records.
 */
describe('flow numbers through the flow table', () => {
  it('puts every drained packet in a record of its own key across 300 drains of churn', () => {
    const decoder = new FlowBufferDecoder();
    const table = new FlowTable({ idleTimeoutMs: 30, activeTimeoutMs: 60, endLingerMs: 10, maxFlows: 70 }, decoder);
    const next = seededRandom(0xf10e);
    const sent = new Map<string, number>();
    const released: FlowRecord[] = [];
    const heldApart: number[] = [];
    for (let drain = 0; drain < 300; drain++) {
      const nowMs = drain * 10;
      const records: RawFlowRecord[] = [];
      // Three ports in every drain live past the active timeout; the others come and go.
      const ports = [0, 1, 2, ...Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 200))];
      for (const port of ports) {
        const record: RawFlowRecord = {
          ipVersion: 4,
          sourceAddress: ipv4Mapped(10, 244, 0, 2 + (port % 3)),
          destinationAddress: ipv4Mapped(10, 244, 1, 9),
          sourcePort: 30_000 + port,
          destinationPort: 53,
          protocol: 17,
          interfaceIndex: 7,
          direction: 0,
          packets: 1 + Math.floor(next() * 5),
          ipOctets: 100,
          layer2Octets: 114,
          firstSeenNs: BigInt(nowMs) * NS_PER_MS,
          lastSeenNs: BigInt(nowMs) * NS_PER_MS,
        };
        // A key can come out of one drain more than once (the map, and a hot-flow slot per CPU).
        records.push(record, ...(next() < 0.1 ? [{ ...record, packets: 1 }] : []));
      }
      for (const record of records) {
        const id = `10.244.0.${record.sourceAddress[15]}|10.244.1.9|${record.sourcePort}|53|17|0|0|0|7|0`;
        sent.set(id, (sent.get(id) ?? 0) + record.packets);
      }
      const merged = table.merge(decoder.decode(buildDrainBuffer(records, { epochOffsetMs: 0 }), () => 'veth7').deltas);
      expect(merged.rejected.size).toBe(0);
      released.push(...merged.released, ...table.expire(nowMs));
      // The numbering holds exactly the flows the table holds: nothing taken and never given back.
      heldApart.push(decoder.flowNumbers.size - table.size);
    }
    released.push(...table.releaseAll());
    expect(new Set(heldApart)).toEqual(new Set([0]));

    const counted = new Map<string, number>();
    for (const record of released) counted.set(flowKeyId(record.key), (counted.get(flowKeyId(record.key)) ?? 0) + record.packets);
    expect(counted).toEqual(sent);
    // Every kind of release happened, so numbers were given back and reused along each path.
    expect(new Set(released.map((record) => record.endReason))).toEqual(
      new Set([FlowEndReason.IdleTimeout, FlowEndReason.LackOfResources, FlowEndReason.ForcedEnd, FlowEndReason.ActiveTimeout]),
    );
    expect(decoder.flowNumbers.size).toBe(0);
  });
});

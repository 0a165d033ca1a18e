import type { FlowKey } from '../../src/domain/flow/flow-key.js';
import { FlowTable, type FlowTableLimits } from '../../src/domain/flow/flow-table.js';
import { FlowEndReason } from '../../src/domain/flow/flow-record.js';
import { TcpFlag } from '../../src/domain/flow/flow-observation.js';
import { fakeFlowKey, flowDelta, flowKey } from '../fakes/flow-deltas.js';

/** The table's source-side numbering: the fakes' keys, and a record of what the table gives back. */
class ReleasedNumbers {
  readonly numbers: number[] = [];
  keyOf(flowNumber: number): FlowKey {
    return fakeFlowKey(flowNumber);
  }
  release(flowNumber: number): void {
    this.numbers.push(flowNumber);
  }
}

const limits: FlowTableLimits = { idleTimeoutMs: 15_000, activeTimeoutMs: 60_000, endLingerMs: 1_000, maxFlows: 100 };

describe('FlowTable', () => {
  it('merges deltas of one key: sums counts, widens the time span, ORs the flags', () => {
    const table = new FlowTable(limits, new ReleasedNumbers());
    table.merge([
      flowDelta({ packets: 2, firstMs: 1_000, lastMs: 1_500, tcpFlags: TcpFlag.Syn }),
      flowDelta({ packets: 3, firstMs: 2_000, lastMs: 2_400, tcpFlags: TcpFlag.Ack | TcpFlag.Psh }),
    ]);
    expect(table.size).toBe(1);
    const [record] = table.releaseAll();
    expect(record).toMatchObject({
      packets: 5,
      octets: 500,
      layer2Octets: 570,
      firstMs: 1_000,
      lastMs: 2_400,
      tcpFlags: TcpFlag.Syn | TcpFlag.Ack | TcpFlag.Psh,
      endReason: FlowEndReason.ForcedEnd,
      interfaceName: 'veth-a',
    });
  });

  it('keeps keys that differ in any field apart (direction, interface, VLAN, ICMP code)', () => {
    const table = new FlowTable(limits, new ReleasedNumbers());
    table.merge([
      flowDelta(),
      flowDelta({ key: flowKey({ direction: 1 }) }),
      flowDelta({ key: flowKey({ interfaceIndex: 8 }) }),
      flowDelta({ key: flowKey({ vlanId: 100 }) }),
      flowDelta({ key: flowKey({ protocol: 1, sourcePort: 0, destinationPort: 0, icmpType: 3, icmpCode: 3 }) }),
      flowDelta({ key: flowKey({ protocol: 1, sourcePort: 0, destinationPort: 0, icmpType: 3, icmpCode: 1 }) }),
    ]);
    expect(table.size).toBe(6);
  });

  it('releases a flow idle for the idle timeout with end reason 1, not a moment before', () => {
    const table = new FlowTable(limits, new ReleasedNumbers());
    table.merge([flowDelta({ firstMs: 1_000, lastMs: 5_000 })]);
    expect(table.expire(5_000 + limits.idleTimeoutMs - 1)).toEqual([]);
    const released = table.expire(5_000 + limits.idleTimeoutMs);
    expect(released.map((r) => r.endReason)).toEqual([FlowEndReason.IdleTimeout]);
    expect(table.size).toBe(0);
  });

  it('releases a long-lived flow every active timeout (reason 2); later packets start a new record', () => {
    const table = new FlowTable(limits, new ReleasedNumbers());
    // Packets every 10 s keep the flow from going idle.
    for (let t = 0; t < 60_000; t += 10_000) {
      table.merge([flowDelta({ firstMs: t, lastMs: t + 5_000 })]);
      expect(table.expire(t + 5_000)).toEqual([]);
    }
    const [active] = table.expire(60_000);
    expect(active).toMatchObject({ endReason: FlowEndReason.ActiveTimeout, packets: 6, firstMs: 0, lastMs: 55_000 });
    table.merge([flowDelta({ firstMs: 61_000, lastMs: 61_000 })]);
    const [next] = table.releaseAll();
    expect(next).toMatchObject({ packets: 1, firstMs: 61_000, endReason: FlowEndReason.ForcedEnd });
  });

  it('treats equal idle and active timeouts as valid: idle wins when both are due', () => {
    const table = new FlowTable({ ...limits, idleTimeoutMs: 1_000, activeTimeoutMs: 1_000 }, new ReleasedNumbers());
    table.merge([flowDelta({ firstMs: 0, lastMs: 0 })]);
    expect(table.expire(1_000).map((r) => r.endReason)).toEqual([FlowEndReason.IdleTimeout]);
  });

  it.each([
    ['FIN', TcpFlag.Fin | TcpFlag.Ack],
    ['RST', TcpFlag.Rst],
  ])('ends a flow after %s plus the linger, absorbing the last ACK (reason 3)', (_name, endingFlags) => {
    const table = new FlowTable(limits, new ReleasedNumbers());
    table.merge([flowDelta({ packets: 5, firstMs: 0, lastMs: 2_000, tcpFlags: TcpFlag.Syn | endingFlags })]);
    expect(table.expire(2_000 + limits.endLingerMs - 1)).toEqual([]);
    // The final ACK arrives during the linger and joins the same record.
    table.merge([flowDelta({ packets: 1, firstMs: 2_300, lastMs: 2_300, tcpFlags: TcpFlag.Ack })]);
    const released = table.expire(2_000 + limits.endLingerMs);
    expect(released).toHaveLength(1);
    expect(released[0]).toMatchObject({ endReason: FlowEndReason.EndOfFlow, packets: 6, lastMs: 2_300 });
  });

  it('with a linger of 0 ends a flow on the first expiry after FIN', () => {
    const table = new FlowTable({ ...limits, endLingerMs: 0 }, new ReleasedNumbers());
    table.merge([flowDelta({ firstMs: 0, lastMs: 100, tcpFlags: TcpFlag.Fin })]);
    expect(table.expire(100).map((r) => r.endReason)).toEqual([FlowEndReason.EndOfFlow]);
  });

  it('when full, releases the oldest flow early with reason 5 and keeps the newest', () => {
    const table = new FlowTable({ ...limits, maxFlows: 2 }, new ReleasedNumbers());
    const first = table.merge([flowDelta({ key: flowKey({ sourcePort: 1 }) }), flowDelta({ key: flowKey({ sourcePort: 2 }) })]);
    expect(first.released).toEqual([]);
    const { released } = table.merge([flowDelta({ key: flowKey({ sourcePort: 3 }) })]);
    expect(released).toHaveLength(1);
    expect(released[0]).toMatchObject({ endReason: FlowEndReason.LackOfResources, key: { sourcePort: 1 } });
    expect(table.size).toBe(2);
    expect(table.releaseAll().map((r) => r.key.sourcePort)).toEqual([2, 3]);
  });

  it('does not count an update of an existing flow against the bound', () => {
    const table = new FlowTable({ ...limits, maxFlows: 1 }, new ReleasedNumbers());
    table.merge([flowDelta()]);
    expect(table.merge([flowDelta()]).released).toEqual([]);
  });

  it('refuses malformed deltas and reports them by defect, merging the rest', () => {
    const table = new FlowTable(limits, new ReleasedNumbers());
    const { merged, rejected } = table.merge([
      flowDelta({ packets: 0 }),
      flowDelta({ packets: 1.5 }),
      flowDelta({ octets: -1 }),
      flowDelta({ octets: 100, layer2Octets: 99 }),
      flowDelta({ firstMs: 2_000, lastMs: 1_000 }),
      flowDelta({ lastMs: Number.NaN }),
      flowDelta(),
    ]);
    expect(Object.fromEntries(rejected)).toEqual({ packets: 2, octets: 1, layer2Octets: 1, timestamps: 2 });
    expect(merged).toBe(1);
    expect(table.size).toBe(1);
  });

  it('releases everything at shutdown with reason 4 and empties the table', () => {
    const table = new FlowTable(limits, new ReleasedNumbers());
    table.merge([flowDelta({ key: flowKey({ sourcePort: 1 }) }), flowDelta({ key: flowKey({ sourcePort: 2 }) })]);
    const released = table.releaseAll();
    expect(released.map((r) => r.endReason)).toEqual([FlowEndReason.ForcedEnd, FlowEndReason.ForcedEnd]);
    expect(table.size).toBe(0);
  });

  it('gives each number back to the source as it lets go of the flow: expiry, a full table, shutdown', () => {
    const numbering = new ReleasedNumbers();
    const table = new FlowTable({ ...limits, maxFlows: 3 }, numbering);
    const delta = (sourcePort: number, flowNumber: number, lastMs = 1_000) => flowDelta({ key: flowKey({ sourcePort }), flowNumber, firstMs: 0, lastMs });
    table.merge([delta(1, 10), delta(2, 11, 20_000), delta(3, 12, 20_000)]);
    expect(numbering.numbers).toEqual([]);
    expect(table.expire(16_000).map((record) => record.key.sourcePort)).toEqual([1]);
    expect(numbering.numbers).toEqual([10]);
    // Number 10 back from the source for another key: a new flow, not flow 1's counts.
    table.merge([delta(4, 10, 20_000), delta(5, 13, 20_000)]);
    expect(numbering.numbers).toEqual([10, 11]);
    expect(table.releaseAll().map((record) => [record.key.sourcePort, record.packets])).toEqual([
      [3, 1],
      [4, 1],
      [5, 1],
    ]);
    expect(numbering.numbers).toEqual([10, 11, 12, 10, 13]);
  });

  it('expires flows in the order they arrived, and keeps that order when some leave from the middle', () => {
    const table = new FlowTable(limits, new ReleasedNumbers());
    const ports = [1, 2, 3, 4, 5];
    table.merge(ports.map((sourcePort) => flowDelta({ key: flowKey({ sourcePort }), firstMs: 0, lastMs: sourcePort % 2 === 0 ? 1_000 : 30_000 })));
    expect(table.expire(16_000).map((record) => record.key.sourcePort)).toEqual([2, 4]);
    table.merge([flowDelta({ key: flowKey({ sourcePort: 6 }), firstMs: 0, lastMs: 30_000 })]);
    expect(table.releaseAll().map((record) => record.key.sourcePort)).toEqual([1, 3, 5, 6]);
  });

  it('refuses a delta without a usable flow number, and gives back the number of a refused delta it does not hold', () => {
    const numbering = new ReleasedNumbers();
    const table = new FlowTable(limits, numbering);
    const { rejected } = table.merge([
      { ...flowDelta(), flowNumber: -1 },
      { ...flowDelta(), flowNumber: 1.5 },
      { ...flowDelta(), flowNumber: 2 ** 24 },
      { ...flowDelta({ packets: 0 }), flowNumber: 7 },
      { ...flowDelta(), flowNumber: 8 },
      { ...flowDelta({ packets: 0 }), flowNumber: 8 },
    ]);
    expect(Object.fromEntries(rejected)).toEqual({ flowNumber: 3, packets: 2 });
    expect(numbering.numbers).toEqual([7]);
    expect(table.size).toBe(1);
  });

  it('keeps every flow\'s counts apart as its index grows past its first size, numbers in any order', () => {
    const table = new FlowTable({ ...limits, maxFlows: 10_000 }, new ReleasedNumbers());
    const numbers = Array.from({ length: 5_000 }, (_, index) => (index * 7_919) % 5_000);
    const delta = (flowNumber: number, packets: number) => flowDelta({ key: flowKey({ sourcePort: flowNumber }), flowNumber, packets, firstMs: 0, lastMs: 0 });
    table.merge(numbers.map((flowNumber) => delta(flowNumber, 1)));
    table.merge(numbers.map((flowNumber) => delta(flowNumber, flowNumber + 1)));
    const released = table.releaseAll();
    expect(released.map((record) => record.key.sourcePort)).toEqual(numbers);
    expect(released.every((record) => record.packets === record.key.sourcePort + 2)).toBe(true);
  });

  it('rejects a bound below one', () => {
    expect(() => new FlowTable({ ...limits, maxFlows: 0 }, new ReleasedNumbers())).toThrow(RangeError);
  });
});

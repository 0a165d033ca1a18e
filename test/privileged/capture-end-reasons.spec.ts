import type { FlowKey } from '../../src/domain/flow/flow-key.js';
import { FlowTable } from '../../src/domain/flow/flow-table.js';
import { FlowEndReason, type FlowRecord } from '../../src/domain/flow/flow-record.js';
import { TcpFlag } from '../../src/domain/flow/flow-observation.js';
import { Lab, type LabPod } from '../lab/lab.js';
import { ping, sendUdp, tcpTransfer, type ExpectedFlow } from '../lab/traffic.js';
import { CaptureAgent, sleep } from '../support/capture-agent.js';
import { ATTACH_MODES, describePrivileged } from '../support/privileges.js';

jest.setTimeout(120_000);

const LIMITS = { idleTimeoutMs: 400, activeTimeoutMs: 1500, endLingerMs: 200, maxFlows: 10_000 };

for (const { mode, unmet } of ATTACH_MODES) {
  describePrivileged(
    `end reasons on real traffic through the flow table (${mode})`,
    () => {
      let lab: Lab;
      let agent: CaptureAgent;
      let a: LabPod, b: LabPod;
      let table: FlowTable;
      let released: FlowRecord[];
      /** Numbers the table let go of since the last drain: the agent's source hears of them before the next drain. */
      let releasedNumbers: number[];
      /** The agent's numbering seen from here: each number's key, from the drained deltas. */
      let keys: Map<number, FlowKey>;

      /** One drain cycle as the pipeline runs it: merge the drained deltas, then expire. */
      async function cycle(): Promise<void> {
        await agent.release(releasedNumbers.splice(0));
        const drain = await agent.drain();
        for (const delta of drain.deltas) keys.set(delta.flowNumber, delta.key);
        const merged = table.merge(drain.deltas);
        expect(merged.rejected.size).toBe(0);
        released.push(...merged.released, ...table.expire(Date.now()));
      }

      /** Cycles until the sender-side observation of `flow` is released; returns its records. */
      async function releasedRecords(flow: Pick<ExpectedFlow, 'sourceAddress' | 'sourcePort' | 'destinationPort' | 'protocol'>, interfaceName: string): Promise<FlowRecord[]> {
        for (let attempt = 0; attempt < 100; attempt++) {
          const records = released.filter(
            (record) =>
              record.interfaceName === interfaceName &&
              record.key.sourceAddress === flow.sourceAddress &&
              record.key.sourcePort === flow.sourcePort &&
              record.key.destinationPort === flow.destinationPort &&
              record.key.protocol === flow.protocol,
          );
          if (records.length > 0) return records;
          await sleep(100);
          await cycle();
        }
        throw new Error(`flow ${JSON.stringify(flow)} never released`);
      }

      beforeAll(async () => {
        lab = await Lab.create({ pods: 2 });
        [a, b] = lab.podList;
        agent = CaptureAgent.start(lab, { EBPF_ATTACH_MODE: mode });
        await agent.waitUntilReady();
        await agent.waitUntilAttached(lab.podList);
      });

      beforeEach(async () => {
        await agent.drain();
        releasedNumbers = [];
        keys = new Map();
        table = new FlowTable(LIMITS, { keyOf: (flowNumber) => keys.get(flowNumber)!, release: (flowNumber) => releasedNumbers.push(flowNumber) });
        released = [];
      });

      afterAll(async () => {
        await agent?.stop();
        await lab?.destroy();
      });

      it('ends a UDP flow that goes quiet by idle timeout, with all its packets', async () => {
        const flow = await sendUdp(lab, a, b, { family: 4, count: 50, payloadBytes: 64, sourcePort: 44_000, destinationPort: 5005 });
        const [record] = await releasedRecords(flow, a.hostInterface);
        expect(record).toMatchObject({ endReason: FlowEndReason.IdleTimeout, packets: flow.packets, octets: flow.octets });
      });

      it('releases a long-lived flow by active timeout while it still runs', async () => {
        const pinging = ping(lab, a, b, { family: 4, count: 60, payloadBytes: 56, intervalSeconds: 0.05 });
        const echo = { sourceAddress: a.ipv4, sourcePort: 0, destinationPort: 0, protocol: 1 };
        const [first] = await releasedRecords(echo, a.hostInterface);
        await pinging;
        expect(first.endReason).toBe(FlowEndReason.ActiveTimeout);
      });

      it.each(['fin', 'rst'] as const)('ends a TCP connection closed with %s as end of flow', async (serverEnd) => {
        const port = serverEnd === 'fin' ? 5006 : 5007;
        const transfer = await tcpTransfer(lab, a, b, { family: 4, bytes: 64 << 10, port, serverEnd });
        expect(transfer.serverReset).toBe(serverEnd === 'rst');
        // The server's side of the connection, seen where the server pod sends.
        const [record] = await releasedRecords({ sourceAddress: b.ipv4, sourcePort: port, destinationPort: transfer.sourcePort, protocol: 6 }, b.hostInterface);
        expect(record.endReason).toBe(FlowEndReason.EndOfFlow);
        expect(record.tcpFlags & (serverEnd === 'fin' ? TcpFlag.Fin : TcpFlag.Rst)).not.toBe(0);
      });
    },
    { unmet },
  );
}

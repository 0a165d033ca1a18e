import { Lab } from '../lab/lab.js';
import { sendUdp } from '../lab/traffic.js';
import { CaptureAgent } from '../support/capture-agent.js';
import { bothObservations, ObservedFlows } from '../support/flow-observations.js';
import { ATTACH_MODES, describePrivileged } from '../support/privileges.js';

jest.setTimeout(180_000);

const BURST_PACKETS = 300_000;

for (const { mode, unmet } of ATTACH_MODES) {
  describePrivileged(
    `a ${BURST_PACKETS}-packet burst while drains run (${mode})`,
    () => {
      let lab: Lab;
      let agent: CaptureAgent;

      beforeAll(async () => {
        lab = await Lab.create({ pods: 2 });
        agent = CaptureAgent.start(lab, { EBPF_ATTACH_MODE: mode });
        await agent.waitUntilReady();
        await agent.waitUntilAttached(lab.podList);
      });

      afterAll(async () => {
        await agent?.stop();
        await lab?.destroy();
      });

      it('loses nothing: every packet is in exactly one drain', async () => {
        const [a, b] = lab.podList;
        await agent.drain();
        const observed = new ObservedFlows();
        let sending = true;
        let drains = 0;
        // Drain back to back for as long as the sender runs: every swap races live updates.
        const draining = (async () => {
          while (sending) {
            await observed.drainFrom(agent);
            drains++;
          }
        })();
        const flow = await sendUdp(lab, a, b, { family: 4, count: BURST_PACKETS, payloadBytes: 18, sourcePort: 43_000, destinationPort: 5004 }).finally(() => (sending = false));
        await draining;
        await observed.drainFrom(agent);
        expect(drains).toBeGreaterThan(1);
        expect(observed.drops).toEqual({});
        expect(observed.of(flow)).toEqual(bothObservations(flow, a.hostInterface, b.hostInterface));
      });
    },
    { unmet },
  );
}

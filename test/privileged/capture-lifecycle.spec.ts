import { Lab, run } from '../lab/lab.js';
import { sendUdp } from '../lab/traffic.js';
import { CaptureAgent, sleep } from '../support/capture-agent.js';
import { bothObservations, ObservedFlows } from '../support/flow-observations.js';
import { ATTACH_MODES, describePrivileged } from '../support/privileges.js';

jest.setTimeout(120_000);

/** Our clsact filters on one hook of an interface: the program id of each. */
async function tcFilterPrograms(lab: Lab, hostInterface: string, hook: 'ingress' | 'egress'): Promise<number[]> {
  const output = await lab.exec(lab.nodeNamespace, 'tc', ['filter', 'show', 'dev', hostInterface, hook]);
  return [...output.matchAll(/ handle \S+ .* id (\d+)/g)].map((match) => Number(match[1]));
}

/** Loaded capture programs anywhere on the machine (the tests run serially). */
async function loadedCapturePrograms(): Promise<number[]> {
  const programs = JSON.parse(await run('bpftool', ['prog', 'show', '-j'])) as Array<{ id: number; name?: string }>;
  return programs.filter((program) => program.name?.startsWith('flow_capture_')).map((program) => program.id);
}

async function eventuallyEmpty(read: () => Promise<unknown[]>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await read()).length === 0) return;
    await sleep(50);
  }
  throw new Error(`${what} still present: ${JSON.stringify(await read())}`);
}

for (const { mode, unmet } of ATTACH_MODES) {
  describePrivileged(
    `capture lifecycle (${mode})`,
    () => {
      let lab: Lab;

      beforeEach(async () => {
        lab = await Lab.create({ pods: 2 });
      });

      afterEach(async () => {
        await lab?.destroy();
      });

      it('attaches to a pod that appears, releases one that goes, and leaves nothing after SIGTERM', async () => {
        const agent = CaptureAgent.start(lab, { EBPF_ATTACH_MODE: mode });
        let ourPrograms: number[] = [];
        try {
          await agent.waitUntilReady();
          const [a, b] = lab.podList;
          await agent.waitUntilAttached([b]);

          const c = await lab.addPod();
          await agent.waitUntilAttached([c]);
          await agent.drain();
          const flow = await sendUdp(lab, a, c, { family: 4, count: 300, payloadBytes: 100, sourcePort: 42_000, destinationPort: 5002 });
          const observed = new ObservedFlows();
          await observed.drainFrom(agent);
          expect(observed.of(flow)).toEqual(bothObservations(flow, a.hostInterface, c.hostInterface));

          await lab.removePod(c);
          const detached = await agent.waitForLog(new RegExp(`Detached eBPF program from ${c.hostInterface}$`));
          expect(detached.fields).toMatchObject({ interface: c.hostInterface });
          expect((await agent.health()).details).toMatchObject({ attachedInterfaces: [a.hostInterface, b.hostInterface] });
          ourPrograms = await loadedCapturePrograms();
          expect(ourPrograms).toHaveLength(2);
        } finally {
          expect(await agent.stop('SIGTERM')).toEqual({ code: 0, signal: null });
        }
        await eventuallyEmpty(loadedCapturePrograms, 'capture programs');
        for (const pod of lab.podList) {
          expect(await tcFilterPrograms(lab, pod.hostInterface, 'ingress')).toEqual([]);
          expect(await tcFilterPrograms(lab, pod.hostInterface, 'egress')).toEqual([]);
        }
        const links = JSON.parse(await run('bpftool', ['link', 'show', '-j'])) as Array<{ prog_id: number }>;
        expect(links.filter((link) => ourPrograms.includes(link.prog_id))).toEqual([]);
        if (mode === 'tc') {
          // The clsact qdisc may hold other agents' filters: it stays.
          const qdiscs = await lab.exec(lab.nodeNamespace, 'tc', ['qdisc', 'show', 'dev', lab.podList[0].hostInterface]);
          expect(qdiscs).toContain('clsact');
        }
      });

      it('after SIGKILL, the next start takes over cleanly with exact counts', async () => {
        const [a, b] = lab.podList;
        const killed = CaptureAgent.start(lab, { EBPF_ATTACH_MODE: mode });
        await killed.waitUntilReady();
        await killed.waitUntilAttached([b]);
        const oldPrograms = await loadedCapturePrograms();
        expect(await killed.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
        if (mode === 'tc') {
          // clsact filters outlive the process and keep its program alive...
          expect(await tcFilterPrograms(lab, a.hostInterface, 'ingress')).toHaveLength(1);
        } else {
          // ...TCX links die with their file descriptors.
          await eventuallyEmpty(loadedCapturePrograms, 'capture programs');
        }

        const agent = CaptureAgent.start(lab, { EBPF_ATTACH_MODE: mode });
        try {
          await agent.waitUntilReady();
          await agent.waitUntilAttached([b]);
          for (const pod of lab.podList) {
            for (const hook of ['ingress', 'egress'] as const) {
              const filters = await tcFilterPrograms(lab, pod.hostInterface, hook);
              // ...until the next start replaces them: one filter per hook, running the new program.
              expect(filters).toHaveLength(mode === 'tc' ? 1 : 0);
              for (const id of filters) expect(oldPrograms).not.toContain(id);
            }
          }
          await eventuallyEmpty(async () => (await loadedCapturePrograms()).filter((id) => oldPrograms.includes(id)), 'the killed agent programs');
          await agent.drain();
          const flow = await sendUdp(lab, a, b, { family: 6, count: 400, payloadBytes: 300, sourcePort: 42_001, destinationPort: 5003 });
          const observed = new ObservedFlows();
          await observed.drainFrom(agent);
          expect(observed.of(flow)).toEqual(bothObservations(flow, a.hostInterface, b.hostInterface));
        } finally {
          await agent.stop('SIGTERM');
        }
        await eventuallyEmpty(loadedCapturePrograms, 'capture programs');
      });
    },
    { unmet },
  );
}

import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { InterfaceWatcher } from '../../src/adapters/capture/interface-watcher.js';

jest.setTimeout(30_000);

/** Pids of this process's `ip monitor link` children. */
function linkMonitors(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (parent === process.pid && command === 'ip monitor link') pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function eventually<T>(read: () => T, done: (value: T) => boolean, what: string): Promise<T> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const value = read();
    if (done(value)) return value;
    await sleep(50);
  }
  throw new Error(`${what}: still ${JSON.stringify(read())}`);
}

describe('InterfaceWatcher', () => {
  it('restarts a link monitor that died, reports it, and rescans for what it missed', async () => {
    let scans = 0;
    const errors: unknown[] = [];
    const watcher = new InterfaceWatcher(
      undefined,
      async () => undefined,
      (error) => errors.push(error),
      async () => {
        scans++;
        return [];
      },
    );
    await watcher.start();
    try {
      const [first] = await eventually(linkMonitors, (pids) => pids.length === 1, 'one link monitor');
      const scansBefore = scans;
      process.kill(first, 'SIGKILL');
      await eventually(() => errors.map(String), (messages) => messages.some((message) => /ip monitor link exited \(SIGKILL\); restarting it/.test(message)), 'the exit reported');
      const [second] = await eventually(linkMonitors, (pids) => pids.length === 1 && pids[0] !== first, 'a new link monitor');
      await eventually(() => scans, (count) => count > scansBefore, 'a rescan after the restart');
      expect(second).not.toBe(first);
      expect(errors).toHaveLength(1);
    } finally {
      await watcher.stop();
    }
    await eventually(linkMonitors, (pids) => pids.length === 0, 'no link monitor after stop');
  });
});

import { spawnSync } from 'node:child_process';
import { Lab, LAB_PREFIX, labNamespaces, run } from '../lab/lab.js';
import { sendUdp } from '../lab/traffic.js';
import { describePrivileged } from '../support/privileges.js';

jest.setTimeout(60_000);

/** The pid of a process that has already exited: its namespaces are leftovers. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

describePrivileged('the lab', () => {
  it('builds a node with pods that reach each other over IPv4 and IPv6, and tears it all down', async () => {
    const lab = await Lab.create({ pods: 2 });
    try {
      const namespaces = await labNamespaces();
      expect(namespaces).toEqual(expect.arrayContaining([lab.nodeNamespace, ...lab.podList.map((pod) => pod.namespace)]));
      const [a, b] = lab.podList;
      // Each pod's host-side veth lives in the node namespace with its peer elsewhere, as a CNI leaves it.
      const links = JSON.parse(await lab.exec(lab.nodeNamespace, 'ip', ['-d', '-j', 'link', 'show', a.hostInterface]));
      expect(links[0]).toMatchObject({ linkinfo: { info_kind: 'veth' }, link_netnsid: expect.any(Number) });
      for (const family of [4, 6] as const) {
        const flow = await sendUdp(lab, a, b, { family, count: 10, payloadBytes: 10, sourcePort: 45_000, destinationPort: 5008 });
        expect(flow.packets).toBe(10);
      }
    } finally {
      await lab.destroy();
      await lab.destroy();
    }
    expect((await labNamespaces()).filter((name) => name.startsWith(`${lab.id}-`))).toEqual([]);
  });

  it('removes leftovers of killed runs, and only those', async () => {
    const leftover = `${LAB_PREFIX}${deadPid()}-dead00-node`;
    await run('ip', ['netns', 'add', leftover]);
    const live = await Lab.create({ pods: 1 });
    try {
      const remaining = await labNamespaces();
      expect(remaining).not.toContain(leftover);
      expect(remaining).toContain(live.nodeNamespace);
    } finally {
      await live.destroy();
    }
  });

  it('removes a pod and its veth pair', async () => {
    const lab = await Lab.create({ pods: 2 });
    try {
      const [, b] = lab.podList;
      await lab.removePod(b);
      const links = JSON.parse(await lab.exec(lab.nodeNamespace, 'ip', ['-j', 'link', 'show'])) as Array<{ ifname: string }>;
      expect(links.map((link) => link.ifname)).not.toContain(b.hostInterface);
      expect(await labNamespaces()).not.toContain(b.namespace);
    } finally {
      await lab.destroy();
    }
  });
});

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Lab, LAB_PREFIX, labNamespaces, run } from '../lab/lab.js';
import { sendUdp, sendUdpToService, tcpTransferToService } from '../lab/traffic.js';
import { describePrivileged } from '../support/privileges.js';

jest.setTimeout(60_000);

/** The pid of a process that has already exited: its namespaces are leftovers. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

const ROOT = resolve(__dirname, '../..');

/** A process that builds a lab with a Service, prints the lab's namespaces, and waits to be killed. */
function startLabOwner() {
  const script = `
    const { Lab, labNamespaces } = require(${JSON.stringify(resolve(ROOT, 'test/lab/lab.ts'))});
    (async () => {
      const lab = await Lab.create({ pods: 2 });
      await lab.addClusterIpService({ name: 'web', backend: lab.podList[1], ports: [{ protocol: 'tcp', port: 80, targetPort: 8080 }] });
      console.log(JSON.stringify((await labNamespaces()).filter((name) => name.startsWith(lab.id + '-'))));
      setInterval(() => {}, 1000);
    })();`;
  return spawn(process.execPath, ['-r', resolve(ROOT, 'test/support/swc-register.js'), '-e', script], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' } });
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

  it('removes the whole lab of a killed run, Service rules included, on the next start', async () => {
    const owner = startLabOwner();
    const [line] = (await once(createInterface({ input: owner.stdout! }), 'line')) as [string];
    const ownedNamespaces = JSON.parse(line) as string[];
    expect(ownedNamespaces).toHaveLength(3);
    owner.kill('SIGKILL');
    await once(owner, 'exit');
    expect(await labNamespaces()).toEqual(expect.arrayContaining(ownedNamespaces));

    const next = await Lab.create({ pods: 1 });
    try {
      const remaining = await labNamespaces();
      for (const namespace of ownedNamespaces) expect(remaining).not.toContain(namespace);
    } finally {
      await next.destroy();
    }
  });

  it('routes pods through the node gateway and translates a ClusterIP to its backend pod, like kube-proxy', async () => {
    const lab = await Lab.create({ pods: 2 });
    try {
      const [client, backend] = lab.podList;
      const service = await lab.addClusterIpService({
        name: 'web',
        backend,
        ports: [
          { protocol: 'tcp', port: 80, targetPort: 8080 },
          { protocol: 'udp', port: 53, targetPort: 5353 },
        ],
      });
      expect(lab.service('web')).toBe(service);
      const rules = await lab.exec(lab.nodeNamespace, 'iptables', ['-t', 'nat', '-S']);
      expect(rules).toContain('-A PREROUTING -j KUBE-SERVICES');
      expect(rules).toContain(`-A KUBE-SERVICES -d ${service.clusterIpv4}/32 -p tcp -m tcp --dport 80`);
      for (const family of [4, 6] as const) {
        // TCP needs the replies un-NATed too: the connection completes only if the ClusterIP answers.
        const transfer = await tcpTransferToService(lab, client, service, { family, bytes: 64 << 10, port: 80 });
        expect(transfer).toMatchObject({ payloadBytes: 64 << 10, retransmittedBytes: 0, serverReset: false });
        const stream = await sendUdpToService(lab, client, service, { family, count: 20, payloadBytes: 100, sourcePort: 46_000, port: 53 });
        expect(stream.delivered).toBe(20);
        expect(stream.backend.destinationAddress).toBe(family === 4 ? backend.ipv4 : backend.ipv6);
      }
    } finally {
      await lab.destroy();
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

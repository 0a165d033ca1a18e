import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Every lab namespace starts with this; the creating process id follows, so leftovers of dead runs are recognisable. */
export const LAB_PREFIX = 'fxlab-';

/** The node's bridge and pod addressing (documentation/ULA ranges, never routed off the machine). */
const BRIDGE = 'br0';
/** IGMPv3/MLDv2 unsolicited report interval (1 s) × robustness (2), with margin. */
const BACKGROUND_REPORTS_SETTLE_MS = 2_500;
const IPV4_PREFIX = '10.244.0.';
const IPV6_PREFIX = 'fd00:244::';
const GATEWAY_HOST = 1;
/** Service ClusterIPs, from Kubernetes' default service CIDR (10.96.0.0/12) and a ULA twin; no interface holds them. */
const CLUSTER_IPV4_PREFIX = '10.96.0.';
const CLUSTER_IPV6_PREFIX = 'fd00:96::';
const FIRST_CLUSTER_HOST = 10;
/** kube-proxy's entry chain in the nat table. */
const SERVICES_CHAIN = 'KUBE-SERVICES';

export interface LabPod {
  readonly name: string;
  /** The pod's network namespace; eth0 inside it. */
  readonly namespace: string;
  /** The host-side veth in the node namespace, which capture attaches to. */
  readonly hostInterface: string;
  readonly ipv4: string;
  readonly ipv6: string;
}

export type ServiceProtocol = 'tcp' | 'udp';

export interface LabServicePort {
  readonly protocol: ServiceProtocol;
  /** The ClusterIP port clients connect to. */
  readonly port: number;
  /** The backend pod's port the connection is translated to. */
  readonly targetPort: number;
}

/** A ClusterIP Service with one backend pod, translated like kube-proxy's iptables mode. */
export interface LabService {
  readonly name: string;
  readonly clusterIpv4: string;
  readonly clusterIpv6: string;
  readonly backend: LabPod;
  readonly ports: readonly LabServicePort[];
}

/** Runs a command, failing with its stderr. */
export async function run(command: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { maxBuffer: 64 << 20 });
    return stdout;
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr?.trim() || (error as Error).message}`);
  }
}

/**
 * A Kubernetes node without a cluster: a "node" network namespace with a bridge,
 * and pod namespaces whose eth0 is one end of a veth pair, the other end moved
 * into the node namespace as a CNI does. IPv4 10.244.0.x/24 and IPv6
 * fd00:244::x/64 (no DAD). The node is the pods' gateway (default route, with
 * forwarding on), and addClusterIpService() translates a ClusterIP to a backend
 * pod as kube-proxy does. Names are unique per run, so test files can run side
 * by side; destroy() is idempotent, and removeLeftovers() cleans up after runs
 * that were killed.
 */
export class Lab {
  private readonly pods = new Map<string, LabPod>();
  private readonly services = new Map<string, LabService>();
  private readonly children = new Set<ChildProcess>();
  private nextHost = GATEWAY_HOST + 1;
  private nextClusterHost = FIRST_CLUSTER_HOST;
  private destroyed = false;

  private constructor(readonly id: string) {}

  get nodeNamespace(): string {
    return `${this.id}-node`;
  }

  get podList(): LabPod[] {
    return [...this.pods.values()];
  }

  get serviceList(): LabService[] {
    return [...this.services.values()];
  }

  static async create(options: { pods?: number } = {}): Promise<Lab> {
    await Lab.removeLeftovers();
    const lab = new Lab(`${LAB_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`);
    try {
      await run('ip', ['netns', 'add', lab.nodeNamespace]);
      const node = ['-n', lab.nodeNamespace];
      await run('ip', [...node, 'link', 'set', 'lo', 'up']);
      await run('ip', [...node, 'link', 'add', BRIDGE, 'type', 'bridge']);
      await run('ip', [...node, 'addr', 'add', `${IPV4_PREFIX}${GATEWAY_HOST}/24`, 'dev', BRIDGE]);
      await run('ip', [...node, '-6', 'addr', 'add', `${IPV6_PREFIX}${GATEWAY_HOST}/64`, 'dev', BRIDGE, 'nodad']);
      await run('ip', [...node, 'link', 'set', BRIDGE, 'up']);
      // The gateway routes: traffic to a ClusterIP leaves the pod by its default route and comes back out of br0.
      await lab.exec(lab.nodeNamespace, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
      for (let index = 0; index < (options.pods ?? 2); index++) await lab.addPod();
    } catch (error) {
      await lab.destroy();
      throw error;
    }
    return lab;
  }

  /** Creates a pod: veth made inside the pod namespace, its peer moved to the node and joined to the bridge. */
  async addPod(): Promise<LabPod> {
    const host = this.nextHost++;
    const pod: LabPod = {
      name: `pod${host}`,
      namespace: `${this.id}-pod${host}`,
      hostInterface: `vethpod${host}`,
      ipv4: `${IPV4_PREFIX}${host}`,
      ipv6: `${IPV6_PREFIX}${host}`,
    };
    await run('ip', ['netns', 'add', pod.namespace]);
    this.pods.set(pod.name, pod);
    const inPod = ['-n', pod.namespace];
    await run('ip', [...inPod, 'link', 'set', 'lo', 'up']);
    await run('ip', [...inPod, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', pod.hostInterface]);
    await run('ip', [...inPod, 'link', 'set', pod.hostInterface, 'netns', this.nodeNamespace]);
    await run('ip', [...inPod, 'addr', 'add', `${pod.ipv4}/24`, 'dev', 'eth0']);
    await run('ip', [...inPod, '-6', 'addr', 'add', `${pod.ipv6}/64`, 'dev', 'eth0', 'nodad']);
    await run('ip', [...inPod, 'link', 'set', 'eth0', 'up']);
    await run('ip', [...inPod, 'route', 'add', 'default', 'via', `${IPV4_PREFIX}${GATEWAY_HOST}`]);
    await run('ip', [...inPod, '-6', 'route', 'add', 'default', 'via', `${IPV6_PREFIX}${GATEWAY_HOST}`]);
    await run('ip', ['-n', this.nodeNamespace, 'link', 'set', pod.hostInterface, 'master', BRIDGE, 'up']);
    return pod;
  }

  /**
   * Deletes a pod's veth pair, then its namespace. The kernel dismantles a deleted
   * namespace later, on a work queue, so the explicit link delete (what a CNI's DEL
   * does) is what makes the host veth gone when this returns.
   */
  async removePod(pod: LabPod): Promise<void> {
    this.pods.delete(pod.name);
    await run('ip', ['-n', pod.namespace, 'link', 'del', 'eth0']);
    await deleteNamespace(pod.namespace);
  }

  /**
   * A ClusterIP Service whose one endpoint is `backend`: nat-table rules in the node
   * namespace, as kube-proxy's iptables mode installs them (PREROUTING and OUTPUT
   * jump to KUBE-SERVICES, which DNATs ClusterIP:port to the pod's IP:targetPort),
   * for IPv4 and IPv6. Replies between two pods on the bridge are bridged, not
   * routed, so they are un-NATed only because the node calls iptables for bridged
   * traffic (br_netfilter, bridge-nf-call-ip(6)tables: per namespace, on by
   * default) — the same requirement Kubernetes has for bridge CNIs.
   */
  async addClusterIpService(options: { name: string; backend: LabPod; ports: readonly LabServicePort[] }): Promise<LabService> {
    const host = this.nextClusterHost++;
    const service: LabService = { ...options, clusterIpv4: `${CLUSTER_IPV4_PREFIX}${host}`, clusterIpv6: `${CLUSTER_IPV6_PREFIX}${host}` };
    await this.checkBridgeCallsIptables();
    for (const [iptables, clusterIp, backendIp, bracket] of [
      ['iptables', service.clusterIpv4, options.backend.ipv4, (address: string) => address],
      ['ip6tables', service.clusterIpv6, options.backend.ipv6, (address: string) => `[${address}]`],
    ] as const) {
      await this.ensureServiceChain(iptables);
      for (const { protocol, port, targetPort } of options.ports) {
        await this.exec(this.nodeNamespace, iptables, [
          '-t', 'nat', '-A', SERVICES_CHAIN, '-d', clusterIp, '-p', protocol, '--dport', String(port),
          '-m', 'comment', '--comment', `${options.name}:${protocol}/${port}`,
          '-j', 'DNAT', '--to-destination', `${bracket(backendIp)}:${targetPort}`,
        ]);
      }
    }
    this.services.set(service.name, service);
    return service;
  }

  service(name: string): LabService {
    const service = this.services.get(name);
    if (service === undefined) throw new Error(`no service ${name} in ${this.id}`);
    return service;
  }

  private async ensureServiceChain(iptables: 'iptables' | 'ip6tables'): Promise<void> {
    const nat = (...args: string[]) => this.exec(this.nodeNamespace, iptables, ['-t', 'nat', ...args]);
    if ((await nat('-S')).includes(`-N ${SERVICES_CHAIN}`)) return;
    await nat('-N', SERVICES_CHAIN);
    await nat('-A', 'PREROUTING', '-j', SERVICES_CHAIN);
    await nat('-A', 'OUTPUT', '-j', SERVICES_CHAIN);
  }

  private async checkBridgeCallsIptables(): Promise<void> {
    for (const family of ['iptables', 'ip6tables']) {
      const setting = (await this.exec(this.nodeNamespace, 'sysctl', ['-n', `net.bridge.bridge-nf-call-${family}`]).catch(() => '')).trim();
      if (setting !== '1') throw new Error(`ClusterIP replies between pods need br_netfilter with net.bridge.bridge-nf-call-${family}=1 (have '${setting}'): modprobe br_netfilter`);
    }
  }

  pod(name: string): LabPod {
    const pod = this.pods.get(name);
    if (pod === undefined) throw new Error(`no pod ${name} in ${this.id}`);
    return pod;
  }

  /**
   * Stops the traffic the lab makes by itself, for tests that account for every
   * packet: IPv6 (router solicitations, MLD reports) everywhere, and IGMP reports
   * from the bridge and the pods (multicast off). Pods added later are not covered.
   */
  async silenceBackgroundTraffic(): Promise<void> {
    for (const namespace of [this.nodeNamespace, ...this.podList.map((pod) => pod.namespace)]) {
      await this.exec(namespace, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
    }
    await run('ip', ['-n', this.nodeNamespace, 'link', 'set', BRIDGE, 'multicast', 'off']);
    for (const pod of this.podList) await run('ip', ['-n', pod.namespace, 'link', 'set', 'eth0', 'multicast', 'off']);
    // Reports already scheduled (and the leave reports this triggers) still go out within the
    // unsolicited report interval (1 s, sent twice for robustness): let them pass first.
    await new Promise((resolve) => setTimeout(resolve, BACKGROUND_REPORTS_SETTLE_MS));
  }

  /** Runs a command inside a namespace of this lab. */
  exec(namespace: string, command: string, args: readonly string[]): Promise<string> {
    return run('ip', ['netns', 'exec', namespace, command, ...args]);
  }

  /** Starts a long-running command inside a namespace of this lab; destroy() kills it if it still runs. */
  spawn(namespace: string, command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', namespace, command, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /**
   * Kills what still runs in the lab, then removes every namespace of it; safe to
   * call twice. (A deleted namespace lives on as long as a process is inside it.)
   */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const child of this.children) child.kill('SIGKILL');
    for (const namespace of await labNamespaces()) if (namespace.startsWith(`${this.id}-`)) await deleteNamespace(namespace);
    this.pods.clear();
    this.services.clear();
  }

  /** Removes namespaces of labs whose creating process is gone (killed test runs). */
  static async removeLeftovers(): Promise<string[]> {
    const removed: string[] = [];
    for (const namespace of await labNamespaces()) {
      const pid = Number(/^fxlab-(\d+)-/.exec(namespace)?.[1]);
      if (Number.isInteger(pid) && !processAlive(pid)) {
        await deleteNamespace(namespace);
        removed.push(namespace);
      }
    }
    return removed;
  }
}

export async function labNamespaces(): Promise<string[]> {
  const output = await run('ip', ['-json', 'netns', 'list']);
  const namespaces = output.trim() === '' ? [] : (JSON.parse(output) as Array<{ name: string }>);
  return namespaces.map((namespace) => namespace.name).filter((name) => name.startsWith(LAB_PREFIX));
}

async function deleteNamespace(namespace: string): Promise<void> {
  try {
    await run('ip', ['netns', 'del', namespace]);
  } catch (error) {
    if (!/No such file|not found|Invalid/.test((error as Error).message)) throw error;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

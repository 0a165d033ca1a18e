import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

export interface NetworkInterface {
  readonly index: number;
  readonly name: string;
}

/** The fields of `ip -d -j link show` that decide whether an interface is monitored. */
export interface LinkDetails {
  readonly ifindex: number;
  readonly ifname: string;
  readonly link_type?: string;
  readonly link_netnsid?: number;
  readonly linkinfo?: { readonly info_kind?: string };
}

export interface InterfaceChanges {
  readonly added: NetworkInterface[];
  readonly removed: NetworkInterface[];
}

const execFileAsync = promisify(execFile);

/** Lists this network namespace's links with their kind and peer namespace. */
export async function listLinks(): Promise<LinkDetails[]> {
  const { stdout } = await execFileAsync('ip', ['-details', '-json', 'link', 'show'], { maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as LinkDetails[];
}

/**
 * Which links to capture on. By default: host-side veths whose peer lives in another
 * network namespace (a pod's), judged by link kind and peer, never by name. A filter
 * (EBPF_INTERFACE_FILTER) replaces that rule: any Ethernet-type link whose name it
 * matches (unanchored). The program parses Ethernet, so other link types are never chosen.
 */
export function selectInterfaces(links: readonly LinkDetails[], filter: RegExp | undefined): NetworkInterface[] {
  return links
    .filter((link) =>
      filter !== undefined
        ? link.link_type === 'ether' && filter.test(link.ifname)
        : link.linkinfo?.info_kind === 'veth' && link.link_netnsid !== undefined,
    )
    .map((link) => ({ index: link.ifindex, name: link.ifname }));
}

/**
 * Polled as a safety net: `ip monitor link` makes changes show up at once, and a
 * scan spawns `ip` (~20 ms of CPU measured, a third of an idle agent's CPU at
 * one scan every 10 s).
 */
const RESCAN_INTERVAL_MS = 60_000;
/** A monitor that exited is started again after this long, with a scan for what it missed. */
const MONITOR_RESTART_DELAY_MS = 5_000;
/** Lets a burst of link events (a pod's veth pair being set up) settle into one scan. */
const MONITOR_SETTLE_MS = 100;

/**
 * Keeps the set of monitored interfaces current and reports what came and went.
 * Scans never overlap; a change noticed during a scan triggers one more.
 */
export class InterfaceWatcher {
  private readonly known = new Map<number, NetworkInterface>();
  private monitor: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescanRequested = false;
  private stopped = false;

  constructor(
    private readonly filter: RegExp | undefined,
    private readonly onChanges: (changes: InterfaceChanges) => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly list: () => Promise<LinkDetails[]> = listLinks,
  ) {}

  get interfaces(): NetworkInterface[] {
    return [...this.known.values()];
  }

  /** Scans once (awaited), then watches. */
  async start(): Promise<void> {
    await this.requestScan();
    if (this.stopped) return;
    this.timer = setInterval(() => void this.requestScan(), RESCAN_INTERVAL_MS);
    this.timer.unref();
    this.startMonitor();
  }

  private startMonitor(): void {
    const monitor = spawn('ip', ['monitor', 'link'], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.monitor = monitor;
    monitor.stdout?.on('data', () => {
      clearTimeout(this.settleTimer);
      this.settleTimer = setTimeout(() => void this.requestScan(), MONITOR_SETTLE_MS);
    });
    // A failed spawn emits 'error' and maybe 'exit': whichever comes first restarts it, once.
    const gone = (reason: unknown) => {
      if (this.stopped || this.monitor !== monitor) return;
      this.monitor = undefined;
      this.onError(reason);
      this.restartTimer = setTimeout(() => {
        if (this.stopped) return;
        this.startMonitor();
        void this.requestScan();
      }, MONITOR_RESTART_DELAY_MS);
    };
    monitor.on('error', gone);
    monitor.on('exit', (code, signal) => gone(new Error(`ip monitor link exited (${signal ?? `code ${code}`}); restarting it`)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.settleTimer);
    clearTimeout(this.restartTimer);
    this.monitor?.kill();
    this.monitor = undefined;
    await this.scanning;
  }

  /** Scans now, or once more after the scan in progress. */
  requestScan(): Promise<void> {
    if (this.scanning) {
      this.rescanRequested = true;
      return this.scanning;
    }
    this.scanning = this.scanUntilSettled().finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  private async scanUntilSettled(): Promise<void> {
    do {
      this.rescanRequested = false;
      if (this.stopped) return;
      try {
        await this.scan();
      } catch (error) {
        this.onError(error);
      }
    } while (this.rescanRequested);
  }

  private async scan(): Promise<void> {
    const current = new Map(selectInterfaces(await this.list(), this.filter).map((link) => [link.index, link]));
    const added = [...current.values()].filter((link) => this.known.get(link.index)?.name !== link.name);
    const removed = [...this.known.values()].filter((link) => current.get(link.index)?.name !== link.name);
    if (added.length === 0 && removed.length === 0) return;
    for (const link of removed) this.known.delete(link.index);
    for (const link of added) this.known.set(link.index, link);
    await this.onChanges({ added, removed });
  }
}

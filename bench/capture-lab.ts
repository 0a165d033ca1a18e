import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { run, type Lab, type LabPod } from '../test/lab/lab.js';

/**
 * What the capture benchmarks measure with: iperf3 load between lab pods, kernel
 * program run statistics (bpf_stats), process CPU and memory from /proc, and an
 * empty TC program attached like ours.
 */

export const ROOT = resolve(__dirname, '..');

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * A distribution-free ~95 % confidence interval for the median of `values`: the
 * order statistics k and n + 1 - k, with k from the normal approximation to the
 * binomial (n >= 10).
 */
export function medianInterval(values: readonly number[]): [number, number] {
  const sorted = [...values].sort((a, b) => a - b);
  const k = Math.max(1, Math.floor(sorted.length / 2 - 0.98 * Math.sqrt(sorted.length)));
  return [sorted[k - 1], sorted[sorted.length - k]];
}

// ---- load ----

export interface IperfResult {
  readonly seconds: number;
  /** UDP: datagrams the client sent and the server received. */
  readonly sentPackets: number;
  readonly receivedPackets: number;
  /** Receiver's goodput. */
  readonly bitsPerSecond: number;
  /** Share of the machine's CPU time the hypervisor gave to other guests during the run (steal). */
  readonly stolenShare: number;
}

const IPERF_PORT = 5201;

/** One iperf3 run from `from` to `to`: UDP with `udpPayload`-byte datagrams at full speed, or TCP bulk. */
export async function iperf(lab: Lab, from: LabPod, to: LabPod, options: { seconds: number; udpPayload?: number }): Promise<IperfResult> {
  const server = lab.spawn(to.namespace, 'iperf3', ['-s', '-1', '-B', to.ipv4, '-p', String(IPERF_PORT)]);
  // iperf3's banner is block-buffered on a pipe: wait for the listening socket instead.
  while ((await lab.exec(to.namespace, 'ss', ['-Hltn', `sport = :${IPERF_PORT}`])).trim() === '') await sleep(20);
  const mode = options.udpPayload === undefined ? [] : ['-u', '-l', String(options.udpPayload), '-b', '0'];
  const ticksBefore = machineTicks();
  const output = await lab.exec(from.namespace, 'iperf3', ['-c', to.ipv4, '-B', from.ipv4, '-p', String(IPERF_PORT), '-t', String(options.seconds), '-J', ...mode]);
  const stolenShare = stolenSince(ticksBefore);
  await exited(server);
  const report = JSON.parse(output);
  if (report.error !== undefined) throw new Error(`iperf3: ${report.error}`);
  const end = report.end;
  if (options.udpPayload !== undefined) {
    return { seconds: end.sum.seconds, sentPackets: end.sum.packets, receivedPackets: end.sum.packets - end.sum.lost_packets, bitsPerSecond: end.sum.bits_per_second, stolenShare };
  }
  return { seconds: end.sum_received.seconds, sentPackets: 0, receivedPackets: 0, bitsPerSecond: end.sum_received.bits_per_second, stolenShare };
}

/** The machine's CPU time by state (the "cpu" line of /proc/stat, in clock ticks). */
function machineTicks(): number[] {
  return readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
}

/** Steal ticks over all ticks since `before` (the 8th state is steal; guest time is already in user). */
function stolenSince(before: readonly number[]): number {
  const delta = machineTicks().map((ticks, index) => ticks - (before[index] ?? 0));
  const total = delta.slice(0, 8).reduce((sum, ticks) => sum + ticks, 0);
  return total === 0 ? 0 : delta[7] / total;
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
}

/** Packets the node received from a pod on its host veth (what reaches TC ingress). */
export async function hostVethReceived(lab: Lab, pod: LabPod): Promise<number> {
  const [link] = JSON.parse(await lab.exec(lab.nodeNamespace, 'ip', ['-s', '-j', 'link', 'show', pod.hostInterface]));
  return link.stats64.rx.packets;
}

// ---- kernel program statistics ----

export interface ProgramRuns {
  readonly runTimeNs: number;
  readonly runs: number;
}

interface BpftoolProgram {
  id: number;
  run_time_ns?: number;
  run_cnt?: number;
}

/**
 * Sets kernel.bpf_stats_enabled; the returned function restores the previous value.
 * The statistics cost two clock reads per program run, so rates are measured with them off.
 */
export function setBpfStats(enabled: boolean): () => void {
  const previous = readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
  execFileSync('sysctl', ['-q', '-w', `kernel.bpf_stats_enabled=${enabled ? 1 : 0}`]);
  return () => execFileSync('sysctl', ['-q', '-w', `kernel.bpf_stats_enabled=${previous}`]);
}

/** Summed run statistics of the programs `select` picks. */
export async function programRuns(select: (program: BpftoolProgram) => boolean): Promise<ProgramRuns> {
  const programs = (JSON.parse(await run('bpftool', ['prog', 'show', '-j'])) as BpftoolProgram[]).filter(select);
  return programs.reduce((sum, program) => ({ runTimeNs: sum.runTimeNs + (program.run_time_ns ?? 0), runs: sum.runs + (program.run_cnt ?? 0) }), { runTimeNs: 0, runs: 0 });
}

/** Ids of the programs on clsact hooks in the lab's node namespace. */
export async function labTcProgramIds(lab: Lab): Promise<Set<number>> {
  const [net] = JSON.parse(await lab.exec(lab.nodeNamespace, 'bpftool', ['net', 'show', '-j'])) as Array<{ tc: Array<{ id: number }> }>;
  return new Set(net.tc.map((hook) => hook.id));
}

export function runsBetween(before: ProgramRuns, after: ProgramRuns): ProgramRuns {
  return { runTimeNs: after.runTimeNs - before.runTimeNs, runs: after.runs - before.runs };
}

// ---- the empty program ----

/** Where the bench's own builds go: dist/bench-capture, never part of the product build. */
function benchBuildPath(name: string): string {
  mkdirSync(join(ROOT, 'dist/bench-capture'), { recursive: true });
  return join(ROOT, 'dist/bench-capture', name);
}

/** Compiles bench/empty-tc.bpf.c. */
export function buildEmptyProgram(): string {
  const output = benchBuildPath('empty-tc.bpf.o');
  const triplet = execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).trim() || 'x86_64-linux-gnu';
  execFileSync('clang', ['-O2', '-g', '-target', 'bpf', `-I/usr/include/${triplet}`, '-c', join(ROOT, 'bench/empty-tc.bpf.c'), '-o', output]);
  return output;
}

/** Attaches an object's "tc" program where the capture program's clsact mode goes: priority 1 on both hooks. */
export async function attachTcObject(lab: Lab, pods: readonly LabPod[], object: string): Promise<void> {
  for (const pod of pods) {
    await lab.exec(lab.nodeNamespace, 'tc', ['qdisc', 'replace', 'dev', pod.hostInterface, 'clsact']);
    for (const hook of ['ingress', 'egress']) {
      await lab.exec(lab.nodeNamespace, 'tc', ['filter', 'replace', 'dev', pod.hostInterface, hook, 'pref', '1', 'handle', '1', 'bpf', 'da', 'obj', object, 'sec', 'tc']);
    }
  }
}

export async function detachTcObject(lab: Lab, pods: readonly LabPod[]): Promise<void> {
  for (const pod of pods) for (const hook of ['ingress', 'egress']) await lab.exec(lab.nodeNamespace, 'tc', ['filter', 'del', 'dev', pod.hostInterface, hook, 'pref', '1']);
}

// ---- TCX links made and removed within one traffic stream ----

/** Compiles bench/tcx-toggle.c. */
export function buildTcxToggle(): string {
  const output = benchBuildPath('tcx-toggle');
  execFileSync('gcc', ['-O2', '-Wall', '-o', output, join(ROOT, 'bench/tcx-toggle.c'), '-lbpf']);
  return output;
}

/** Loads an object's program and pins it in bpffs, so that it lives (with an id) until `unpin`. */
export async function pinProgram(object: string): Promise<{ id: number; unpin: () => void }> {
  const pin = `/sys/fs/bpf/fx-bench-${process.pid}-${Date.now()}`;
  await run('bpftool', ['prog', 'load', object, pin, 'type', 'classifier']);
  const unpin = () => rmSync(pin, { force: true });
  try {
    const { id } = JSON.parse(await run('bpftool', ['prog', 'show', 'pinned', pin, '-j'])) as { id: number };
    return { id, unpin };
  } catch (error) {
    unpin();
    throw error;
  }
}

/** The id of the program called `name` (bpftool gives the whole name from BTF) among those a process holds. */
export async function programHeldBy(pid: number, name: string): Promise<number> {
  for (const id of bpfObjectsHeldBy(pid).programs.keys()) {
    const program = JSON.parse(await run('bpftool', ['prog', 'show', 'id', String(id), '-j'])) as { name: string };
    if (program.name === name) return id;
  }
  throw new Error(`process ${pid} holds no program called ${name}`);
}

/** Detaches every BPF link of the given programs (BPF_LINK_DETACH: the holder keeps a defunct link). */
export async function detachLinksOf(programIds: ReadonlySet<number>): Promise<number> {
  const links = (JSON.parse(await run('bpftool', ['link', 'show', '-j'])) as Array<{ id: number; prog_id: number }>).filter((link) => programIds.has(link.prog_id));
  for (const link of links) await run('bpftool', ['link', 'detach', 'id', String(link.id)]);
  return links.length;
}

/** bench/tcx-toggle.c in the lab's node namespace: TCX links on both hooks of the given veths, made and closed on command. */
export class TcxToggle {
  private readonly replies: AsyncIterator<string>;

  private constructor(private readonly child: ChildProcess) {
    this.replies = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  /** `counted` is the veth whose transmitted packets `measure` counts. */
  static start(lab: Lab, helper: string, counted: LabPod, attachedTo: readonly LabPod[]): TcxToggle {
    const child = lab.spawn(lab.nodeNamespace, helper, [counted.hostInterface, ...attachedTo.map((pod) => pod.hostInterface)]);
    child.stderr!.pipe(process.stderr);
    return new TcxToggle(child);
  }

  /** Links the programs in place of whatever was linked before. */
  async attach(ingressProgramId: number, egressProgramId: number): Promise<void> {
    const reply = await this.command(`attach ${ingressProgramId} ${egressProgramId}`);
    if (reply !== 'ok') throw new Error(`tcx-toggle attach: ${reply}`);
  }

  async detach(): Promise<void> {
    await this.command('detach');
  }

  /** Packets per second the counted veth passed into its pod over `milliseconds`. */
  async measure(milliseconds: number): Promise<number> {
    const [packets, nanoseconds] = (await this.command(`measure ${milliseconds}`)).split(' ').map(Number);
    return (packets / nanoseconds) * 1e9;
  }

  async stop(): Promise<void> {
    this.child.stdin!.end(); // the helper closes its links at end of input
    await exited(this.child);
  }

  private async command(line: string): Promise<string> {
    this.child.stdin!.write(`${line}\n`);
    const reply = await this.replies.next();
    if (reply.done) throw new Error(`tcx-toggle exited during "${line}"`);
    return reply.value;
  }
}

// ---- processes ----

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** Fields 3 onwards of /proc/pid/stat (the command name may contain spaces), or undefined once the process is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Nanoseconds on CPU of every live thread of a process (0 once it is gone). */
function threadRuntimeNs(pid: number): number {
  let total = 0;
  try {
    for (const thread of readdirSync(`/proc/${pid}/task`)) {
      // schedstat's first field: time on CPU, accounted at every switch (utime/stime are tick samples).
      total += Number(readFileSync(`/proc/${pid}/task/${thread}/schedstat`, 'utf8').split(' ')[0]);
    }
  } catch {
    // The process or a thread ended while being read.
  }
  return total;
}

/**
 * CPU seconds of a process and every descendant: all threads, the live children
 * (pmacctd's nfprobe plugin is a forked process) and, through cutime/cstime, the
 * children already reaped (our agent's `ip` link scans). Live threads are read
 * from schedstat: an agent using a few ms of CPU a second in wake-ups of ~100 µs
 * gets a handful of 4 ms tick samples in 5 s, so utime/stime would be ±40 %.
 */
export function cpuSeconds(pid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = Number(statFields(Number(entry))?.[1]);
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  let reapedTicks = 0;
  let liveNs = 0;
  for (const queue = [pid]; queue.length > 0; ) {
    const current = queue.pop()!;
    const fields = statFields(current);
    // cutime, cstime are fields 16–17; fields[0] here is field 3.
    if (fields !== undefined) reapedTicks += Number(fields[13]) + Number(fields[14]);
    liveNs += threadRuntimeNs(current);
    queue.push(...(children.get(current) ?? []));
  }
  return reapedTicks / CLOCK_TICKS_PER_SECOND + liveNs / 1e9;
}

export function residentBytes(pid: number): number {
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(rss) * 1024;
}

interface HeldBpfObjects {
  /** Program id -> run statistics. */
  readonly programs: Map<number, ProgramRuns>;
  /** Map id -> kernel memory (the kernel's memlock estimate). */
  readonly maps: Map<number, number>;
}

/**
 * The BPF programs and maps a process holds file descriptors to, read from
 * /proc/<pid>/fdinfo (this machine's bpftool lacks pid support).
 */
export function bpfObjectsHeldBy(pid: number): HeldBpfObjects {
  const held: HeldBpfObjects = { programs: new Map(), maps: new Map() };
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    let info: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (!target.startsWith('anon_inode:bpf-')) continue;
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed meanwhile
    }
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    if (target === 'anon_inode:bpf-prog') held.programs.set(field('prog_id'), { runTimeNs: field('run_time_ns'), runs: field('run_cnt') });
    if (target === 'anon_inode:bpf-map') held.maps.set(field('map_id'), field('memlock'));
  }
  return held;
}

/** Summed run statistics of the programs a process holds. */
export function programRunsHeldBy(pid: number): ProgramRuns {
  return [...bpfObjectsHeldBy(pid).programs.values()].reduce((sum, runs) => ({ runTimeNs: sum.runTimeNs + runs.runTimeNs, runs: sum.runs + runs.runs }), { runTimeNs: 0, runs: 0 });
}

export function mapBytesHeldBy(pid: number): number {
  return [...bpfObjectsHeldBy(pid).maps.values()].reduce((sum, bytes) => sum + bytes, 0);
}

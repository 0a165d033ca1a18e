import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { ComponentHealth } from '../../src/application/ports/component-health.js';
import type { FlowDelta } from '../../src/domain/flow/flow-observation.js';
import type { Lab, LabPod } from '../lab/lab.js';

export interface AgentLog {
  readonly level: string;
  readonly context?: string;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

export interface AgentDrain {
  readonly deltas: FlowDelta[];
  readonly entries: number;
  readonly capacity: number;
  readonly drops: Record<string, number>;
}

const ROOT = resolve(__dirname, '../..');

/** Far longer than any drain takes, even on a loaded machine; a drain that outlasts it is stuck. */
const DRAIN_DEADLINE_MS = 60_000;

/** Where each thread of a process waits (name, kernel wait channel and stack): tells a stuck syscall from a stuck event loop. */
function threadWaits(pid: number): string {
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch (error) {
      return `(${(error as Error).message})`;
    }
  };
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch (error) {
    return `(${(error as Error).message})`;
  }
  return tasks.map((tid) => `${tid} ${read(`/proc/${pid}/task/${tid}/comm`)} wchan=${read(`/proc/${pid}/task/${tid}/wchan`)}\n${read(`/proc/${pid}/task/${tid}/stack`)}`).join('\n');
}

/**
 * The capture adapter running in a child process inside the lab's node namespace
 * (Node cannot setns): see capture-agent.main.ts. Tests drain it, read its health
 * and logs, and stop it with SIGTERM or SIGKILL.
 */
export class CaptureAgent {
  readonly logs: AgentLog[] = [];
  private readonly pending = new Map<number, (reply: { result?: unknown; error?: string }) => void>();
  private nextId = 1;
  private readonly exited: Promise<[number | null, NodeJS.Signals | null]>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
    child.on('exit', () => {
      for (const settle of this.pending.values()) settle({ error: `agent exited: ${stderr}` });
      this.pending.clear();
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(line);
      } catch {
        return;
      }
      if (message.type === 'log') this.logs.push(message as unknown as AgentLog);
      if (message.type === 'reply') {
        this.pending.get(message.id as number)?.(message as { result?: unknown; error?: string });
        this.pending.delete(message.id as number);
      }
      if (process.env.CAPTURE_AGENT_ECHO) console.log(line);
    });
  }

  /** Starts the agent in the lab's node namespace with these environment overrides (EBPF_ATTACH_MODE, ...). */
  static start(lab: Lab, env: Record<string, string> = {}): CaptureAgent {
    const child = spawn(
      'ip',
      ['netns', 'exec', lab.nodeNamespace, process.execPath, '--no-experimental-strip-types', '-r', resolve(ROOT, 'test/support/swc-register.js'), resolve(ROOT, 'test/support/capture-agent.main.ts'), JSON.stringify(env)],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
    );
    return new CaptureAgent(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Drains the agent; a drain stuck past DRAIN_DEADLINE_MS fails with where the agent's threads wait. */
  async drain(): Promise<AgentDrain> {
    let deadline: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      deadline = setTimeout(() => {
        const logs = JSON.stringify(this.logs.slice(-10));
        reject(new Error(`drain still running after ${DRAIN_DEADLINE_MS} ms; agent threads:\n${threadWaits(this.pid)}\nlast logs: ${logs}`));
      }, DRAIN_DEADLINE_MS);
    });
    try {
      return (await Promise.race([this.request('drain'), stuck])) as AgentDrain;
    } finally {
      clearTimeout(deadline);
    }
  }

  health(): Promise<ComponentHealth> {
    return this.request('health') as Promise<ComponentHealth>;
  }

  /** Gives flow numbers back to the agent's source, as the flow table does when it lets go of flows. */
  async release(flowNumbers: readonly number[]): Promise<void> {
    await this.request('release', flowNumbers);
  }

  /** Polls health until ready (or throws with the last reason). */
  async waitUntilReady(timeoutMs = 30_000): Promise<ComponentHealth> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const health = await this.health();
      if (health.ready) return health;
      if (Date.now() > deadline) throw new Error(`capture agent not ready: ${health.reason} ${JSON.stringify(health.details)}`);
      await sleep(50);
    }
  }

  /** Waits until the agent logs its programs attached to each pod's host-side veth. */
  async waitUntilAttached(pods: readonly LabPod[]): Promise<void> {
    for (const pod of pods) await this.waitForLog(new RegExp(`Attached eBPF program to ${pod.hostInterface}$`));
  }

  /** Waits for a log line whose message matches. */
  async waitForLog(pattern: RegExp, timeoutMs = 15_000): Promise<AgentLog> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.find((log) => pattern.test(log.message));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no log matching ${pattern}; logs: ${JSON.stringify(this.logs.slice(-20))}`);
      await sleep(50);
    }
  }

  /** Sends a signal and waits for the exit: SIGTERM shuts down cleanly, SIGKILL leaves whatever the kernel keeps. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const [code, exitSignal] = await this.exited;
    return { code, signal: exitSignal };
  }

  private request(command: string, argument?: unknown): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolvePromise, reject) => {
      this.pending.set(id, (reply) => (reply.error !== undefined ? reject(new Error(reply.error)) : resolvePromise(reply.result)));
      this.child.stdin!.write(`${JSON.stringify({ id, command, argument })}\n`);
    });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

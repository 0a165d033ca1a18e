import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import type { Lab } from './lab.js';

/** Lines kept per process, to show what it said when something goes wrong. */
const KEPT_LINES = 200;

/**
 * A long-running program inside a lab namespace (`ip netns exec` execs it, so the
 * child is the program itself): its output lines, a wait for a line, and a stop
 * that escalates from SIGTERM to SIGKILL.
 */
export class LabProcess {
  readonly lines: string[] = [];
  private readonly exited: Promise<unknown>;
  private readonly listeners = new Set<(line: string) => void>();

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = once(child, 'exit');
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        if (this.lines.length > KEPT_LINES) this.lines.shift();
        for (const listener of this.listeners) listener(line);
      });
    }
  }

  /** `input`, when given, is written to the program's stdin, which is then closed. */
  static start(lab: Lab, namespace: string, name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv, input?: string): LabProcess {
    const child = lab.spawn(namespace, command, args, { env });
    if (input !== undefined) child.stdin!.end(input);
    return new LabProcess(name, child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Calls `listener` with every line from now on (stdout and stderr). */
  onLine(listener: (line: string) => void): void {
    this.listeners.add(listener);
  }

  /** Resolves when every pattern has matched a line (earlier lines count), or fails at the deadline or exit. */
  async waitForLines(patterns: readonly RegExp[], timeoutMs: number): Promise<void> {
    const pending = new Set(patterns.filter((pattern) => !this.lines.some((line) => pattern.test(line))));
    if (pending.size === 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`${this.name}: no line matching ${[...pending].join(', ')} within ${timeoutMs} ms`)), timeoutMs);
      const onExit = () => finish(new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) before printing ${[...pending].join(', ')}`));
      const listener = (line: string) => {
        for (const pattern of pending) if (pattern.test(line)) pending.delete(pattern);
        if (pending.size === 0) finish();
      };
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        this.child.off('exit', onExit);
        if (error) reject(error);
        else resolve();
      };
      this.listeners.add(listener);
      this.child.once('exit', onExit);
    });
  }

  /** SIGTERM (a clean shutdown: the exporter flushes its flows), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

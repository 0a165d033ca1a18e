import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** A child process whose output is kept as lines, with waits on what it prints and a clean stop. */
export interface WatchedProcess {
  readonly child: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the first line (existing or future) on that stream matching `pattern`. */
  waitForLine(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves once `count` lines match on that stream. */
  waitForLines(stream: 'stdout' | 'stderr', pattern: RegExp, count: number, timeoutMs?: number): Promise<string[]>;
  /** Sends the signal (if still running) and resolves with the exit code (or the signal name). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
  readonly exited: Promise<number | string>;
}

export function spawnWatched(command: string, args: string[], options: SpawnOptions = {}): WatchedProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  const lines = { stdout: [] as string[], stderr: [] as string[] };
  const listeners = new Set<() => void>();
  for (const stream of ['stdout', 'stderr'] as const) {
    let partial = '';
    child[stream]!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      lines[stream].push(...parts);
      for (const listener of listeners) listener();
    });
  }
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (error) => resolve(`spawn error: ${error.message}`));
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  let running = true;
  void exited.then(() => {
    running = false;
    for (const listener of listeners) listener();
  });

  const waitUntil = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const listener = () => {
        const found = check();
        if (found !== undefined) finish(() => resolve(found));
        else if (!running) finish(() => reject(new Error(`${command} exited before ${what}; stderr:\n${lines.stderr.join('\n')}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} from ${command}; stderr:\n${lines.stderr.join('\n')}`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(listener);
        settle();
      };
      listeners.add(listener);
      listener();
    });

  return {
    child,
    stdout: lines.stdout,
    stderr: lines.stderr,
    exited,
    waitForLine: (stream, pattern, timeoutMs = 10_000) =>
      waitUntil(() => lines[stream].map((line) => line.match(pattern)).find((match) => match !== null) ?? undefined, timeoutMs, `${stream} ${pattern}`),
    waitForLines: (stream, pattern, count, timeoutMs = 10_000) =>
      waitUntil(() => {
        const matching = lines[stream].filter((line) => pattern.test(line));
        return matching.length >= count ? matching : undefined;
      }, timeoutMs, `${count} × ${stream} ${pattern}`),
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (running) child.kill(signal);
      const timer = setTimeout(() => running && child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

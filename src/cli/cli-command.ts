/** Where a command writes; tests pass their own. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Aborted on SIGINT/SIGTERM: long-running commands stop and return. */
  readonly signal: AbortSignal;
}

/** One `k8s-flow-exporter <name> …` subcommand. */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** Resolves to the process exit code. */
  run(args: string[], io: CliIo): Promise<number>;
}

/** Thrown for bad arguments: the dispatcher prints the message and the usage, exit code 2. */
export class UsageError extends Error {}

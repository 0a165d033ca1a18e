import { parseArgs } from 'node:util';
import { UsageError, type CliCommand, type CliIo } from './cli-command.js';

export const EXIT_USAGE = 2;

/** Dispatches `argv` (without node and script) to one of `commands`. */
export async function runCli(argv: string[], commands: readonly CliCommand[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  const command = commands.find((candidate) => candidate.name === name);
  if (command === undefined) {
    const help = name === undefined || name === 'help' || name === '--help' || name === '-h';
    (help ? io.out : io.err)(overview(commands, help ? undefined : name));
    return help ? 0 : EXIT_USAGE;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (!(error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))) throw error;
    io.err(`${command.name}: ${(error as Error).message}\nusage: ${command.usage}`);
    return EXIT_USAGE;
  }
}

function overview(commands: readonly CliCommand[], unknown: string | undefined): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return [
    ...(unknown === undefined ? [] : [`unknown command: ${unknown}`, '']),
    'usage: k8s-flow-exporter <command> [options]',
    '',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
  ].join('\n');
}

/** node:util parseArgs with strict options, rejecting positionals. */
export function parseOptions<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(args: string[], options: T) {
  return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
}

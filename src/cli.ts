#!/usr/bin/env node
import { COMMANDS } from './cli/commands/index.js';
import { runCli } from './cli/run-cli.js';

/** `k8s-flow-exporter <command>`: tools next to the agent (collector, element table). */
const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
// A closed pipe (`… | head`) ends the command quietly instead of crashing on EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') controller.abort();
});

runCli(
  process.argv.slice(2),
  COMMANDS,
  { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`), signal: controller.signal },
).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);

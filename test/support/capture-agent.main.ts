/**
 * Child process for privileged tests: runs the real CaptureModule (EbpfFlowSource)
 * in a Nest application context, inside the lab's node namespace, and speaks JSON
 * lines: log lines and replies on stdout, commands ({ id, command }) on stdin.
 * SIGTERM closes the application (detaching everything) and exits 0.
 *
 * Started by capture-agent.ts; argv[2] is a JSON object of environment overrides.
 */
import 'reflect-metadata';
import { createInterface } from 'node:readline';
import { Module, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FlowSourcePort } from '../../src/application/ports/flow-source.port.js';
import type { FlowDelta } from '../../src/domain/flow/flow-observation.js';
import { ConfigModule } from '../../src/adapters/config/config.module.js';
import { CaptureModule } from '../../src/adapters/capture/capture.module.js';
import { testConfig } from './test-config.js';

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** Nest logger calls as JSON lines: (fields, message, context) or (message, context). */
class JsonLinesLogger implements LoggerService {
  log(message: unknown, ...rest: unknown[]) {
    this.write('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  private write(level: string, message: unknown, rest: unknown[]) {
    const [text, context] = typeof message === 'object' && message !== null ? [rest[0], rest[1]] : [message, rest[0]];
    const fields = typeof message === 'object' && message !== null ? serializable(message as Record<string, unknown>) : {};
    emit({ type: 'log', level, context, message: text, fields });
  }
}

function serializable(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([name, value]) => [name, value instanceof Error ? value.message : value]));
}

async function main(): Promise<void> {
  const config = testConfig(JSON.parse(process.argv[2] ?? '{}'));

  @Module({ imports: [ConfigModule.forRoot(config), CaptureModule] })
  class CaptureAgentModule {}

  const app = await NestFactory.createApplicationContext(CaptureAgentModule, { logger: new JsonLinesLogger() });
  const source = app.get(FlowSourcePort);
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= app.close().then(() => process.exit(0)));
  process.on('SIGTERM', () => void close());

  const commands: Record<string, (argument: unknown) => Promise<unknown> | unknown> = {
    drain: async () => {
      const deltas: FlowDelta[] = [];
      const drain = await source.drain((batch) => {
        // Plain objects for JSON: the adapter's deltas decode their key on access.
        for (const delta of batch) deltas.push({ ...delta, key: delta.key });
      });
      return { ...drain, deltas, drops: Object.fromEntries(drain.drops) };
    },
    health: () => source.health(),
    release: (flowNumbers) => {
      for (const flowNumber of flowNumbers as number[]) source.release(flowNumber);
    },
  };
  emit({ type: 'started', pid: process.pid });
  for await (const line of createInterface({ input: process.stdin })) {
    const { id, command, argument } = JSON.parse(line) as { id: number; command: string; argument: unknown };
    try {
      emit({ type: 'reply', id, result: await commands[command](argument) });
    } catch (error) {
      emit({ type: 'reply', id, error: (error as Error).message });
    }
  }
  await close();
}

main().catch((error) => {
  emit({ type: 'log', level: 'error', message: `capture agent failed: ${(error as Error).stack}` });
  process.exit(1);
});

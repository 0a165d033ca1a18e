import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pino from 'pino';
import { AppModule } from '../../src/app.module.js';
import type { AgentConfig } from '../../src/application/config/agent-config.js';
import type { FlowAdapters } from '../../src/application/flows/flows.module.js';
import { MetricsServer } from '../../src/adapters/metrics/metrics.server.js';

export interface RunningApp {
  readonly app: INestApplication;
  readonly healthUrl: string;
  readonly metricsUrl: string;
  close(): Promise<void>;
}

/** Starts the real application around the given adapters (and vitals module), listening on ephemeral loopback ports. */
export async function startTestApp(config: AgentConfig, adapters: FlowAdapters, vitals?: DynamicModule): Promise<RunningApp> {
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const app = await NestFactory.create(AppModule.forRoot(config, logger, adapters, vitals), { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address();
  return {
    app,
    healthUrl: `http://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${app.get(MetricsServer).port}/metrics`,
    close: () => app.close(),
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import type { FlowAdapters } from './application/flows/flows.module.js';
import { ConfigError, loadConfig } from './adapters/config/load-config.js';
import { createRootLogger, routeProcessEventsToLogger } from './adapters/logging/root-logger.js';
import { productionAdapters } from './adapters/production-adapters.js';
import { productionVitalsModule } from './adapters/vitals/kubernetes-vitals.module.js';

/** EX_CONFIG from sysexits.h: the configuration is wrong, restarting will not help. */
export const EXIT_CONFIG_ERROR = 78;

/**
 * Runs the agent as a process: validate the environment, start the app, listen,
 * and on SIGTERM/SIGINT flush every flow and exit 0. `adapters` replaces production
 * adapters (a test fixture replays flows through the real process this way).
 */
export async function runAgent(env: NodeJS.ProcessEnv, adapters: Partial<FlowAdapters> = {}): Promise<void> {
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Before the configuration is known, errors go to stderr as JSON, one line per problem.
    const bootLogger = createRootLogger({ level: 'info', stream: 'stderr' });
    for (const problem of error.problems) bootLogger.error(problem, 'Invalid configuration');
    process.exit(EXIT_CONFIG_ERROR);
  }

  const rootLogger = createRootLogger({ level: config.log.level, file: config.log.file });
  routeProcessEventsToLogger(rootLogger);
  const flowAdapters = { ...productionAdapters(), ...adapters };
  const app = await NestFactory.create(
    AppModule.forRoot(config, rootLogger, flowAdapters, productionVitalsModule(config, flowAdapters.clock)),
    { bufferLogs: true },
  );
  app.useLogger(app.get(Logger));

  // Listen before any slow start-up work: adapters load and attach in the background.
  await app.listen(config.http.healthPort, config.http.bindAddress);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    rootLogger.info({ signal }, 'Shutting down: flushing every flow to the collectors');
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        rootLogger.error({ err: error }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Last resort for errors before the logger exists: still one JSON line, on stderr. */
export function reportStartupFailure(error: unknown): never {
  createRootLogger({ level: 'info', stream: 'stderr' }).fatal({ err: error }, 'Start-up failed');
  process.exit(1);
}

import pino, { type Logger } from 'pino';

export interface RootLoggerOptions {
  readonly level: string;
  /** JSON lines go to this file when set, otherwise to `stream` (stdout by default). */
  readonly file?: string;
  readonly stream?: 'stdout' | 'stderr';
}

/**
 * The one pino logger of the process: Nest (through nestjs-pino), pre-bootstrap
 * errors, process warnings and native library messages all write JSON lines here.
 */
export function createRootLogger(options: RootLoggerOptions): Logger {
  const destination = options.file
    ? pino.destination({ dest: options.file, mkdir: true, sync: true })
    : pino.destination({ dest: options.stream === 'stderr' ? 2 : 1, sync: true });
  return pino(
    {
      level: options.level,
      base: { service: 'k8s-flow-exporter' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/**
 * Routes Node's process warnings (which Node prints as plain text on stderr) and
 * crashes into the JSON logger, so every line the process writes is JSON.
 */
export function routeProcessEventsToLogger(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger.warn({ warning: { name: warning.name, stack: warning.stack } }, warning.message));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'Unhandled promise rejection'));
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'Uncaught exception; exiting');
    process.exit(1);
  });
}

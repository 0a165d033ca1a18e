import { Logger } from '@nestjs/common';

/**
 * Runs an async step now and then every `intervalMs`, each run scheduled when the
 * previous one ends so runs never overlap. stop() waits for the run in progress.
 * A step that throws is logged and the schedule goes on.
 */
export class RepeatingTask {
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly step: () => Promise<void>,
  ) {
    this.logger = new Logger(name);
  }

  /** Starts the schedule with a first run after `firstDelayMs`. */
  start(firstDelayMs: number): void {
    this.stopped = false;
    this.schedule(firstDelayMs);
  }

  /** Starts the schedule with a first run now, resolving when that run ends. */
  startNow(): Promise<void> {
    this.stopped = false;
    return this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delayMs);
  }

  private run(): Promise<void> {
    this.running = this.step()
      .catch((error: unknown) => this.logger.error({ error: error instanceof Error ? error.message : String(error) }, `${this.name} failed`))
      .finally(() => {
        this.running = undefined;
        this.schedule(this.intervalMs);
      });
    return this.running;
  }
}

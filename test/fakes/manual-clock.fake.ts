import { ClockPort } from '../../src/application/ports/clock.port.js';

/** A clock the test moves by hand. */
export class ManualClock extends ClockPort {
  constructor(private now = 1_700_000_000_000) {
    super();
  }

  nowMs(): number {
    return this.now;
  }

  advance(ms: number): void {
    this.now += ms;
  }
}

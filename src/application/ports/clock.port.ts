/** Wall-clock time for the application layer, so tests can drive time. */
export abstract class ClockPort {
  /** Epoch milliseconds. */
  abstract nowMs(): number;
}

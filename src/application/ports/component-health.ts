/**
 * What a component says about itself: whether it is ready to do its job, why not,
 * and numbers that help an operator. /health/ready and /status read this.
 */
export interface ComponentHealth {
  readonly ready: boolean;
  /** Why the component is not ready; absent when ready. */
  readonly reason?: string;
  readonly details: Readonly<Record<string, unknown>>;
}

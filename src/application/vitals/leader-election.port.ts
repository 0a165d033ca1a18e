export interface LeadershipStatus {
  readonly leading: boolean;
  readonly identity: string;
  readonly lease: string;
  /** Holder of the Lease as last read; '' when nobody holds it, undefined before the first read. */
  readonly holder: string | undefined;
  readonly transitions: number;
  readonly lastError: string | undefined;
}

/** Which one agent of the DaemonSet exports cluster-scoped vitals. */
export abstract class LeaderElectionPort {
  abstract isLeader(): boolean;
  /** Called on every change of leadership, in order. */
  abstract onChange(listener: (leading: boolean) => void): void;
  abstract status(): LeadershipStatus;
}

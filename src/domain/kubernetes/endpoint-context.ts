/**
 * Kind of the top owner of a pod: the workload an operator thinks in.
 * ReplicaSet or Pod when there is no higher owner.
 */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'CronJob' | 'Job' | 'ReplicaSet' | 'Pod';

export interface EndpointContextFields {
  readonly pod: string;
  readonly namespace: string;
  readonly node: string;
  readonly container: string;
  readonly serviceName: string;
  readonly serviceNamespace: string;
  readonly servicePortName: string;
  readonly workloadKind: WorkloadKind | '';
  readonly workloadName: string;
}

/** Kubernetes context of one end of a flow. Unknown fields are empty strings. */
export class EndpointContext implements EndpointContextFields {
  readonly pod: string;
  readonly namespace: string;
  readonly node: string;
  readonly container: string;
  readonly serviceName: string;
  readonly serviceNamespace: string;
  readonly servicePortName: string;
  readonly workloadKind: WorkloadKind | '';
  readonly workloadName: string;

  constructor(fields: Partial<EndpointContextFields>) {
    this.pod = fields.pod ?? '';
    this.namespace = fields.namespace ?? '';
    this.node = fields.node ?? '';
    this.container = fields.container ?? '';
    this.serviceName = fields.serviceName ?? '';
    this.serviceNamespace = fields.serviceNamespace ?? '';
    this.servicePortName = fields.servicePortName ?? '';
    this.workloadKind = fields.workloadKind ?? '';
    this.workloadName = fields.workloadName ?? '';
    Object.freeze(this);
  }

  /** A copy with some fields replaced. */
  with(fields: Partial<EndpointContextFields>): EndpointContext {
    return new EndpointContext({ ...this, ...fields });
  }

  get isEmpty(): boolean {
    return Object.values(this).every((value) => value === '');
  }
}

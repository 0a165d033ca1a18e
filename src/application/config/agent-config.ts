/**
 * The validated configuration, as the application sees it. The config adapter
 * builds it from the environment; this class is also the DI token.
 */
export abstract class AgentConfig {
  abstract readonly ipfix: {
    readonly collectorHost: string;
    readonly collectorPort: number;
    readonly observationDomainId: number;
    readonly enterpriseId: number;
    readonly templateRefreshSeconds: number;
    readonly maxMessageSize: number;
    readonly dnsRefreshSeconds: number;
  };
  abstract readonly flows: {
    readonly activeTimeoutSeconds: number;
    readonly idleTimeoutSeconds: number;
    readonly drainIntervalSeconds: number;
    readonly endLingerSeconds: number;
    readonly maxFlows: number;
  };
  abstract readonly capture: {
    readonly attachMode: 'auto' | 'tcx' | 'tc';
    /** Overrides veth discovery when set: a RegExp tested unanchored against interface names. */
    readonly interfaceFilter: string | undefined;
    /** Entries per inner kernel map. */
    readonly bufferSize: number;
  };
  abstract readonly kubernetes: {
    readonly deletedPodGraceSeconds: number;
  };
  abstract readonly nodeName: string;
  abstract readonly log: { readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly file: string | undefined };
  abstract readonly http: { readonly healthPort: number; readonly metricsPort: number; readonly bindAddress: string };
  abstract readonly vitals: {
    readonly enabled: boolean;
    readonly collectionIntervalSeconds: number;
    readonly exportIntervalSeconds: number;
    readonly metricsServerCheckIntervalSeconds: number;
    /** Values this agent read longer ago than this are never exported. */
    readonly cacheTimeoutSeconds: number;
    readonly lease: {
      readonly name: string;
      /** POD_NAMESPACE; undefined: the service account's namespace, else "default" (resolved by the adapter). */
      readonly namespace: string | undefined;
      /** POD_NAME, else the host name. */
      readonly identity: string;
      readonly durationSeconds: number;
      readonly renewDeadlineSeconds: number;
      readonly retryPeriodSeconds: number;
    };
  };
}

import { hostname } from 'node:os';
import { validateSync } from 'class-validator';
import { AgentConfig } from '../../application/config/agent-config.js';
import { BOOLEAN_VARIABLES, EnvironmentVariables, INTEGER_VARIABLES } from './environment.schema.js';

export interface ConfigProblem {
  readonly variable: string;
  readonly value: string | undefined;
  readonly rule: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(`Invalid configuration: ${problems.map((p) => `${p.variable} (${p.rule})`).join(', ')}`);
  }
}

const DECIMAL_INTEGER = /^-?\d+$/;
const BOOLEANS: Readonly<Record<string, boolean>> = { true: true, false: false };

/** Reads and validates the environment; throws ConfigError listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv): AgentConfig {
  const variables = new EnvironmentVariables();
  const fields = variables as unknown as Record<string, unknown>;
  for (const name of Object.keys(fields).concat('IPFIX_COLLECTOR_HOST')) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = raw.trim();
    const variable = name as keyof EnvironmentVariables;
    if (INTEGER_VARIABLES.includes(variable)) fields[name] = DECIMAL_INTEGER.test(value) ? Number(value) : value;
    else if (BOOLEAN_VARIABLES.includes(variable)) fields[name] = BOOLEANS[value] ?? value;
    else fields[name] = value;
  }
  const problems = validateSync(variables, { stopAtFirstError: true }).flatMap((error) =>
    Object.values(error.constraints ?? {}).map((rule) => ({
      variable: error.property,
      value: env[error.property],
      rule,
    })),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return toAgentConfig(variables);
}

function toAgentConfig(v: EnvironmentVariables): AgentConfig {
  return {
    ipfix: {
      collectorHost: v.IPFIX_COLLECTOR_HOST,
      collectorPort: v.IPFIX_COLLECTOR_PORT,
      observationDomainId: v.IPFIX_OBSERVATION_DOMAIN_ID,
      enterpriseId: v.IPFIX_ENTERPRISE_ID,
      templateRefreshSeconds: v.IPFIX_TEMPLATE_REFRESH,
      maxMessageSize: v.IPFIX_MAX_MESSAGE_SIZE,
      dnsRefreshSeconds: v.IPFIX_DNS_REFRESH,
    },
    flows: {
      activeTimeoutSeconds: v.IPFIX_EXPORT_INTERVAL,
      idleTimeoutSeconds: v.IPFIX_FLOW_TIMEOUT,
      drainIntervalSeconds: v.FLOW_DRAIN_INTERVAL,
      endLingerSeconds: v.FLOW_END_LINGER,
      maxFlows: v.FLOW_TABLE_MAX_FLOWS,
    },
    capture: {
      attachMode: v.EBPF_ATTACH_MODE,
      interfaceFilter: v.EBPF_INTERFACE_FILTER,
      bufferSize: v.EBPF_BUFFER_SIZE,
    },
    kubernetes: { deletedPodGraceSeconds: v.K8S_DELETED_POD_GRACE },
    nodeName: v.NODE_NAME ?? hostname(),
    log: { level: v.LOG_LEVEL, file: v.LOG_FILE },
    http: { healthPort: v.HEALTH_PORT, metricsPort: v.METRICS_PORT, bindAddress: v.HTTP_BIND_ADDRESS },
    vitals: {
      enabled: v.VITALS_ENABLED,
      collectionIntervalSeconds: v.VITALS_COLLECTION_INTERVAL,
      exportIntervalSeconds: v.VITALS_EXPORT_INTERVAL,
      metricsServerCheckIntervalSeconds: v.VITALS_METRICS_SERVER_CHECK_INTERVAL,
      cacheTimeoutSeconds: v.VITALS_CACHE_TIMEOUT,
      lease: {
        name: v.VITALS_LEASE_NAME,
        namespace: v.POD_NAMESPACE,
        identity: v.POD_NAME ?? hostname(),
        durationSeconds: v.VITALS_LEASE_DURATION,
        renewDeadlineSeconds: v.VITALS_LEASE_RENEW_DEADLINE,
        retryPeriodSeconds: v.VITALS_LEASE_RETRY_PERIOD,
      },
    },
  };
}

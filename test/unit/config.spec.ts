import { ConfigError, loadConfig } from '../../src/adapters/config/load-config.js';

function problemsOf(env: Record<string, string>) {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration from the environment', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({ IPFIX_COLLECTOR_HOST: 'collector.example', NODE_NAME: 'node-1' });
    expect(config).toEqual({
      ipfix: {
        collectorHost: 'collector.example',
        collectorPort: 4739,
        observationDomainId: 1,
        enterpriseId: 32473,
        templateRefreshSeconds: 300,
        maxMessageSize: 1400,
        dnsRefreshSeconds: 60,
      },
      flows: { activeTimeoutSeconds: 60, idleTimeoutSeconds: 15, drainIntervalSeconds: 1, endLingerSeconds: 1, maxFlows: 100_000 },
      capture: { attachMode: 'auto', interfaceFilter: undefined, bufferSize: 65_536 },
      kubernetes: { deletedPodGraceSeconds: 60 },
      nodeName: 'node-1',
      log: { level: 'info', file: undefined },
      http: { healthPort: 8081, metricsPort: 9464, bindAddress: '0.0.0.0' },
      vitals: {
        enabled: true,
        collectionIntervalSeconds: 30,
        exportIntervalSeconds: 60,
        metricsServerCheckIntervalSeconds: 300,
        cacheTimeoutSeconds: 120,
        lease: {
          name: 'k8s-flow-exporter',
          namespace: undefined,
          identity: require('node:os').hostname(),
          durationSeconds: 15,
          renewDeadlineSeconds: 10,
          retryPeriodSeconds: 2,
        },
      },
    });
  });

  it('defaults the node name to the host name', () => {
    expect(loadConfig({ IPFIX_COLLECTOR_HOST: '10.0.0.1' }).nodeName).toBe(require('node:os').hostname());
  });

  it('accepts 1 s intervals and equal export and idle timeouts', () => {
    const config = loadConfig({
      IPFIX_COLLECTOR_HOST: '::1',
      IPFIX_EXPORT_INTERVAL: '1',
      IPFIX_FLOW_TIMEOUT: '1',
      FLOW_DRAIN_INTERVAL: '1',
      IPFIX_TEMPLATE_REFRESH: '1',
      IPFIX_DNS_REFRESH: '1',
      FLOW_END_LINGER: '0',
    });
    expect(config.flows).toMatchObject({ activeTimeoutSeconds: 1, idleTimeoutSeconds: 1, drainIntervalSeconds: 1, endLingerSeconds: 0 });
  });

  it('requires a collector host', () => {
    expect(problemsOf({})).toEqual([expect.objectContaining({ variable: 'IPFIX_COLLECTOR_HOST', value: undefined })]);
  });

  it.each([
    ['IPFIX_COLLECTOR_PORT', '70000'],
    ['IPFIX_COLLECTOR_PORT', 'http'],
    ['IPFIX_EXPORT_INTERVAL', '0'],
    ['IPFIX_FLOW_TIMEOUT', '1.5'],
    ['IPFIX_OBSERVATION_DOMAIN_ID', String(2 ** 32 - 2)],
    ['IPFIX_MAX_MESSAGE_SIZE', '65508'],
    ['IPFIX_MAX_MESSAGE_SIZE', '100'],
    ['FLOW_TABLE_MAX_FLOWS', '0'],
    ['EBPF_ATTACH_MODE', 'xdp'],
    ['EBPF_INTERFACE_FILTER', '(veth'],
    ['LOG_LEVEL', 'verbose'],
    ['HTTP_BIND_ADDRESS', 'every interface'],
    ['IPFIX_COLLECTOR_HOST', 'bad host/name'],
  ])('rejects %s=%s, naming the variable, the value and the rule', (variable, value) => {
    const problems = problemsOf({ IPFIX_COLLECTOR_HOST: 'c', [variable]: value });
    expect(problems.length).toBeGreaterThan(0);
    for (const problem of problems) {
      expect(problem).toEqual({ variable, value, rule: expect.stringContaining(variable) });
    }
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ IPFIX_COLLECTOR_PORT: '0', LOG_LEVEL: 'loud' });
    expect(new Set(problems.map((p) => p.variable))).toEqual(new Set(['IPFIX_COLLECTOR_HOST', 'IPFIX_COLLECTOR_PORT', 'LOG_LEVEL']));
  });
});

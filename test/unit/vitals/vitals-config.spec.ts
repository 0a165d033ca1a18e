import { ConfigError, loadConfig } from '../../../src/adapters/config/load-config.js';

const BASE = { IPFIX_COLLECTOR_HOST: 'collector.example', NODE_NAME: 'node-1' };

function problemsOf(env: Record<string, string>): Array<{ variable: string; rule: string }> {
  try {
    loadConfig({ ...BASE, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(({ variable, rule }) => ({ variable, rule }));
    throw error;
  }
  return [];
}

describe('vitals configuration', () => {
  it('parses VITALS_ENABLED strictly', () => {
    expect(loadConfig({ ...BASE, VITALS_ENABLED: 'false' }).vitals.enabled).toBe(false);
    expect(loadConfig({ ...BASE, VITALS_ENABLED: 'true' }).vitals.enabled).toBe(true);
    for (const value of ['TRUE', 'False', '1', '0', 'yes', 'no', 'on']) {
      expect(problemsOf({ VITALS_ENABLED: value })).toEqual([{ variable: 'VITALS_ENABLED', rule: 'VITALS_ENABLED must be true or false' }]);
    }
  });

  it('takes the Lease namespace and identity from the downward API', () => {
    const { lease } = loadConfig({ ...BASE, POD_NAMESPACE: 'observability', POD_NAME: 'agent-x7k2p', VITALS_LEASE_NAME: 'flows-leader' }).vitals;
    expect(lease).toMatchObject({ namespace: 'observability', identity: 'agent-x7k2p', name: 'flows-leader' });
  });

  it('keeps the cache timeout at least as long as the export and collection intervals', () => {
    expect(problemsOf({ VITALS_EXPORT_INTERVAL: '60', VITALS_CACHE_TIMEOUT: '59' })).toEqual([
      { variable: 'VITALS_CACHE_TIMEOUT', rule: 'VITALS_CACHE_TIMEOUT must be at least VITALS_EXPORT_INTERVAL' },
    ]);
    expect(problemsOf({ VITALS_COLLECTION_INTERVAL: '200', VITALS_EXPORT_INTERVAL: '1' })).toEqual([
      { variable: 'VITALS_CACHE_TIMEOUT', rule: 'VITALS_CACHE_TIMEOUT must be at least VITALS_COLLECTION_INTERVAL' },
    ]);
    expect(problemsOf({ VITALS_EXPORT_INTERVAL: '1', VITALS_COLLECTION_INTERVAL: '1', VITALS_CACHE_TIMEOUT: '1' })).toEqual([]);
  });

  it('orders the Lease timing like client-go: duration > renew deadline > retry period', () => {
    expect(problemsOf({ VITALS_LEASE_DURATION: '10', VITALS_LEASE_RENEW_DEADLINE: '10' })).toEqual([
      { variable: 'VITALS_LEASE_RENEW_DEADLINE', rule: 'VITALS_LEASE_RENEW_DEADLINE must be less than VITALS_LEASE_DURATION' },
    ]);
    expect(problemsOf({ VITALS_LEASE_RETRY_PERIOD: '10' })).toEqual([
      { variable: 'VITALS_LEASE_RETRY_PERIOD', rule: 'VITALS_LEASE_RETRY_PERIOD must be less than VITALS_LEASE_RENEW_DEADLINE' },
    ]);
  });

  it('rejects a Lease name that is no Kubernetes object name', () => {
    expect(problemsOf({ VITALS_LEASE_NAME: 'Flows_Leader' })).toEqual([{ variable: 'VITALS_LEASE_NAME', rule: 'VITALS_LEASE_NAME must be a Kubernetes object name' }]);
  });

  it('rejects intervals that are not positive integers', () => {
    expect(problemsOf({ VITALS_COLLECTION_INTERVAL: '0' }).map((p) => p.variable)).toEqual(['VITALS_COLLECTION_INTERVAL']);
    expect(problemsOf({ VITALS_METRICS_SERVER_CHECK_INTERVAL: '1.5' }).map((p) => p.variable)).toEqual(['VITALS_METRICS_SERVER_CHECK_INTERVAL']);
  });
});

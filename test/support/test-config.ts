import { AgentConfig } from '../../src/application/config/agent-config.js';
import { loadConfig } from '../../src/adapters/config/load-config.js';

/**
 * A validated configuration for tests: the given environment on top of a
 * collector on loopback, with the HTTP servers on ephemeral ports.
 */
export function testConfig(env: Record<string, string> = {}): AgentConfig {
  const config = loadConfig({ IPFIX_COLLECTOR_HOST: '127.0.0.1', NODE_NAME: 'test-node', ...env });
  return { ...config, http: { ...config.http, healthPort: 0, metricsPort: 0, bindAddress: '127.0.0.1' } };
}

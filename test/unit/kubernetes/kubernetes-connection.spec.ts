import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { resolveKubernetesConnection, SERVICE_ACCOUNT_TOKEN_PATH } from '../../../src/adapters/kubernetes/kubernetes-connection.js';

const VARIABLES = ['KUBECONFIG', 'KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT', 'HOME'] as const;

function kubeconfigYaml(server: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{ name: c, cluster: { server: "${server}" } }]`,
    'users: [{ name: u, user: { token: t } }]',
    'contexts: [{ name: x, context: { cluster: c, user: u } }]',
    'current-context: x',
  ].join('\n');
}

describe('resolveKubernetesConnection', () => {
  const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  let home: string;

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'k8s-connection-'));
    for (const name of VARIABLES) delete process.env[name];
    process.env.HOME = home;
  });

  afterEach(() => {
    rmSync(home, { recursive: true, force: true });
    for (const name of VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  /** The real filesystem under a temporary home. */
  const files = () => ({ homeDirectory: home, fileExists: existsSync });
  const server = (connection: ReturnType<typeof resolveKubernetesConnection>) =>
    connection instanceof KubeConfig ? connection.getCurrentCluster()?.server : connection;

  test('no KUBECONFIG, no ~/.kube/config, no service account: standalone (not localhost:8080)', () => {
    expect(resolveKubernetesConnection(files())).toBe('standalone');
  });

  test('KUBERNETES_SERVICE_HOST without a token is still standalone', () => {
    process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1';
    process.env.KUBERNETES_SERVICE_PORT = '443';
    expect(resolveKubernetesConnection(files())).toBe('standalone');
  });

  test('in cluster: service host and token', () => {
    process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1';
    process.env.KUBERNETES_SERVICE_PORT = '443';
    const inCluster = { homeDirectory: home, fileExists: (path: string) => path === SERVICE_ACCOUNT_TOKEN_PATH };
    expect(server(resolveKubernetesConnection(inCluster))).toBe('https://10.96.0.1:443');
  });

  test('~/.kube/config', () => {
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), kubeconfigYaml('https://home.example:6443'));
    expect(server(resolveKubernetesConnection(files()))).toBe('https://home.example:6443');
  });

  test('KUBECONFIG wins over ~/.kube/config', () => {
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), kubeconfigYaml('https://home.example:6443'));
    writeFileSync(join(home, 'other'), kubeconfigYaml('https://other.example:6443'));
    process.env.KUBECONFIG = join(home, 'other');
    expect(server(resolveKubernetesConnection(files()))).toBe('https://other.example:6443');
  });
});

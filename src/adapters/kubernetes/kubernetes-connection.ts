import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

/** Where client-node looks for the in-cluster service account token. */
export const SERVICE_ACCOUNT_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export type KubernetesConnection = KubeConfig | 'standalone';

/** The filesystem as seen by the detection; tests substitute it. */
export interface FileSystemView {
  readonly homeDirectory: string;
  readonly fileExists: (path: string) => boolean;
}

const LOCAL_FILES: FileSystemView = { homeDirectory: homedir(), fileExists: existsSync };

/**
 * How to reach the API server, or 'standalone' when nothing says there is one.
 * In order: KUBECONFIG, ~/.kube/config, the in-cluster service account
 * (KUBERNETES_SERVICE_HOST and its token). client-node's loadFromDefault would
 * silently fall back to http://localhost:8080 instead of admitting there is no
 * cluster, so the decision is made here; the loading stays client-node's (it
 * reads the same process environment).
 */
export function resolveKubernetesConnection(files: FileSystemView = LOCAL_FILES): KubernetesConnection {
  const kubeConfig = new KubeConfig();
  if (process.env.KUBECONFIG || files.fileExists(join(files.homeDirectory, '.kube', 'config'))) {
    kubeConfig.loadFromDefault();
    return kubeConfig;
  }
  if (process.env.KUBERNETES_SERVICE_HOST && files.fileExists(SERVICE_ACCOUNT_TOKEN_PATH)) {
    kubeConfig.loadFromCluster();
    return kubeConfig;
  }
  return 'standalone';
}

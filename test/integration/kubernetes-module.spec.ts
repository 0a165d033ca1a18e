import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { register } from 'prom-client';
import { ConfigModule } from '../../src/adapters/config/config.module.js';
import { KubernetesMetadataModule } from '../../src/adapters/kubernetes/kubernetes-metadata.module.js';
import { MetadataPort } from '../../src/application/ports/metadata.port.js';
import { FakeKubeApiServer } from '../fakes/fake-kube-api.server.js';
import { podObject } from '../fakes/kubernetes-objects.js';
import { eventually } from '../support/test-app.js';
import { testConfig } from '../support/test-config.js';

/** The Nest wiring: which adapter the module binds, its lifecycle, its metrics. */
describe('KubernetesMetadataModule', () => {
  let module: TestingModule | undefined;

  beforeAll(() => {
    if (!process.env.TEST_LOG_LEVEL) Logger.overrideLogger(false);
  });

  afterEach(async () => {
    await module?.close();
    module = undefined;
  });

  async function compile(metadataModule: ReturnType<typeof KubernetesMetadataModule.forRoot>): Promise<MetadataPort> {
    module = await Test.createTestingModule({ imports: [ConfigModule.forRoot(testConfig()), metadataModule] }).compile();
    await module.init();
    return module.get(MetadataPort);
  }

  test('with a KubeConfig: the cache starts on init, syncs, enriches, exports metrics and stops on close', async () => {
    const server = await new FakeKubeApiServer().start();
    try {
      server.apply('pods', podObject({ name: 'p', ips: ['10.244.0.2'] }));
      const metadata = await compile(KubernetesMetadataModule.forConnection(server.kubeConfig(), { backoff: { initialMs: 20, maxMs: 100 } }));
      await eventually(() => (metadata.health().ready ? true : undefined), 10_000, 'synced');
      expect(metadata.lookup({ ip: '10.244.0.2', port: 1, protocol: 6 })).toMatchObject({ pod: 'p', namespace: 'default' });
      const exposition = await register.metrics();
      expect(exposition).toContain('ebpf_netflow_k8s_cache_entries{resource="pods"} 1');
      expect(exposition).toContain('ebpf_netflow_k8s_watch_restarts_total{resource="pods"} 0');
      expect(exposition).toContain('ebpf_netflow_k8s_objects_rejected_total{resource="pods"} 0');
      expect(exposition).toContain('ebpf_netflow_k8s_synced 1');
      await module?.close();
      module = undefined;
      await eventually(() => (server.openWatches('pods') === 0 ? true : undefined), 10_000, 'watches closed');
      expect(await register.metrics()).not.toContain('ebpf_netflow_k8s_cache_entries');
    } finally {
      await server.stop();
    }
  });

  test('standalone: ready, every lookup unknown, says so in health', async () => {
    const metadata = await compile(KubernetesMetadataModule.forConnection('standalone'));
    expect(metadata.lookup({ ip: '10.244.0.2', port: 1, protocol: 6 })).toBeUndefined();
    expect(metadata.health()).toMatchObject({ ready: true, details: { mode: 'standalone' } });
  });

  test('forRoot without any Kubernetes configuration runs standalone', async () => {
    const saved = { KUBECONFIG: process.env.KUBECONFIG, KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST, HOME: process.env.HOME };
    delete process.env.KUBECONFIG;
    delete process.env.KUBERNETES_SERVICE_HOST;
    process.env.HOME = '/nonexistent-home-for-test';
    try {
      const metadata = await compile(KubernetesMetadataModule.forRoot());
      // On a machine with a service account token this would be cluster mode; the test machine has none.
      expect(metadata.health().details.mode).toBe('standalone');
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

import type { AgentConfig } from '../../../src/application/config/agent-config.js';
import { FlowSourcePort } from '../../../src/application/ports/flow-source.port.js';
import { MetadataPort } from '../../../src/application/ports/metadata.port.js';
import { SystemClockModule } from '../../../src/adapters/clock/system-clock.adapter.js';
import { IpfixExportModule } from '../../../src/adapters/ipfix/ipfix-export.module.js';
import { vitalsModule } from '../../../src/adapters/vitals/kubernetes-vitals.module.js';
import type { CollectedRecord } from '../../../src/adapters/ipfix/ipfix-message.decoder.js';
import type { FakeKubeApiServer } from '../../fakes/fake-kube-api.server.js';
import { FixedMetadata } from '../../fakes/fixed-metadata.fake.js';
import { InMemoryFlowSource } from '../../fakes/in-memory-flow-source.fake.js';
import { portModule } from '../../fakes/port-module.js';
import { startTestApp, type RunningApp } from '../../support/test-app.js';
import { testConfig } from '../../support/test-config.js';

/** IPFIX_OBSERVATION_DOMAIN_ID of these tests: vitals travel in domain + 2. */
export const DOMAIN = 40;
export const VITALS_DOMAIN = DOMAIN + 2;
/** Small client-go-shaped Lease timing: 2 s / 1.5 s / 0.5 s. */
export const FAST_LEASE = { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 500 };

/** Everything at 1 s, values older than `cacheTimeout` s dropped. */
export function vitalsTestConfig(collectorPort: number, identity: string, node: string, env: Record<string, string> = {}): AgentConfig {
  return testConfig({
    IPFIX_COLLECTOR_PORT: String(collectorPort),
    IPFIX_OBSERVATION_DOMAIN_ID: String(DOMAIN),
    NODE_NAME: node,
    POD_NAME: identity,
    POD_NAMESPACE: 'observability',
    VITALS_COLLECTION_INTERVAL: '1',
    VITALS_EXPORT_INTERVAL: '1',
    VITALS_METRICS_SERVER_CHECK_INTERVAL: '1',
    VITALS_CACHE_TIMEOUT: '3',
    ...env,
  });
}

/** The real app (real IPFIX exporter, real vitals on the fake API server) with fake capture and metadata. */
export function startVitalsApp(config: AgentConfig, server: FakeKubeApiServer): Promise<RunningApp> {
  const flows = {
    flowSource: portModule(FlowSourcePort, new InMemoryFlowSource()),
    metadata: portModule(MetadataPort, new FixedMetadata(new Map())),
    flowSink: IpfixExportModule,
    clock: SystemClockModule,
  };
  const vitals = vitalsModule(config, server.kubeConfig(), { sink: IpfixExportModule, clock: SystemClockModule }, {
    backoff: { initialMs: 100, maxMs: 1_000 },
    leaseTiming: FAST_LEASE,
  });
  return startTestApp(config, flows, vitals);
}

/** The most recent vitals record per (template family, object) from one exporter. */
export function latestVitals(records: readonly CollectedRecord[]): Map<string, CollectedRecord> {
  const latest = new Map<string, CollectedRecord>();
  for (const record of records) {
    if (record.domain !== VITALS_DOMAIN) continue;
    const { kubernetesNamespace = '', kubernetesName, hpaMetricName = '' } = record.fields as Record<string, string>;
    latest.set(`${familyOf(record.templateId)}:${kubernetesNamespace}/${kubernetesName}${hpaMetricName ? `#${hpaMetricName}` : ''}`, record);
  }
  return latest;
}

function familyOf(templateId: number): string {
  if (templateId < 528) return 'pod';
  if (templateId < 536) return 'node';
  if (templateId < 540) return 'workload';
  if (templateId < 544) return 'job';
  if (templateId < 548) return 'cronjob';
  if (templateId < 552) return 'hpa';
  return 'hpametric';
}

export async function getJson(url: string): Promise<any> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/**
 * `make demo`: the whole product on one machine, no cluster.
 *
 * Builds the lab (a node namespace, three pods, two ClusterIP Services), starts
 * the lab API server (the lab as Kubernetes objects, plus vitals objects), the
 * real exporter (`node dist/main.js`, KUBECONFIG pointing at that server) and the
 * built-in collector (`node dist/cli.js collect`) inside the node namespace, all
 * on its loopback,
 * generates known traffic for DEMO_DURATION seconds, then stops the exporter
 * (SIGTERM flushes every flow) and prints what the collector received: one line
 * per observation, and PASS or FAIL per generated stream against what was sent.
 * Exits 1 on any FAIL. Everything it made is removed on exit, Ctrl-C included.
 *
 * Environment: DEMO_DURATION (seconds of traffic, default 20; at least one round
 * always runs), DEMO_COLLECTOR_PORT (default 4739).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lab } from '../../test/lab/lab.js';
import { LabProcess } from '../../test/lab/lab-process.js';
import { startCollector, startExporter, type ExporterProcess } from '../../test/lab/product-processes.js';
import { CollectedFlows, type ExpectedObservation } from './collected-flows.js';
import { flowTable, streamVerdicts } from './demo-report.js';
import { accumulate, runStreams, type DemoCast } from './demo-streams.js';
import { LAB_NODE, labClusterObjects } from './lab-cluster.js';

const ROOT = resolve(__dirname, '../..');

/** Short timeouts, so flows reach the collector seconds after their last packet, and vitals every few seconds. */
const EXPORTER_SETTINGS = {
  FLOW_DRAIN_INTERVAL: '1',
  IPFIX_FLOW_TIMEOUT: '2',
  IPFIX_EXPORT_INTERVAL: '5',
  NODE_NAME: LAB_NODE,
  POD_NAME: 'k8s-flow-exporter-lab',
  POD_NAMESPACE: 'kube-system',
  HTTP_BIND_ADDRESS: '127.0.0.1',
  VITALS_COLLECTION_INTERVAL: '1',
  VITALS_EXPORT_INTERVAL: '2',
  VITALS_CACHE_TIMEOUT: '10',
  LOG_LEVEL: 'info',
};

/** The collector's observation domains: flows at 1 (the default), vitals at 1 + 2. */
const VITALS_DOMAIN = 3;

function positiveNumber(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${process.env[name]}`);
  return value;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** What has to be undone, whatever happens. */
class DemoResources {
  lab: Lab | undefined;
  apiServer: LabProcess | undefined;
  collector: LabProcess | undefined;
  exporter: ExporterProcess | undefined;
  scratch: string | undefined;
  private cleaning: Promise<void> | undefined;

  get processes(): LabProcess[] {
    return [this.exporter?.process, this.collector, this.apiServer].filter((child) => child !== undefined);
  }

  cleanUp(): Promise<void> {
    this.cleaning ??= (async () => {
      await this.exporter?.stop();
      await this.collector?.stop();
      await this.apiServer?.stop();
      await this.lab?.destroy();
      if (this.scratch !== undefined) rmSync(this.scratch, { recursive: true, force: true });
    })();
    return this.cleaning;
  }
}

/**
 * Starts the lab API server in the node namespace, serving the lab as Kubernetes
 * objects, and writes a kubeconfig for it; returns the kubeconfig's path.
 */
async function startLabApiServer(resources: DemoResources, lab: Lab, cast: DemoCast): Promise<string> {
  const apiServer = LabProcess.start(
    lab,
    lab.nodeNamespace,
    'lab API server',
    process.execPath,
    ['--no-experimental-strip-types', '-r', join(ROOT, 'test/support/swc-register.js'), join(__dirname, 'lab-api.server.ts')],
    { ...process.env, NODE_OPTIONS: '' },
    JSON.stringify(labClusterObjects(lab, cast)),
  );
  resources.apiServer = apiServer;
  await apiServer.waitForLines([/^listening /], 30_000);
  const url = apiServer.lines.find((line) => line.startsWith('listening '))!.slice('listening '.length);
  resources.scratch = mkdtempSync(join(tmpdir(), 'fxdemo-'));
  const kubeconfig = join(resources.scratch, 'kubeconfig');
  // JSON is YAML: client-node reads it as a kubeconfig.
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node refuses plain HTTP unless TLS verification is off; the lab server speaks HTTP on loopback.
      clusters: [{ name: 'lab', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'lab', user: {} }],
      contexts: [{ name: 'lab', context: { cluster: 'lab', user: 'lab' } }],
      'current-context': 'lab',
    }),
  );
  log(`lab API server ${url} (node, namespaces, pods with owners, Services, EndpointSlices, vitals objects): KUBECONFIG=${kubeconfig}`);
  return kubeconfig;
}

async function buildLab(resources: DemoResources): Promise<DemoCast> {
  const lab = await Lab.create({ pods: 3 });
  resources.lab = lab;
  const [frontend, cart, coredns] = lab.podList;
  const dnsService = await lab.addClusterIpService({ name: 'kube-dns', backend: coredns, ports: [{ protocol: 'udp', port: 53, targetPort: 5353 }] });
  const cartService = await lab.addClusterIpService({ name: 'cart', backend: cart, ports: [{ protocol: 'tcp', port: 80, targetPort: 8080 }] });
  log(`lab ${lab.id}: node namespace ${lab.nodeNamespace}`);
  for (const [role, pod] of Object.entries({ frontend, cart, coredns })) log(`  pod ${role.padEnd(8)} ${pod.ipv4.padEnd(12)} ${pod.ipv6.padEnd(14)} host veth ${pod.hostInterface}`);
  for (const [service, backend] of [[dnsService, 'coredns'], [cartService, 'cart']] as const) {
    const ports = service.ports.map((port) => `${port.protocol}/${port.port}->${port.targetPort}`).join(', ');
    log(`  service ${service.name.padEnd(8)} ${service.clusterIpv4} ${service.clusterIpv6} -> ${backend} (${ports})`);
  }
  return { frontend, cart, coredns, cartService, dnsService };
}

/** Polls until every expected observation arrived with its exact counts, or the deadline passes. */
async function waitForStreams(expected: Map<string, Map<string, ExpectedObservation>>, collected: CollectedFlows, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const complete = () => [...expected.values()].every((stream) => [...stream.values()].every((observation) => collected.mismatch(observation) === ''));
  while (!complete() && Date.now() < deadline) await sleep(250);
}

async function runDemo(resources: DemoResources): Promise<number> {
  const durationMs = positiveNumber('DEMO_DURATION', 20) * 1000;
  const collectorPort = positiveNumber('DEMO_COLLECTOR_PORT', 4739);
  const cast = await buildLab(resources);
  const lab = resources.lab!;
  const collected = new CollectedFlows();
  const kubeconfig = await startLabApiServer(resources, lab, cast);
  let vitalsRecords = 0;
  const collector = await startCollector(lab, collectorPort, (line) => {
    collected.addLine(line);
    if (line.includes(`"domain":${VITALS_DOMAIN},`)) vitalsRecords++;
  });
  resources.collector = collector;
  const exporter = await startExporter(lab, { collectorPort, env: { ...EXPORTER_SETTINGS, KUBECONFIG: kubeconfig } });
  resources.exporter = exporter;
  await exporter.process.waitForLines([/Kubernetes cache synced/], 30_000);
  log(`exporter attached to ${lab.podList.length} pod veths; collector on 127.0.0.1:${collectorPort} in the node namespace`);

  const expected = new Map<string, Map<string, ExpectedObservation>>();
  const trafficEnd = Date.now() + durationMs;
  let rounds = 0;
  do {
    accumulate(expected, await runStreams(lab, cast));
    rounds++;
  } while (Date.now() < trafficEnd);
  log(`generated ${rounds} round(s) of traffic; waiting for the exporter's idle timeout (${EXPORTER_SETTINGS.IPFIX_FLOW_TIMEOUT} s)`);

  await waitForStreams(expected, collected, 20_000);
  // A clean stop exports whatever is still in the flow table; then the collector has it all.
  await exporter.stop();
  await sleep(500);
  await collector.stop();

  log('');
  for (const line of flowTable(collected)) log(line);
  log('');
  const verdicts = streamVerdicts(expected, collected);
  for (const verdict of verdicts) log(verdict.line);
  const failed = verdicts.filter((verdict) => !verdict.passed).length;
  log(`${verdicts.length - failed} of ${verdicts.length} streams PASS; ${collected.recordCount} flow records and ${vitalsRecords} vitals records received`);
  if (failed > 0) {
    log('\nlast exporter lines:');
    for (const line of exporter.process.lines.slice(-20)) log(`  ${line}`);
  }
  return failed === 0 ? 0 : 1;
}

async function main(): Promise<void> {
  const resources = new DemoResources();
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      log(`\n${signal}: cleaning up`);
      void resources.cleanUp().finally(() => process.exit(code));
    });
  }
  try {
    process.exitCode = await runDemo(resources);
  } catch (error) {
    log(`FAIL demo: ${(error as Error).message}`);
    for (const child of [resources.exporter?.process, resources.apiServer]) for (const line of child?.lines.slice(-10) ?? []) log(`  ${child!.name}: ${line.slice(0, 400)}`);
    process.exitCode = 1;
  } finally {
    await resources.cleanUp();
  }
}

void main();

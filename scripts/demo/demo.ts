/**
 * `make demo`: the whole product on one machine, no cluster.
 *
 * Builds the lab (a node namespace, three pods, two ClusterIP Services), starts
 * the real exporter (`node dist/main.js`) and the built-in collector
 * (`node dist/cli.js collect`) inside the node namespace, both on its loopback,
 * generates known traffic for DEMO_DURATION seconds, then stops the exporter
 * (SIGTERM flushes every flow) and prints what the collector received: one line
 * per observation, and PASS or FAIL per generated stream against what was sent.
 * Exits 1 on any FAIL. Everything it made is removed on exit, Ctrl-C included.
 *
 * Environment: DEMO_DURATION (seconds of traffic, default 20; at least one round
 * always runs), DEMO_COLLECTOR_PORT (default 4739).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Lab } from '../../test/lab/lab.js';
import type { LabProcess } from '../../test/lab/lab-process.js';
import { startCollector, startExporter, type ExporterProcess } from '../../test/lab/product-processes.js';
import { CollectedFlows, type ExpectedObservation } from './collected-flows.js';
import { flowTable, streamVerdicts } from './demo-report.js';
import { accumulate, runStreams, type DemoCast } from './demo-streams.js';

/** Short timeouts, so flows reach the collector seconds after their last packet. */
const EXPORTER_SETTINGS = {
  FLOW_DRAIN_INTERVAL: '1',
  IPFIX_FLOW_TIMEOUT: '2',
  IPFIX_EXPORT_INTERVAL: '5',
  NODE_NAME: 'lab-node',
  HTTP_BIND_ADDRESS: '127.0.0.1',
  VITALS_ENABLED: 'false',
  LOG_LEVEL: 'info',
};

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
  collector: LabProcess | undefined;
  exporter: ExporterProcess | undefined;
  private cleaning: Promise<void> | undefined;

  get processes(): LabProcess[] {
    return [this.exporter?.process, this.collector].filter((child) => child !== undefined);
  }

  cleanUp(): Promise<void> {
    this.cleaning ??= (async () => {
      await this.exporter?.stop();
      await this.collector?.stop();
      await this.lab?.destroy();
    })();
    return this.cleaning;
  }
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
  const collector = await startCollector(lab, collectorPort, (line) => collected.addLine(line));
  resources.collector = collector;
  const exporter = await startExporter(lab, { collectorPort, env: EXPORTER_SETTINGS });
  resources.exporter = exporter;
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
  log(`${verdicts.length - failed} of ${verdicts.length} streams PASS; ${collected.recordCount} flow records received`);
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
    for (const child of resources.processes) for (const line of child.lines.slice(-10)) log(`  ${child.name}: ${line}`);
    process.exitCode = 1;
  } finally {
    await resources.cleanUp();
  }
}

void main();

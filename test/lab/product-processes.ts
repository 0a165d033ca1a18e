import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Lab, LabPod } from './lab.js';
import { LabProcess } from './lab-process.js';

/**
 * The built product run against the lab, as a user runs it: the exporter
 * (`node dist/main.js`) and the built-in collector (`node dist/cli.js collect`),
 * both inside the lab's node namespace, talking over its loopback. Used by the
 * demo and the capture benchmarks; needs `npm run build`.
 */

const ROOT = resolve(__dirname, '../..');

/** Starts the collector on 127.0.0.1:`port` (JSON lines) and resolves once it listens. */
export async function startCollector(lab: Lab, port: number, onLine: (line: string) => void): Promise<LabProcess> {
  const collector = LabProcess.start(lab, lab.nodeNamespace, 'collector', process.execPath, [join(ROOT, 'dist/cli.js'), 'collect', '--listen', `127.0.0.1:${port}`, '--format', 'json'], {
    ...process.env,
    NODE_OPTIONS: '',
  });
  collector.onLine(onLine);
  await collector.waitForLines([/^listening on/], 15_000);
  return collector;
}

export interface ExporterProcess {
  readonly process: LabProcess;
  /** Stops the exporter (SIGTERM: it flushes every flow) and removes its scratch HOME. */
  stop(): Promise<void>;
}

/**
 * Starts the exporter exporting to 127.0.0.1:`collectorPort` and resolves once its
 * program is attached to the host veth of every pod in `attachedTo` (default: all).
 * Without KUBECONFIG in `env` it runs standalone: an empty HOME hides this
 * machine's ~/.kube.
 */
export async function startExporter(
  lab: Lab,
  options: { collectorPort: number; env?: Record<string, string>; attachedTo?: readonly LabPod[] },
): Promise<ExporterProcess> {
  const { collectorPort, env = {}, attachedTo = lab.podList } = options;
  const home = mkdtempSync(join(tmpdir(), 'fxlab-home-'));
  const environment: NodeJS.ProcessEnv = { ...process.env, HOME: home, NODE_OPTIONS: '', IPFIX_COLLECTOR_HOST: '127.0.0.1', IPFIX_COLLECTOR_PORT: String(collectorPort), ...env };
  if (env.KUBECONFIG === undefined) delete environment.KUBECONFIG;
  const exporter = LabProcess.start(lab, lab.nodeNamespace, 'exporter', process.execPath, [join(ROOT, 'dist/main.js')], environment);
  const stop = async () => {
    await exporter.stop();
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await exporter.waitForLines(attachedTo.map((pod) => new RegExp(`Attached eBPF program to ${pod.hostInterface}\\b`)), 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { process: exporter, stop };
}

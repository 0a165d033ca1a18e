/**
 * Child of capture.bench.ts, run inside the lab's node namespace (Node cannot
 * setns): loads the capture program through the addon, attaches it to one
 * interface, and on each "cold", "new" or "existing" line on stdin times one drain
 * as the agent runs it (kernel map swap, then batch reads, each batch decoded and
 * merged into a FlowTable while the kernel reads the next) and prints it as JSON.
 * "existing" merges into the table that holds the flows of earlier rounds (the
 * steady state); "new" into the same table after it released every flow (every
 * flow new to a running agent: churn); "cold" into a fresh table and decoder (the
 * first drain after start: index and numbering grow as they fill).
 *
 * argv: interface name, entries per map.
 */
import { readFileSync } from 'node:fs';
import { constants, PerformanceObserver, type NodeGCPerformanceDetail, type PerformanceEntry } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { FlowBufferDecoder } from '../src/adapters/capture/flow-buffer.decoder.js';
import { loadNativeCapture } from '../src/adapters/capture/native-capture.js';
import { FlowTable } from '../src/domain/flow/flow-table.js';

async function main(): Promise<void> {
  const [interfaceName, entries] = [process.argv[2], Number(process.argv[3])];
  const interfaceIndex = Number(readFileSync(`/sys/class/net/${interfaceName}/ifindex`, 'utf8'));
  const native = loadNativeCapture();
  const capture = new native.FlowCapture({ entriesPerMap: entries });
  await capture.load();
  await capture.attach({ interfaceIndex, mode: capture.tcxSupported() ? 'tcx' : 'tc' });
  let decoder = new FlowBufferDecoder();
  const name = () => interfaceName;
  console.log(JSON.stringify({ ready: true }));
  const limits = { idleTimeoutMs: 600_000, activeTimeoutMs: 600_000, endLingerMs: 1000, maxFlows: 1_000_000 };
  let table = new FlowTable(limits, decoder);
  // The main thread's GC pauses; observers hear of them asynchronously, so each drain collects its own afterwards.
  const gcPauses: Array<{ startTime: number; duration: number; major: boolean }> = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { kind } = (entry as PerformanceEntry & { detail: NodeGCPerformanceDetail }).detail;
      gcPauses.push({ startTime: entry.startTime, duration: entry.duration, major: kind === constants.NODE_PERFORMANCE_GC_MAJOR });
    }
  }).observe({ entryTypes: ['gc'] });
  for await (const mode of createInterface({ input: process.stdin })) {
    if (mode === 'new') table.releaseAll();
    if (mode === 'cold') table = new FlowTable(limits, (decoder = new FlowBufferDecoder()));
    let flows = 0;
    let mergeMs = 0;
    const start = performance.now();
    const startCpu = process.threadCpuUsage();
    await capture.drain((batch) => {
      const batchStart = performance.now();
      const { deltas } = decoder.decode(batch, name);
      table.merge(deltas);
      flows += deltas.length;
      mergeMs += performance.now() - batchStart;
    });
    const totalMs = performance.now() - start;
    // CPU of this thread only (decode + merge and the callbacks' overhead): what it takes when the core is ours.
    const cpu = process.threadCpuUsage(startCpu);
    await new Promise((resolve) => setImmediate(resolve));
    const pauses = gcPauses.splice(0).filter((pause) => pause.startTime >= start && pause.startTime < start + totalMs);
    const gcMs = (major: boolean) => pauses.filter((pause) => pause.major === major).reduce((sum, pause) => sum + pause.duration, 0);
    console.log(JSON.stringify({ mode, flows, totalMs, mergeMs, mergeCpuMs: (cpu.user + cpu.system) / 1000, minorGcMs: gcMs(false), majorGcMs: gcMs(true) }));
  }
  capture.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

/**
 * Child of capture.bench.ts, run inside the lab's node namespace (Node cannot
 * setns): loads the capture program through the addon, attaches it to one
 * interface, and on each "drain" line on stdin times the steps of a drain (kernel
 * map swap + batch read, decode, FlowTable merge as new flows and into a table
 * already holding them) and prints them as JSON.
 *
 * argv: interface name, entries per map.
 */
import { readFileSync } from 'node:fs';
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
  const decoder = new FlowBufferDecoder();
  const name = () => interfaceName;
  console.log(JSON.stringify({ ready: true }));
  const limits = { idleTimeoutMs: 600_000, activeTimeoutMs: 600_000, endLingerMs: 1000, maxFlows: 1_000_000 };
  // Holds the flows of earlier rounds: the same traffic again updates existing flows, the steady state.
  const steadyTable = new FlowTable(limits);
  for await (const _ of createInterface({ input: process.stdin })) {
    const start = performance.now();
    const buffer = await capture.drain();
    const drained = performance.now();
    const { deltas } = decoder.decode(buffer, name);
    const decoded = performance.now();
    // A fresh table: every delta is a new flow, the merge's worst case.
    new FlowTable(limits).merge(deltas);
    const mergedNew = performance.now();
    steadyTable.merge(deltas);
    const mergedExisting = performance.now();
    console.log(JSON.stringify({ flows: deltas.length, drainMs: drained - start, decodeMs: decoded - drained, mergeNewMs: mergedNew - decoded, mergeExistingMs: mergedExisting - mergedNew }));
  }
  capture.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { layoutMismatches, type NativeLayout } from './native-layout.js';

/** The typed surface of native/ (flow_capture.node). */
export type NativeAttachMode = 'tcx' | 'tc';

/** A rejected native call carries the errno of the failed syscall. */
export interface NativeError extends Error {
  readonly errno: number;
}

export interface NativeFlowCapture {
  /** Opens the embedded BPF object, sizes both inner maps and loads it (off the event loop). */
  load(): Promise<void>;
  /** Whether the kernel has TCX (bpf_link TC attach, kernel >= 6.6). Needs load() first. */
  tcxSupported(): boolean;
  /** Attaches to ingress and egress of the interface, at the head of the chain. Idempotent. */
  attach(options: { interfaceIndex: number; mode: NativeAttachMode }): Promise<void>;
  /** Detaches from the interface; a vanished interface counts as detached. */
  detach(options: { interfaceIndex: number }): Promise<void>;
  /**
   * Swaps the active flow map and drains the idle one batch by batch: each batch,
   * packed as native-layout.ts describes, goes to onBatch while the kernel reads the
   * next (at least one batch, empty when the map was). Settles after the last batch;
   * rejects with the error of a throwing onBatch, which still gets the later batches.
   */
  drain(onBatch: (batch: Buffer) => void): Promise<void>;
  /** Detaches everything and frees the kernel objects; later calls reject with EBADF. */
  close(): void;
  /** Entries per inner flow map. */
  readonly capacity: number;
}

export interface NativeCounter {
  /** Reason name, e.g. "map_full". */
  readonly name: string;
  /** True when a packet behind this event was counted in no flow. */
  readonly loss: boolean;
}

export interface LibbpfMessage {
  readonly level: 'warn' | 'info' | 'debug';
  readonly text: string;
}

export interface NativeCaptureModule {
  readonly FlowCapture: new (options: { entriesPerMap: number }) => NativeFlowCapture;
  readonly layout: NativeLayout;
  /** Kernel event counters, in the order the drain header carries them. */
  readonly counters: readonly NativeCounter[];
  /** libbpf's messages since the last call; `dropped` overflowed the addon's queue. */
  takeLibbpfMessages(): { messages: LibbpfMessage[]; dropped: number };
}

export class NativeLoadError extends Error {
  constructor(readonly attempts: ReadonlyArray<{ path: string; error: string }>) {
    super(`Cannot load the capture addon (run npm run build:native). Tried: ${attempts.map((a) => `${a.path}: ${a.error}`).join('; ')}`);
  }
}

const ADDON_RELATIVE_PATHS = ['native/build/Release/flow_capture.node', 'native/build/Debug/flow_capture.node'];

/** The project root: the nearest folder above this file holding package.json (src/ and dist/ alike). */
function projectRoot(): string {
  let folder = __dirname;
  while (!existsSync(join(folder, 'package.json')) && dirname(folder) !== folder) folder = dirname(folder);
  return folder;
}

/** Loads the addon from the first path that works; the error names every path tried and why it failed. */
export function loadNativeCapture(candidates: readonly string[] = ADDON_RELATIVE_PATHS.map((path) => resolve(projectRoot(), path))): NativeCaptureModule {
  const requireAddon = createRequire(__filename);
  const attempts: Array<{ path: string; error: string }> = [];
  for (const path of candidates) {
    if (!existsSync(path)) {
      attempts.push({ path, error: 'not found' });
      continue;
    }
    try {
      const addon = requireAddon(path) as NativeCaptureModule;
      const mismatches = layoutMismatches(addon.layout);
      if (mismatches.length > 0) {
        attempts.push({ path, error: `layout differs from native-layout.ts in ${mismatches.join(', ')} (stale build?)` });
        continue;
      }
      return addon;
    } catch (error) {
      attempts.push({ path, error: (error as Error).message });
    }
  }
  throw new NativeLoadError(attempts);
}

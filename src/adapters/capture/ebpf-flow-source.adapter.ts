import { Injectable, Logger, type OnApplicationShutdown, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { AgentConfig } from '../../application/config/agent-config.js';
import type { ComponentHealth } from '../../application/ports/component-health.js';
import type { FlowKey } from '../../domain/flow/flow-key.js';
import { FlowSourcePort, type DeltaConsumer, type FlowDrain } from '../../application/ports/flow-source.port.js';
import { OwnedMetrics } from '../metrics/owned-metrics.js';
import { probeCaptureEnvironment, type CaptureEnvironment } from './capture-environment.js';
import { FlowBufferDecoder } from './flow-buffer.decoder.js';
import { InterfaceWatcher, type InterfaceChanges, type NetworkInterface } from './interface-watcher.js';
import { loadNativeCapture, type NativeAttachMode, type NativeCaptureModule, type NativeFlowCapture } from './native-capture.js';

/** Kernel map memory per entry (key, value, hash-table overhead), measured on 6.x: for the memory estimate. */
const MAP_BYTES_PER_ENTRY = 150;
/** Readiness fails when no drain succeeded for this many drain intervals. */
const STALLED_DRAIN_INTERVALS = 3;

type Phase = 'starting' | 'running' | 'failed' | 'stopped';

/**
 * The eBPF flow source: loads the capture program, keeps it attached to the
 * monitored interfaces as they come and go, and drains the kernel's flow map.
 *
 * Loading and attaching are slow (TCX: ~26 ms per interface), so they start from
 * onModuleInit without being awaited; until the program is loaded, drain()
 * returns an empty drain and health() says why the source is not ready.
 *
 * A drain hands each batch the kernel returns to the consumer at once, so the
 * consumer's merge of one batch overlaps the kernel's reading of the next.
 */
@Injectable()
export class EbpfFlowSource extends FlowSourcePort implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger(EbpfFlowSource.name);
  private readonly decoder = new FlowBufferDecoder();
  private readonly metrics: OwnedMetrics;
  private readonly drainDuration: Histogram;
  private readonly drainIntervalMs: number;
  private phase: Phase = 'starting';
  private failure: string | undefined;
  private environment: CaptureEnvironment | undefined;
  private attachMode: NativeAttachMode | undefined;
  private native: NativeCaptureModule | undefined;
  private capture: NativeFlowCapture | undefined;
  private watcher: InterfaceWatcher | undefined;
  private starting: Promise<void> | undefined;
  private readonly attached = new Map<number, string>();
  private readonly attachErrors = new Map<string, string>();
  /** Names of detached interfaces, kept until their last counts have been drained. */
  private readonly retired = new Map<number, { name: string; atDrain: number }>();
  private attachFailures = 0;
  private drains = 0;
  private runningSinceMs = 0;
  private lastDrainAtMs: number | undefined;
  private eventTotals: number[] = [];

  constructor(private readonly config: AgentConfig) {
    super();
    this.drainIntervalMs = config.flows.drainIntervalSeconds * 1000;
    const source = this;
    this.drainDuration = new Histogram({
      name: 'ebpf_netflow_drain_duration_seconds',
      help: 'Time to swap the kernel flow maps, drain the idle one, and decode and consume (merge) its batches.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [],
    });
    this.metrics = new OwnedMetrics([
      this.drainDuration,
      new Gauge({
        name: 'ebpf_netflow_attached_interfaces',
        help: 'Interfaces the capture program is attached to (ingress and egress).',
        registers: [],
        collect() {
          this.set(source.attached.size);
        },
      }),
      new Counter({
        name: 'ebpf_netflow_attach_failures_total',
        help: 'Attempts to attach the capture program to an interface that failed.',
        registers: [],
        collect() {
          this.reset();
          this.inc(source.attachFailures);
        },
      }),
      new Counter({
        name: 'ebpf_netflow_capture_events_total',
        help: 'Kernel capture events that lose nothing (packets counted without ports, non-IP frames); losses are in ebpf_netflow_dropped_total{stage="source"}.',
        labelNames: ['event'],
        registers: [],
        collect() {
          this.reset();
          source.native?.counters.forEach((counter, index) => {
            if (!counter.loss) this.inc({ event: counter.name }, source.eventTotals[index] ?? 0);
          });
        },
      }),
    ]);
  }

  onModuleInit(): void {
    // Not awaited: the HTTP server must come up while the program loads and attaches.
    this.starting = this.start();
  }

  onModuleDestroy(): void {
    this.metrics.release();
  }

  /** After the drain job's final drain (beforeApplicationShutdown): detach everything. */
  async onApplicationShutdown(): Promise<void> {
    const wasRunning = this.phase === 'running';
    this.phase = 'stopped';
    await this.starting;
    await this.watcher?.stop();
    this.capture?.close();
    this.capture = undefined;
    if (wasRunning) this.logger.log({ interfaces: [...this.attached.values()] }, 'Detached eBPF program from every interface');
    this.attached.clear();
  }

  async drain(consume: DeltaConsumer): Promise<FlowDrain> {
    const capture = this.capture;
    if (this.phase !== 'running' || capture === undefined) {
      return { entries: 0, capacity: this.config.capture.bufferSize, drops: new Map() };
    }
    const stopTimer = this.drainDuration.startTimer();
    const interfaceName = (index: number) => this.attached.get(index) ?? this.retired.get(index)?.name ?? `ifindex${index}`;
    let entries = 0;
    // Every batch carries the capacity and the counters read at the swap.
    let header: { capacity: number; eventTotals: number[] } | undefined;
    try {
      await capture.drain((batch) => {
        const decoded = this.decoder.decode(batch, interfaceName);
        entries += decoded.mapRecords;
        header = decoded;
        consume(decoded.deltas);
      });
    } finally {
      this.forwardLibbpfMessages();
    }
    stopTimer();
    if (header === undefined) throw new Error('the addon drained without a batch');
    this.drains++;
    for (const [index, { atDrain }] of this.retired) if (atDrain < this.drains - 1) this.retired.delete(index);
    const drops = this.lossesSince(header.eventTotals);
    this.eventTotals = header.eventTotals;
    this.lastDrainAtMs = Date.now();
    return { entries, capacity: header.capacity, drops };
  }

  keyOf(flowNumber: number): FlowKey {
    return this.decoder.keyOf(flowNumber);
  }

  release(flowNumber: number): void {
    this.decoder.release(flowNumber);
  }

  health(): ComponentHealth {
    const nowMs = Date.now();
    const details = {
      phase: this.phase,
      kernelRelease: this.environment?.kernelRelease,
      btf: this.environment?.btf,
      missingCapabilities: this.environment?.missingCapabilities,
      attachMode: this.attachMode ?? this.config.capture.attachMode,
      attachedInterfaces: [...this.attached.values()],
      attachErrors: Object.fromEntries(this.attachErrors),
      attachFailures: this.attachFailures,
      mapCapacity: this.config.capture.bufferSize,
      lastDrainAgoMs: this.lastDrainAtMs === undefined ? undefined : nowMs - this.lastDrainAtMs,
      kernelEvents: Object.fromEntries(this.native?.counters.map((counter, index) => [counter.name, this.eventTotals[index] ?? 0]) ?? []),
    };
    const notReady = (reason: string): ComponentHealth => ({ ready: false, reason, details });
    switch (this.phase) {
      case 'starting':
        return notReady('eBPF program is still loading');
      case 'failed':
        return notReady(`eBPF program not loaded: ${this.failure}`);
      case 'stopped':
        return notReady('capture stopped');
    }
    const sinceDrainMs = nowMs - (this.lastDrainAtMs ?? this.runningSinceMs);
    if (sinceDrainMs > STALLED_DRAIN_INTERVALS * this.drainIntervalMs) return notReady(`no drain for ${sinceDrainMs} ms: the drain loop is stalled`);
    if (this.attached.size === 0 && this.attachErrors.size > 0) return notReady('every attach failed');
    return { ready: true, details };
  }

  private async start(): Promise<void> {
    try {
      this.environment = probeCaptureEnvironment();
      this.native = loadNativeCapture();
      const capture = new this.native.FlowCapture({ entriesPerMap: this.config.capture.bufferSize });
      this.capture = capture;
      await capture.load().finally(() => this.forwardLibbpfMessages());
      this.attachMode = this.chooseAttachMode(capture);
      this.eventTotals = this.native.counters.map(() => 0);
    } catch (error) {
      this.failStart(error);
      return;
    }
    if (this.phase === 'stopped') return;
    this.phase = 'running';
    this.runningSinceMs = Date.now();
    this.logger.log(this.verdict(), `eBPF capture loaded (${this.attachMode} attach)`);
    const filter = this.config.capture.interfaceFilter;
    this.watcher = new InterfaceWatcher(
      filter === undefined ? undefined : new RegExp(filter),
      (changes) => this.applyInterfaceChanges(changes),
      (error) => this.logger.warn({ err: error }, 'Interface watcher: a scan failed or the link monitor stopped'),
    );
    await this.watcher.start();
  }

  private chooseAttachMode(capture: NativeFlowCapture): NativeAttachMode {
    const requested = this.config.capture.attachMode;
    if (requested === 'tc') return 'tc';
    const tcx = capture.tcxSupported();
    if (requested === 'tcx' && !tcx) throw new Error(`kernel ${this.environment?.kernelRelease} has no TCX (needs >= 6.6): set EBPF_ATTACH_MODE=auto or tc`);
    return tcx ? 'tcx' : 'tc';
  }

  private verdict(): Record<string, unknown> {
    const entries = this.config.capture.bufferSize;
    return {
      kernelRelease: this.environment?.kernelRelease,
      btf: this.environment?.btf,
      attachMode: this.attachMode,
      requestedAttachMode: this.config.capture.attachMode,
      missingCapabilities: this.environment?.missingCapabilities,
      mapEntries: entries,
      mapMemoryEstimateBytes: 2 * entries * MAP_BYTES_PER_ENTRY,
    };
  }

  private failStart(error: unknown): void {
    this.capture?.close();
    this.capture = undefined;
    if (this.phase === 'stopped') return;
    this.phase = 'failed';
    this.failure = (error as Error).message;
    this.logger.error({ ...this.verdict(), err: error }, `eBPF capture failed to start: ${this.failure}`);
  }

  private async applyInterfaceChanges({ added, removed }: InterfaceChanges): Promise<void> {
    for (const link of removed) await this.detach(link);
    for (const link of added) {
      if (this.phase !== 'running') return;
      await this.attach(link);
    }
  }

  private async attach(link: NetworkInterface): Promise<void> {
    const mode = this.attachMode as NativeAttachMode;
    try {
      await this.capture?.attach({ interfaceIndex: link.index, mode });
      this.attached.set(link.index, link.name);
      this.attachErrors.delete(link.name);
      this.logger.log({ interface: link.name, interfaceIndex: link.index, attachMode: mode }, `Attached eBPF program to ${link.name}`);
    } catch (error) {
      this.attachFailures++;
      this.attachErrors.set(link.name, (error as Error).message);
      this.logger.warn({ interface: link.name, interfaceIndex: link.index, attachMode: mode, err: error }, `Failed to attach eBPF program to ${link.name}`);
    } finally {
      this.forwardLibbpfMessages();
    }
  }

  private async detach(link: NetworkInterface): Promise<void> {
    this.attachErrors.delete(link.name);
    if (!this.attached.delete(link.index)) return;
    this.retired.set(link.index, { name: link.name, atDrain: this.drains });
    try {
      await this.capture?.detach({ interfaceIndex: link.index });
      this.logger.log({ interface: link.name, interfaceIndex: link.index }, `Detached eBPF program from ${link.name}`);
    } catch (error) {
      this.logger.warn({ interface: link.name, interfaceIndex: link.index, err: error }, `Failed to detach eBPF program from ${link.name}`);
    }
  }

  /** Kernel losses since the previous drain, by reason. */
  private lossesSince(totals: readonly number[]): Map<string, number> {
    const drops = new Map<string, number>();
    this.native?.counters.forEach((counter, index) => {
      const delta = (totals[index] ?? 0) - (this.eventTotals[index] ?? 0);
      if (counter.loss && delta > 0) drops.set(counter.name, delta);
    });
    return drops;
  }

  private forwardLibbpfMessages(): void {
    if (this.native === undefined) return;
    const { messages, dropped } = this.native.takeLibbpfMessages();
    for (const { level, text } of messages) {
      if (level === 'warn') this.logger.warn({ source: 'libbpf' }, text);
      else if (level === 'info') this.logger.log({ source: 'libbpf' }, text);
      else this.logger.debug({ source: 'libbpf' }, text);
    }
    if (dropped > 0) this.logger.warn({ source: 'libbpf', dropped }, 'libbpf messages dropped (queue full)');
  }
}

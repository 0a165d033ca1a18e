import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { AgentConfig } from '../../application/config/agent-config.js';
import type { ComponentHealth } from '../../application/ports/component-health.js';
import { FlowSinkPort } from '../../application/ports/flow-sink.port.js';
import type { EnrichedFlow } from '../../domain/flow/flow-record.js';
import { OwnedMetrics } from '../metrics/owned-metrics.js';
import { CollectorLoss, CollectorSession, type CollectorStatus } from './collector-session.js';
import { FlowTemplates, type FlowExportRow, type IpVersion } from './flow-templates.js';
import { exporterRegistry, type InformationElement } from './information-elements.js';
import type { RecordTemplate } from './ipfix-message.encoder.js';
import { MessagePacker, type PackedMessage } from './ipfix-message.packer.js';
import { ObservationDomainOffset } from './ipfix-protocol.js';
import { describedElements, typeRecordTemplate } from './type-records.js';

/** How often a down (or not yet confirmed) collector is probed and its liveness decided. */
export const COLLECTOR_CHECK_INTERVAL_MS = 1000;

/** Losses of the export stage, for `ebpf_netflow_dropped_total{stage,reason}`. */
export interface ExportDrop {
  readonly stage: 'export';
  readonly reason: string;
  readonly count: number;
}

const EncodingLoss = {
  /** Records sent with their strings cut to fit IPFIX_MAX_MESSAGE_SIZE (not lost, but degraded). */
  Truncated: 'record_truncated',
  /** Records too large for a message even with every string empty. */
  Oversized: 'record_oversized',
  /** Records with a value their field cannot carry (e.g. a malformed address). */
  Unencodable: 'record_unencodable',
} as const;

/**
 * IPFIX over UDP (RFC 7011) to every configured collector, each getting identical
 * records. Flows go in observation domain N (IPFIX_OBSERVATION_DOMAIN_ID), RFC 5610
 * type records describing our enterprise elements in N+1. Records are encoded once
 * per exporter address (the exporterIPv4/IPv6Address field differs per local
 * address) and then sent on each collector's own connected socket.
 */
@Injectable()
export class IpfixExporterAdapter extends FlowSinkPort implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(IpfixExporterAdapter.name);
  private readonly sessions: CollectorSession[];
  private readonly flowTemplates: FlowTemplates;
  private readonly flowPacker: MessagePacker<FlowExportRow>;
  private readonly typePacker: MessagePacker<InformationElement>;
  /** Packs template sets only (it never sees a record). */
  private readonly templatePacker: MessagePacker<unknown>;
  private readonly typeTemplate: RecordTemplate<InformationElement>;
  private readonly typedElements: InformationElement[];
  private readonly metrics: OwnedMetrics;
  private readonly timers: NodeJS.Timeout[] = [];
  private stopped = false;
  /** Records handed over after the sockets closed: a shutdown-order bug if ever non-zero, so counted. */
  private recordsAfterStop = 0;

  constructor(private readonly config: AgentConfig) {
    super();
    const { ipfix } = config;
    const registry = exporterRegistry(ipfix.enterpriseId);
    this.flowTemplates = new FlowTemplates(registry);
    this.typeTemplate = typeRecordTemplate(registry);
    this.typedElements = describedElements(registry);
    const flowsDomain = ipfix.observationDomainId + ObservationDomainOffset.Flows;
    const typesDomain = ipfix.observationDomainId + ObservationDomainOffset.TypeRecords;
    this.flowPacker = new MessagePacker({ maxMessageSize: ipfix.maxMessageSize, observationDomainId: flowsDomain });
    this.templatePacker = new MessagePacker({ maxMessageSize: ipfix.maxMessageSize, observationDomainId: flowsDomain });
    this.typePacker = new MessagePacker({ maxMessageSize: ipfix.maxMessageSize, observationDomainId: typesDomain });
    // One collector today; the list shape is what later configuration (up to 10 per protocol) fills.
    this.sessions = [{ host: ipfix.collectorHost, port: ipfix.collectorPort }].map(
      ({ host, port }) =>
        new CollectorSession({
          host,
          port,
          observerNodeName: config.nodeName,
          templateMessages: (exporterIpVersion) => this.templateMessages(exporterIpVersion),
          logger: this.logger,
        }),
    );
    this.metrics = this.createMetrics();
  }

  /** Resolves and connects every collector before the first export, then starts the periodic work. */
  async onModuleInit(): Promise<void> {
    await Promise.all(this.sessions.map((session) => session.resolve()));
    const { templateRefreshSeconds, dnsRefreshSeconds } = this.config.ipfix;
    this.every(COLLECTOR_CHECK_INTERVAL_MS, () => this.sessions.forEach((session) => session.check()));
    // RFC 7011 §8.4: over UDP, templates are re-sent periodically; down collectors are probed by check().
    this.every(templateRefreshSeconds * 1000, () => this.refreshTemplates());
    this.every(dnsRefreshSeconds * 1000, () => this.sessions.forEach((session) => void session.resolve()));
    for (const session of this.sessions) session.check();
  }

  export(flows: readonly EnrichedFlow[]): void {
    if (flows.length === 0) return;
    if (this.stopped) {
      this.recordsAfterStop += flows.length;
      this.logger.error({ records: flows.length }, 'Flow records arrived after the IPFIX exporter stopped; they are lost');
      return;
    }
    // No socket still reads an earlier flow message: the packer may write over their memory.
    if (!this.sessions.some((session) => session.sending)) this.flowPacker.releaseMessages();
    const exportTime = Math.floor(Date.now() / 1000);
    for (const group of this.sessionsByExporter()) {
      const messages = this.packFlows(flows, group, exportTime);
      group.forEach((session, index) => session.deliver(messages, index < group.length - 1));
    }
    for (const session of this.sessions) {
      if (session.exporter === undefined) session.loseUnresolved(flows.length);
    }
  }

  /**
   * Sends messages of another record stream (vitals: their own observation domain,
   * templates inline) on every connected collector's socket, so they share its
   * source port, sequence numbering per domain, liveness and type records.
   */
  sendMessages(messages: readonly PackedMessage[]): void {
    if (messages.length === 0 || this.stopped) return;
    const connected = this.sessions.filter((session) => session.exporter !== undefined);
    connected.forEach((session, index) => session.deliverOther(messages, index < connected.length - 1));
  }

  async flush(): Promise<void> {
    await Promise.all(this.sessions.map((session) => session.flushed()));
  }

  health(): ComponentHealth {
    const collectors = this.sessions.map((session) => session.status());
    const ready = collectors.some((collector) => collector.state !== 'down');
    return {
      ready,
      ...(ready ? {} : { reason: 'every IPFIX collector is down' }),
      details: { collectors, drops: Object.fromEntries(this.drops().map(({ reason, count }) => [reason, count])) },
    };
  }

  /** Export-stage losses, summed over collectors, for the shared dropped counter. */
  drops(): ExportDrop[] {
    const statuses = this.sessions.map((session) => session.status());
    const packers = [this.flowPacker.stats];
    const sum = (read: (status: CollectorStatus) => number) => statuses.reduce((total, status) => total + read(status), 0);
    return [
      ...Object.values(CollectorLoss).map((reason) => ({ stage: 'export' as const, reason, count: sum((status) => status.recordsLost[reason]) })),
      { stage: 'export', reason: EncodingLoss.Truncated, count: packers.reduce((total, stats) => total + stats.truncatedRecords, 0) },
      { stage: 'export', reason: EncodingLoss.Oversized, count: packers.reduce((total, stats) => total + stats.oversizedRecords, 0) },
      { stage: 'export', reason: EncodingLoss.Unencodable, count: packers.reduce((total, stats) => total + stats.unencodableRecords, 0) },
      { stage: 'export', reason: 'exporter_stopped', count: this.recordsAfterStop },
    ];
  }

  /**
   * Sockets close in the last shutdown phase: the drain job flushes every flow in
   * beforeApplicationShutdown, which Nest runs after every onModuleDestroy.
   */
  onApplicationShutdown(): void {
    this.stop();
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const session of this.sessions) session.close();
    this.metrics.release();
  }

  /** Collectors reached from the same local address share one encoding of the batch. */
  private sessionsByExporter(): CollectorSession[][] {
    const groups = new Map<string, CollectorSession[]>();
    for (const session of this.sessions) {
      const exporter = session.exporter;
      if (exporter === undefined) continue;
      const group = groups.get(exporter.address);
      if (group === undefined) groups.set(exporter.address, [session]);
      else group.push(session);
    }
    return [...groups.values()];
  }

  private packFlows(flows: readonly EnrichedFlow[], group: CollectorSession[], exportTime: number): PackedMessage[] {
    const exporter = group[0].exporter!;
    const exporterIpVersion = group[0].exporterFamily;
    const inline = group.some((session) => session.wantsInlineTemplates);
    const row: FlowExportRow = { flow: flows[0], exporter };
    this.flowPacker.begin(exportTime);
    for (const flow of flows) {
      row.flow = flow;
      const { ipVersion, direction } = flow.flow.key;
      this.flowPacker.addRecord(this.flowTemplates.templateFor(ipVersion, direction, exporterIpVersion), row, inline);
    }
    return this.flowPacker.finish();
  }

  /** RFC 5610 type records first (collectors need them before the templates using the elements), then the flow templates. */
  private templateMessages(exporterIpVersion: IpVersion): PackedMessage[] {
    const exportTime = Math.floor(Date.now() / 1000);
    this.typePacker.begin(exportTime);
    for (const element of this.typedElements) this.typePacker.addRecord(this.typeTemplate, element, true);
    this.templatePacker.begin(exportTime);
    this.templatePacker.addTemplates(this.flowTemplates.forExporter(exporterIpVersion).map((template) => template.definition));
    return [...this.typePacker.finish(), ...this.templatePacker.finish()];
  }

  private refreshTemplates(): void {
    for (const session of this.sessions) {
      if (session.collectorState !== 'down') session.sendTemplates();
    }
    this.logger.debug?.({ collectors: this.sessions.length }, 'IPFIX templates refreshed');
  }

  private every(intervalMs: number, work: () => void): void {
    const timer = setInterval(work, intervalMs);
    timer.unref();
    this.timers.push(timer);
  }

  private createMetrics(): OwnedMetrics {
    const sessions = this.sessions;
    return new OwnedMetrics([
      new Counter({
        name: 'ebpf_netflow_flows_exported_total',
        help: 'Flow records sent to each IPFIX collector.',
        labelNames: ['collector'],
        registers: [],
        collect(this: Counter<'collector'>) {
          this.reset();
          for (const session of sessions) this.inc({ collector: session.name }, session.status().records);
        },
      }),
      new Gauge({
        name: 'ebpf_netflow_exporter_connected',
        help: '1 while the IPFIX collector is up, 0 while down or not yet confirmed.',
        labelNames: ['collector'],
        registers: [],
        collect(this: Gauge<'collector'>) {
          for (const session of sessions) this.set({ collector: session.name }, session.collectorState === 'up' ? 1 : 0);
        },
      }),
    ]);
  }
}

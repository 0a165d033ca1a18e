import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIPv6 } from 'node:net';
import type { LoggerService } from '@nestjs/common';
import type { ExporterIdentity, IpVersion } from './flow-templates.js';
import type { PackedMessage } from './ipfix-message.packer.js';
import { SEQUENCE_NUMBER_OFFSET } from './ipfix-message.encoder.js';
import { SEQUENCE_MODULUS } from './ipfix-protocol.js';

export type CollectorState = 'unknown' | 'up' | 'down';

/** Why records did not reach a collector (the reasons of `ebpf_netflow_dropped_total{stage="export"}`). */
export const CollectorLoss = {
  /** The collector refused (ICMP port/host unreachable) or was known to be down. */
  Unreachable: 'collector_unreachable',
  /** The collector's host name did not resolve, so there was nowhere to send. */
  Unresolved: 'collector_unresolved',
  /** Any other send error (e.g. ENOBUFS). */
  SendError: 'send_error',
  /** More datagrams waiting for the socket than MAX_PENDING_DATAGRAMS. */
  SendQueueFull: 'send_queue_full',
} as const;
export type CollectorLoss = (typeof CollectorLoss)[keyof typeof CollectorLoss];

/** Errors that mean nothing is listening or the host cannot be reached: the collector is down. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN']);
/** Datagrams handed to the socket and not yet confirmed; beyond this we drop rather than grow memory. */
export const MAX_PENDING_DATAGRAMS = 32_768;

export interface CollectorStatus {
  readonly collector: string;
  readonly state: CollectorState;
  /** Resolved collector address and the local (exporter) address of our socket. */
  readonly address: string | undefined;
  readonly exporterAddress: string | undefined;
  readonly messages: number;
  /** Flow records sent (type records and templates are not counted here). */
  readonly records: number;
  readonly bytes: number;
  readonly sendErrors: number;
  readonly lastSuccessAt: string | undefined;
  /** Datagrams that bounced (ICMP unreachable) or were not sent because the collector was down. */
  readonly datagramsLost: number;
  /** Flow records lost, by reason; records of a datagram that bounced later are not known and not counted. */
  readonly recordsLost: Readonly<Record<CollectorLoss, number>>;
  readonly templatesSent: number;
  readonly dnsFailures: number;
  readonly stateChanges: number;
  readonly lastError: string | undefined;
}

export interface CollectorSessionOptions {
  readonly host: string;
  readonly port: number;
  readonly observerNodeName: string;
  /** Type-record messages (domain N+1) then data-template messages (domain N) for this exporter address family. */
  readonly templateMessages: (exporterIpVersion: IpVersion) => PackedMessage[];
  readonly logger: LoggerService;
}

/**
 * One collector: a connected UDP socket with a stable source port (collectors key
 * templates by exporter address and port), its liveness, per-domain sequence
 * numbers (RFC 7011 §3.1) and counters.
 *
 * Liveness: only a connected socket learns of ICMP port unreachable, as ECONNREFUSED
 * from the 'error' event or a send callback; either marks the collector down. While
 * down, data is not sent (counted lost, sequence numbers still advance so the
 * collector sees the gap) and each check() probes with the templates; the collector
 * is up again once a probe was sent and no error followed by the next check().
 */
export class CollectorSession {
  readonly name: string;
  private state: CollectorState = 'unknown';
  private socket: Socket | undefined;
  private address: string | undefined;
  private exporterIdentity: ExporterIdentity | undefined;
  private exporterIpVersion: IpVersion = 4;
  private readonly sequences = new Map<number, number>();
  /** Template messages must go out before the next data (new transport session or recovery). */
  private announceDue = true;
  /** The next data batch should carry its templates inline as well. */
  private inlineDue = true;
  /** Send outcomes numbered in arrival order, to tell whether any came since the last check(). */
  private events = 0;
  private lastOkEvent = 0;
  private lastErrorEvent = 0;
  private lastCheckEvent = 0;
  private pending = 0;
  private drainWaiters: Array<() => void> = [];
  private resolving: Promise<void> | undefined;
  private closed = false;
  private readonly counters = {
    messages: 0,
    records: 0,
    bytes: 0,
    sendErrors: 0,
    datagramsLost: 0,
    templatesSent: 0,
    dnsFailures: 0,
    stateChanges: 0,
  };
  private readonly recordsLost: Record<CollectorLoss, number> = {
    collector_unreachable: 0,
    collector_unresolved: 0,
    send_error: 0,
    send_queue_full: 0,
  };
  private lastSuccessAtMs: number | undefined;
  private lastError: string | undefined;

  constructor(private readonly options: CollectorSessionOptions) {
    // "host:port", with an IPv6 literal in brackets so the port stays unambiguous.
    this.name = isIPv6(options.host) ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
  }

  get collectorState(): CollectorState {
    return this.state;
  }

  /** Who this session exports as; undefined until the socket is connected. */
  get exporter(): ExporterIdentity | undefined {
    return this.exporterIdentity;
  }

  get exporterFamily(): IpVersion {
    return this.exporterIpVersion;
  }

  get wantsInlineTemplates(): boolean {
    return this.inlineDue;
  }

  /** Whether the socket may still read a datagram handed to it (its send callback has not run yet). */
  get sending(): boolean {
    return this.pending > 0;
  }

  /** (Re)resolves the host; connects a new socket when the address changed. Never rejects. */
  resolve(): Promise<void> {
    this.resolving ??= this.resolveOnce().finally(() => (this.resolving = undefined));
    return this.resolving;
  }

  /** A batch that could not be encoded for this collector: it has no address (and so no socket) yet. */
  loseUnresolved(flowRecords: number): void {
    this.lose(CollectorLoss.Unresolved, flowRecords, 0);
  }

  /** Sends one batch of data messages, stamped with this session's sequence numbers. */
  deliver(messages: readonly PackedMessage[], shared: boolean): void {
    this.sendData(messages, shared, true);
    if (this.state !== 'down') this.inlineDue = false;
  }

  /**
   * Sends messages of another record stream (vitals) that carry their own templates
   * inline, in their own observation domain: counted as messages and bytes, not as
   * flow records, and without touching the flow templates' inline state.
   */
  deliverOther(messages: readonly PackedMessage[], shared: boolean): void {
    this.sendData(messages, shared, false);
  }

  private sendData(messages: readonly PackedMessage[], shared: boolean, flowRecords: boolean): void {
    if (this.announceDue && this.state !== 'down') this.sendTemplates();
    for (const message of messages) {
      const sequenceNumber = this.nextSequence(message);
      const records = flowRecords ? message.dataRecords : 0;
      if (this.state === 'down') {
        this.lose(CollectorLoss.Unreachable, records, 1);
        continue;
      }
      // Several collectors share a message's bytes; each stamps its own sequence number on its own copy.
      const buffer = shared ? Buffer.from(message.buffer) : message.buffer;
      buffer.writeUInt32BE(sequenceNumber, SEQUENCE_NUMBER_OFFSET);
      this.send(buffer, records);
    }
  }

  /** Type records then data templates, now (first use, refresh, recovery, probe). */
  sendTemplates(): void {
    if (this.socket === undefined) return;
    for (const message of this.options.templateMessages(this.exporterIpVersion)) {
      const buffer = message.buffer;
      buffer.writeUInt32BE(this.nextSequence(message), SEQUENCE_NUMBER_OFFSET);
      this.send(buffer, 0);
      this.counters.templatesSent++;
    }
    this.announceDue = false;
  }

  /**
   * Periodic liveness step: retry resolution when there is no socket; confirm an
   * unknown or down collector as up when sends succeeded without error since the
   * last check (re-sending templates at once after an outage); otherwise probe.
   */
  check(): void {
    if (this.closed) return;
    if (this.socket === undefined) {
      void this.resolve();
      return;
    }
    const succeeded = this.lastOkEvent > this.lastCheckEvent;
    const failed = this.lastErrorEvent > this.lastCheckEvent;
    this.lastCheckEvent = this.events;
    if (this.state === 'up') return;
    if (succeeded && !failed) {
      const recovering = this.state === 'down';
      this.setState('up', recovering ? 'sends succeed again' : 'first sends succeeded');
      if (recovering) {
        this.sendTemplates();
        this.inlineDue = true;
      }
      return;
    }
    if (this.state === 'down' || this.announceDue) this.sendTemplates();
  }

  /** Resolves when every datagram handed to the socket has been sent or failed. */
  flushed(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.replaceSocket(undefined);
    this.releaseWaiters();
  }

  status(): CollectorStatus {
    return {
      collector: this.name,
      state: this.state,
      address: this.address,
      exporterAddress: this.exporterIdentity?.address,
      ...this.counters,
      lastSuccessAt: this.lastSuccessAtMs === undefined ? undefined : new Date(this.lastSuccessAtMs).toISOString(),
      recordsLost: { ...this.recordsLost },
      lastError: this.lastError,
    };
  }

  private async resolveOnce(): Promise<void> {
    let resolved: { address: string; family: number };
    try {
      resolved = await lookup(this.options.host, { verbatim: true });
    } catch (error) {
      this.counters.dnsFailures++;
      this.lastError = `DNS: ${(error as Error).message}`;
      this.options.logger.debug?.({ collector: this.name, err: error }, 'IPFIX collector host name did not resolve');
      this.replaceSocket(undefined);
      this.setState('down', this.lastError);
      return;
    }
    if (this.closed || (resolved.address === this.address && this.socket !== undefined)) return;
    try {
      const socket = await this.connect(resolved.address, resolved.family === 6 ? 6 : 4);
      if (this.closed) {
        socket.close();
        return;
      }
      const previous = this.address;
      this.address = resolved.address;
      this.replaceSocket(socket);
      this.options.logger.log(
        { collector: this.name, address: this.address, previous, exporter: this.exporterIdentity?.address },
        previous === undefined ? 'IPFIX collector connected' : 'IPFIX collector address changed; reconnected',
      );
    } catch (error) {
      this.lastError = `connect: ${(error as Error).message}`;
      this.replaceSocket(undefined);
      this.setState('down', this.lastError);
    }
  }

  private connect(address: string, family: IpVersion): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
      // Before connect() so that no error can go unhandled (an 'error' with no listener kills the process).
      socket.on('error', (error) => this.onSocketError(socket, error));
      socket.connect(this.options.port, address, (error?: Error) => {
        if (error) {
          socket.close();
          reject(error);
          return;
        }
        resolve(socket);
      });
    });
  }

  /** A new socket is a new transport session: fresh sequence numbers, templates before any data. */
  private replaceSocket(socket: Socket | undefined): void {
    const previous = this.socket;
    this.socket = socket;
    if (previous !== undefined) {
      try {
        previous.close();
      } catch {
        // already closed
      }
    }
    if (socket === undefined) {
      this.exporterIdentity = undefined;
      return;
    }
    const local = socket.address();
    this.exporterIpVersion = local.family === 'IPv6' ? 6 : 4;
    this.exporterIdentity = Object.freeze({ address: local.address, observerNodeName: this.options.observerNodeName });
    this.sequences.clear();
    this.announceDue = true;
    this.inlineDue = true;
  }

  private nextSequence(message: PackedMessage): number {
    const sequenceNumber = this.sequences.get(message.observationDomainId) ?? 0;
    this.sequences.set(message.observationDomainId, (sequenceNumber + message.dataRecords) % SEQUENCE_MODULUS);
    return sequenceNumber;
  }

  /** `flowRecords` is 0 for template and type-record messages. */
  private send(buffer: Buffer, flowRecords: number): void {
    const socket = this.socket!;
    if (this.pending >= MAX_PENDING_DATAGRAMS) {
      this.lose(CollectorLoss.SendQueueFull, flowRecords, 1);
      return;
    }
    this.pending++;
    socket.send(buffer, (error) => {
      this.pending--;
      if (error) this.onSendError(socket, error, flowRecords);
      else if (socket === this.socket) this.onSent(buffer.length, flowRecords);
      if (this.pending === 0) this.releaseWaiters();
    });
  }

  private onSent(bytes: number, flowRecords: number): void {
    this.counters.messages++;
    this.counters.records += flowRecords;
    this.counters.bytes += bytes;
    this.lastSuccessAtMs = Date.now();
    this.lastOkEvent = ++this.events;
  }

  private onSendError(socket: Socket, error: Error, flowRecords: number): void {
    const code = (error as NodeJS.ErrnoException).code ?? 'UNKNOWN';
    if (UNREACHABLE_CODES.has(code)) {
      this.lose(CollectorLoss.Unreachable, flowRecords, 1);
    } else {
      this.counters.sendErrors++;
      this.lose(CollectorLoss.SendError, flowRecords, 1);
    }
    this.onError(socket, error, code);
  }

  /** Errors from the socket itself: on a connected socket, mostly an ICMP error for some earlier datagram. */
  private onSocketError(socket: Socket, error: Error): void {
    const code = (error as NodeJS.ErrnoException).code ?? 'UNKNOWN';
    this.counters.datagramsLost++;
    if (!UNREACHABLE_CODES.has(code)) this.counters.sendErrors++;
    this.onError(socket, error, code);
  }

  private onError(socket: Socket, error: Error, code: string): void {
    if (socket !== this.socket) return;
    this.lastErrorEvent = ++this.events;
    this.lastError = `${code}: ${error.message}`;
    this.options.logger.debug?.({ collector: this.name, code }, 'IPFIX send error');
    if (UNREACHABLE_CODES.has(code)) this.setState('down', code);
  }

  private lose(reason: CollectorLoss, flowRecords: number, datagrams: number): void {
    this.recordsLost[reason] += flowRecords;
    this.counters.datagramsLost += datagrams;
  }

  private setState(state: CollectorState, why: string): void {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this.counters.stateChanges++;
    const details = { collector: this.name, from: previous, to: state, why };
    if (state === 'down') this.options.logger.warn(details, `IPFIX collector ${this.name} is down`);
    else this.options.logger.log(details, `IPFIX collector ${this.name} is ${state}`);
  }

  private releaseWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

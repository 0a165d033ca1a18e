import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { IANA_REGISTRY, type InformationElementRegistry } from './information-elements.js';
import { IpfixDecoder, type CollectedRecord, type DecoderStats, type IpfixDecodeError } from './ipfix-message.decoder.js';

export interface IpfixCollectorOptions {
  readonly host: string;
  /** 0 picks a free port (see address() after start). */
  readonly port: number;
  readonly registry?: InformationElementRegistry;
  readonly onRecord: (record: CollectedRecord) => void;
  /** Each malformed datagram or set, already counted in stats().problems. */
  readonly onProblem?: (exporter: string, problem: IpfixDecodeError) => void;
}

export interface CollectorStats extends DecoderStats {
  datagrams: number;
  socketErrors: number;
}

/**
 * A small IPFIX collector over UDP: decodes every datagram with IpfixDecoder and
 * hands out data records. Used by the `collect` CLI and by tests. Bad input is
 * counted and reported, never thrown.
 */
export class IpfixCollector {
  private readonly decoder: IpfixDecoder;
  private socket: Socket | undefined;
  private datagrams = 0;
  private socketErrors = 0;

  constructor(private readonly options: IpfixCollectorOptions) {
    this.decoder = new IpfixDecoder(options.registry ?? IANA_REGISTRY);
  }

  start(): Promise<{ address: string; port: number }> {
    const socket = createSocket(isIPv6(this.options.host) ? 'udp6' : 'udp4');
    this.socket = socket;
    socket.on('message', (datagram, remote) => this.receive(datagram, remote));
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.options.port, this.options.host, () => {
        socket.off('error', reject);
        socket.on('error', () => this.socketErrors++);
        resolve(socket.address());
      });
    });
  }

  stats(): CollectorStats {
    return { ...this.decoder.stats, problems: new Map(this.decoder.stats.problems), datagrams: this.datagrams, socketErrors: this.socketErrors };
  }

  stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }

  private receive(datagram: Buffer, remote: RemoteInfo): void {
    this.datagrams++;
    const exporter = remote.family === 'IPv6' ? `[${remote.address}]:${remote.port}` : `${remote.address}:${remote.port}`;
    const { records, problems } = this.decoder.decode(datagram, exporter);
    for (const problem of problems) this.options.onProblem?.(exporter, problem);
    for (const record of records) this.options.onRecord(record);
  }
}

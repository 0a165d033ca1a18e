import { createSocket } from 'node:dgram';
import { IpfixCollector } from '../../src/adapters/ipfix/ipfix-collector.js';
import type { CollectedRecord, IpfixDecodeError } from '../../src/adapters/ipfix/ipfix-message.decoder.js';

/** The built-in collector on loopback, keeping what it receives for assertions. */
export interface CollectorHarness {
  readonly port: number;
  readonly records: CollectedRecord[];
  readonly problems: Array<{ exporter: string; problem: IpfixDecodeError }>;
  readonly collector: IpfixCollector;
  /** Data records of one observation domain. */
  inDomain(domain: number): CollectedRecord[];
  stop(): Promise<void>;
}

export async function startCollector(port = 0, host = '127.0.0.1'): Promise<CollectorHarness> {
  const records: CollectedRecord[] = [];
  const problems: Array<{ exporter: string; problem: IpfixDecodeError }> = [];
  const collector = new IpfixCollector({
    host,
    port,
    onRecord: (record) => records.push(record),
    onProblem: (exporter, problem) => problems.push({ exporter, problem }),
  });
  const bound = await collector.start();
  return {
    port: bound.port,
    records,
    problems,
    collector,
    inDomain: (domain) => records.filter((record) => record.domain === domain),
    stop: () => collector.stop(),
  };
}

/** A UDP port on 127.0.0.1 that was free a moment ago (nothing listens on it now). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

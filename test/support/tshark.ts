import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawnWatched } from './watched-process.js';

const run = promisify(execFile);

/** One packet of `tshark -T json --no-duplicate-keys`: its dissected layers; repeated keys hold arrays. */
export type TsharkPacket = { _source: { layers: Record<string, unknown> } };

type Tree = { [key: string]: string | string[] | Tree | Tree[] };

/** IPFIX/NetFlow data records of a dissection: each "Flow N" node of the data sets, with its set id and the message's domain and sequence. */
export function cflowRecords(packets: readonly TsharkPacket[]): Array<{ domain: number; sequence: number; setId: number; fields: Tree }> {
  const records: Array<{ domain: number; sequence: number; setId: number; fields: Tree }> = [];
  for (const packet of packets) {
    const layer = packet._source.layers.cflow as Tree | Tree[] | undefined;
    for (const message of ([] as Tree[]).concat(layer ?? [])) {
      for (const [key, set] of Object.entries(message)) {
        if (!key.startsWith('Set ')) continue;
        for (const node of ([] as Tree[]).concat(set as Tree | Tree[])) {
          const setId = Number(node['cflow.flowset_id']);
          if (setId < 256) continue;
          for (const [flowKey, fields] of Object.entries(node)) {
            if (!flowKey.startsWith('Flow ')) continue;
            for (const flow of ([] as Tree[]).concat(fields as Tree | Tree[])) {
              records.push({ domain: Number(message['cflow.od_id']), sequence: Number(message['cflow.sequence']), setId, fields: flow });
            }
          }
        }
      }
    }
  }
  return records;
}

export interface TsharkResult {
  /** Every captured packet, dissected with the port decoded as `decodeAs`. */
  readonly packets: TsharkPacket[];
  /** `tshark -q -z expert` text: the expert info (e.g. "Unexpected flow sequence"). */
  readonly expert: string;
}

export interface TsharkCapture {
  /** Stops the capture and dissects it. */
  stop(): Promise<TsharkResult>;
}

/**
 * A capture on the loopback interface for UDP port `port`, dissected afterwards by
 * tshark 4.0 with `-d udp.port==port,<decodeAs>` (cflow for IPFIX/NetFlow, sflow).
 * A capture says "Capturing on" before it really sees packets, and prints them with
 * a lag: so start and stop both send probe datagrams (to a second, otherwise unused
 * port in the filter) until one is seen. Everything sent before that probe was captured.
 */
export async function startTshark(port: number, decodeAs: 'cflow' | 'sflow' = 'cflow', extraOptions: string[] = []): Promise<TsharkCapture> {
  const directory = await mkdtemp(join(tmpdir(), 'tshark-'));
  const file = join(directory, 'capture.pcapng');
  const probePort = await unusedUdpPort();
  const capture = spawnWatched('tshark', ['-i', 'lo', '-f', `udp port ${port} or udp port ${probePort}`, '-w', file, '-P', '-l']);
  const probe = createSocket('udp4');
  /** Probes of each phase carry a payload of their own length, so a late line from an earlier phase cannot be mistaken for one. */
  const probeUntilSeen = async (payload: string) => {
    const seen = new RegExp(`→ ${probePort} Len=${payload.length}$`);
    const timer = setInterval(() => probe.send(payload, probePort, '127.0.0.1'), 50);
    try {
      await capture.waitForLine('stdout', seen, 15_000);
    } finally {
      clearInterval(timer);
    }
  };
  const cleanUp = async () => {
    probe.close();
    // KEEP_PCAP=<path> keeps a copy of the capture for inspection.
    if (process.env.KEEP_PCAP) await run('cp', [file, process.env.KEEP_PCAP]);
    await rm(directory, { recursive: true, force: true });
  };
  try {
    await probeUntilSeen('start');
  } catch (error) {
    await capture.stop('SIGKILL');
    await cleanUp();
    throw error;
  }
  return {
    async stop() {
      try {
        await probeUntilSeen('stop-probe');
        const code = await capture.stop('SIGINT');
        if (code !== 0) throw new Error(`tshark capture exited with ${code}:\n${capture.stderr.join('\n')}`);
        const dissect = ['-r', file, '-d', `udp.port==${port},${decodeAs}`, ...extraOptions];
        const options = { maxBuffer: 256 << 20 };
        // Without --no-duplicate-keys, repeated fields (e.g. several enterprise entries) would collapse to the last one.
        const { stdout: json } = await run('tshark', [...dissect, '-T', 'json', '--no-duplicate-keys'], options);
        const { stdout: expert } = await run('tshark', [...dissect, '-q', '-z', 'expert'], options);
        return { packets: JSON.parse(json) as TsharkPacket[], expert };
      } finally {
        // A no-op when it already exited; otherwise (the stop probe never showed) it must not outlive the test.
        await capture.stop('SIGKILL');
        await cleanUp();
      }
    },
  };
}

async function unusedUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

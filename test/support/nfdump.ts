import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawnWatched } from './watched-process.js';

const run = promisify(execFile);

/** One flow as `nfdump -o json` prints it (nfdump 1.7.1; enterprise elements are skipped by nfdump). */
export type NfdumpRecord = Record<string, string | number>;

export interface NfcapdResult {
  /** Every flow stored, without the sentinel flow stop() uses to know nfcapd is done. */
  readonly records: NfdumpRecord[];
  /** "Sequence failures" from `nfdump -I`. */
  readonly sequenceFailures: number;
  /** The whole `nfdump -I` statistics text. */
  readonly statistics: string;
  /** What nfcapd printed. */
  readonly log: string;
}

export interface NfcapdRun {
  readonly port: number;
  /** Stops nfcapd (SIGTERM flushes its file) and reads back everything it stored. */
  stop(): Promise<NfcapdResult>;
}

/** The sentinel flow: from a documentation address with a reserved protocol number, removed from the results. */
const SENTINEL_ADDRESS = '192.0.2.254';
const SENTINEL_PROTOCOL = 255;

/** A NetFlow v5 datagram (header 24 B, one 48 B record) carrying the sentinel flow. */
function sentinelDatagram(): Buffer {
  const datagram = Buffer.alloc(24 + 48);
  datagram.writeUInt16BE(5, 0); // version
  datagram.writeUInt16BE(1, 2); // count
  datagram.writeUInt32BE(Math.floor(Date.now() / 1000), 8); // unix_secs
  const record = 24;
  datagram.writeUInt32BE(0xc00002fe, record); // srcaddr 192.0.2.254
  datagram.writeUInt32BE(0xc00002fe, record + 4); // dstaddr
  datagram.writeUInt32BE(1, record + 16); // dPkts
  datagram.writeUInt32BE(64, record + 20); // dOctets
  datagram[record + 38] = SENTINEL_PROTOCOL; // prot
  return datagram;
}

/**
 * Sends the sentinel datagram to 127.0.0.1:port every 100 ms until killed (python3:
 * it runs inside a network namespace too). Each repeat carries the next
 * flow_sequence (offset 16): nfdump counts a repeated sequence as a sequence
 * failure, and a slow machine may process several repeats before the sender is killed.
 */
const REPEATING_SENDER = `
import socket, struct, sys, time
datagram, port = bytearray.fromhex(sys.argv[1]), int(sys.argv[2])
sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sequence = 0
while True:
    struct.pack_into('>I', datagram, 16, sequence)
    sender.sendto(datagram, ('127.0.0.1', port))
    sequence += 1
    time.sleep(0.1)
`;

/** `command args` as is, or run inside a network namespace. */
function inNamespace(namespace: string | undefined, command: string, args: string[]): [string, string[]] {
  return namespace === undefined ? [command, args] : ['ip', ['netns', 'exec', namespace, command, ...args]];
}

/**
 * nfcapd handles datagrams in arrival order and logs the first datagram of a new
 * exporter: once the sentinel (the only NetFlow v5 exporter) is logged, everything
 * sent before it has been processed and SIGTERM loses nothing.
 */
async function sendSentinelUntilProcessed(port: number, namespace: string | undefined, waitForLine: (pattern: RegExp) => Promise<unknown>): Promise<void> {
  const sender = spawnWatched(...inNamespace(namespace, 'python3', ['-c', REPEATING_SENDER, sentinelDatagram().toString('hex'), String(port)]));
  try {
    await waitForLine(/Process_v5: New exporter/);
  } finally {
    await sender.stop('SIGKILL');
  }
}

/**
 * nfcapd (nfdump 1.7.1) listening on 127.0.0.1:port — of `namespace` when given,
 * e.g. a lab's node namespace — writing to a temporary directory. Resolves once it
 * has bound its socket ("Startup nfcapd." follows the bind).
 */
export async function startNfcapd(port: number, namespace?: string): Promise<NfcapdRun> {
  const directory = await mkdtemp(join(tmpdir(), 'nfcapd-'));
  const nfcapd = spawnWatched(...inNamespace(namespace, 'nfcapd', ['-p', String(port), '-b', '127.0.0.1', '-w', directory, '-t', '3600']));
  try {
    await Promise.race([nfcapd.waitForLine('stdout', /Startup nfcapd/), nfcapd.waitForLine('stderr', /Startup nfcapd/)]);
  } catch (error) {
    await nfcapd.stop('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    async stop() {
      try {
        let code: number | string;
        try {
          await sendSentinelUntilProcessed(port, namespace, (pattern) => Promise.race([nfcapd.waitForLine('stdout', pattern), nfcapd.waitForLine('stderr', pattern)]));
        } finally {
          code = await nfcapd.stop('SIGTERM');
        }
        const log = [...nfcapd.stdout, ...nfcapd.stderr].join('\n');
        if (code !== 0) throw new Error(`nfcapd exited with ${code}:\n${log}`);
        const files = (await readdir(directory)).filter((name) => /^nfcapd\.\d+$/.test(name));
        if (files.length !== 1) throw new Error(`expected one nfcapd file, found ${files.join(', ') || 'none'}:\n${log}`);
        const file = join(directory, files[0]);
        // nfdump prints times in local time: pin it to UTC.
        const options = { maxBuffer: 64 << 20, env: { ...process.env, TZ: 'UTC' } };
        const { stdout: json } = await run('nfdump', ['-r', file, '-o', 'json'], options);
        const { stdout: statistics } = await run('nfdump', ['-r', file, '-I'], options);
        const sequence = /^Sequence failures: (\d+)$/m.exec(statistics);
        if (sequence === null) throw new Error(`no sequence failures line in nfdump -I:\n${statistics}`);
        const stored = json.includes('No matching flows') ? [] : (JSON.parse(json) as NfdumpRecord[]);
        const records = stored.filter((record) => !(record.src4_addr === SENTINEL_ADDRESS && record.proto === SENTINEL_PROTOCOL));
        return { records, sequenceFailures: Number(sequence[1]), statistics, log };
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    },
  };
}

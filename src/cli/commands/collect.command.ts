import { once } from 'node:events';
import { IpfixCollector } from '../../adapters/ipfix/ipfix-collector.js';
import { UsageError, type CliCommand } from '../cli-command.js';
import { FlowTable, recordJsonLine } from '../collected-record.format.js';
import { parseOptions } from '../run-cli.js';

const LISTEN = /^(?:\[(?<v6>[0-9a-fA-F:.]+)\]|(?<host>[^:]+)):(?<port>\d{1,5})$/;

export function parseListen(value: string): { host: string; port: number } {
  const match = LISTEN.exec(value);
  const port = Number(match?.groups?.port);
  if (match === null || !(port >= 0 && port <= 65535)) throw new UsageError(`--listen must be HOST:PORT or [IPv6]:PORT, got ${value}`);
  return { host: match.groups!.v6 ?? match.groups!.host, port };
}

/** A built-in IPFIX collector: prints every data record it decodes until SIGINT/SIGTERM. */
export const collectCommand: CliCommand = {
  name: 'collect',
  summary: 'receive IPFIX over UDP and print each data record (JSON lines or a table)',
  usage: 'k8s-flow-exporter collect --listen HOST:PORT [--format json|table]',
  async run(args, io) {
    const values = parseOptions(args, { listen: { type: 'string' }, format: { type: 'string', default: 'json' } });
    if (values.listen === undefined) throw new UsageError('--listen is required');
    if (values.format !== 'json' && values.format !== 'table') throw new UsageError('--format must be json or table');
    const { host, port } = parseListen(values.listen);
    const table = new FlowTable();
    const collector = new IpfixCollector({
      host,
      port,
      onRecord: (record) => {
        if (values.format === 'json') io.out(recordJsonLine(record));
        else for (const line of table.lines(record)) io.out(line);
      },
      onProblem: (exporter, problem) => io.err(`dropped from ${exporter}: ${problem.reason}: ${problem.message}`),
    });
    const bound = await collector.start();
    io.err(`listening on ${bound.address}:${bound.port} (${values.format})`);
    if (!io.signal.aborted) await once(io.signal, 'abort');
    await collector.stop();
    const stats = collector.stats();
    const problems = [...stats.problems.values()].reduce((sum, count) => sum + count, 0);
    io.err(`received ${stats.datagrams} datagrams, ${stats.dataRecords} data records; ${problems} problems; ${stats.sequenceErrors} sequence errors`);
    return 0;
  },
};

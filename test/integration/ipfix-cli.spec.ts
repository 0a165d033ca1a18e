import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { Test, type TestingModule } from '@nestjs/testing';
import { ConfigModule } from '../../src/adapters/config/config.module.js';
import { IpfixExportModule } from '../../src/adapters/ipfix/ipfix-export.module.js';
import { FlowSinkPort } from '../../src/application/ports/flow-sink.port.js';
import { IpProtocol } from '../../src/domain/flow/flow-key.js';
import { DATABASE_CONTEXT, enrichedFlow, FRONTEND_CONTEXT } from '../support/flow-fixtures.js';
import { testConfig } from '../support/test-config.js';
import { spawnWatched, type WatchedProcess } from '../support/watched-process.js';

const root = join(__dirname, '..', '..');
/** Runs src/cli.ts straight from source (the same code tsc builds into dist/cli.js). */
function cli(...args: string[]): WatchedProcess {
  return spawnWatched(process.execPath, ['-r', join(root, 'test/support/swc-register.js'), join(root, 'src/cli.ts'), ...args], { cwd: root });
}

async function exportTo(port: number, flows: Parameters<FlowSinkPort['export']>[0]): Promise<TestingModule> {
  const config = testConfig({ IPFIX_COLLECTOR_PORT: String(port), IPFIX_OBSERVATION_DOMAIN_ID: '10', NODE_NAME: 'node-a' });
  const module = await Test.createTestingModule({ imports: [ConfigModule.forRoot(config), IpfixExportModule] }).compile();
  await module.init();
  const sink = module.get(FlowSinkPort);
  sink.export(flows);
  await sink.flush();
  return module;
}

describe('k8s-flow-exporter collect (built-in collector CLI)', () => {
  let collector: WatchedProcess | undefined;
  let exporter: TestingModule | undefined;

  afterEach(async () => {
    await exporter?.close();
    await collector?.stop();
    exporter = undefined;
    collector = undefined;
  });

  it('prints one JSON line per data record, with names learned from RFC 5610 records', async () => {
    collector = cli('collect', '--listen', '127.0.0.1:0', '--format', 'json');
    const [, port] = await collector.waitForLine('stderr', /^listening on 127\.0\.0\.1:(\d+) \(json\)$/);
    const big = enrichedFlow({ octets: 2 ** 60, layer2Octets: 2 ** 60 + 14 }, { protocol: IpProtocol.Udp });
    exporter = await exportTo(Number(port), [enrichedFlow(), big]);
    const lines = await collector.waitForLines('stdout', /"domain":10,/, 2);
    const [first, second] = lines.map((line) => JSON.parse(line));
    expect(first).toMatchObject({
      type: 'data',
      domain: 10,
      template: 256,
      exporter: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      fields: {
        sourceIPv4Address: '10.244.1.17',
        destinationTransportPort: 5432,
        packetDeltaCount: 12,
        sourcePodName: FRONTEND_CONTEXT.pod,
        destinationWorkloadName: DATABASE_CONTEXT.workloadName,
        observerNodeName: 'node-a',
      },
    });
    // Integers beyond 2^53 are printed as decimal strings.
    expect(second.fields.octetDeltaCount).toBe((2n ** 60n).toString());
    const typeRecords = collector.stdout.filter((line) => line.includes('"domain":11,')).map((line) => JSON.parse(line));
    expect(typeRecords.map((record) => record.fields.informationElementName)).toContain('sourcePodName');
    expect(await collector.stop('SIGTERM')).toBe(0);
    expect(collector.stderr.join('\n')).toMatch(/0 problems; 0 sequence errors/);
  });

  it('prints a table of flows', async () => {
    collector = cli('collect', '--listen', '127.0.0.1:0', '--format', 'table');
    const [, port] = await collector.waitForLine('stderr', /^listening on 127\.0\.0\.1:(\d+) \(table\)$/);
    exporter = await exportTo(Number(port), [enrichedFlow()]);
    await collector.waitForLine('stdout', /^\d\d:\d\d:\d\d\.\d{3} +tcp /);
    const [header, row] = collector.stdout;
    expect(header).toMatch(/^END +PROTO +SOURCE +DESTINATION +PACKETS +BYTES +DIR +IF +END REASON +SOURCE POD +DESTINATION POD$/);
    expect(row).toContain('10.244.1.17:43512');
    expect(row).toContain('10.244.2.33:5432');
    expect(row).toMatch(/ 12 +4321 in +veth3a9c1f2e +end /);
    expect(row).toContain(`shop-production/${FRONTEND_CONTEXT.pod}`);
    // The header and the columns line up.
    expect(row.indexOf('10.244.2.33')).toBe(header.indexOf('DESTINATION '));
  });

  it('reports malformed datagrams and keeps running', async () => {
    collector = cli('collect', '--listen', '127.0.0.1:0');
    const [, port] = await collector.waitForLine('stderr', /^listening on 127\.0\.0\.1:(\d+)/);
    const socket = createSocket('udp4');
    for (const datagram of [Buffer.from('hello'), Buffer.from('0009000100000000000000000000000000000000', 'hex')]) {
      await new Promise<void>((resolve) => socket.send(datagram, Number(port), '127.0.0.1', () => resolve()));
    }
    socket.close();
    await collector.waitForLine('stderr', /dropped from 127\.0\.0\.1:\d+: truncated_header/);
    await collector.waitForLine('stderr', /dropped from 127\.0\.0\.1:\d+: bad_version/);
    exporter = await exportTo(Number(port), [enrichedFlow()]);
    await collector.waitForLine('stdout', /"domain":10,/);
    expect(await collector.stop('SIGINT')).toBe(0);
    expect(collector.stderr.join('\n')).toMatch(/2 problems/);
  });

  it('rejects bad arguments with the usage and exit code 2', async () => {
    const bad = cli('collect', '--listen', 'nowhere');
    expect(await bad.exited).toBe(2);
    expect(bad.stderr.join('\n')).toMatch(/usage: k8s-flow-exporter collect --listen HOST:PORT/);
    const unknown = cli('frobnicate');
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr.join('\n')).toMatch(/unknown command: frobnicate/);
  });
});

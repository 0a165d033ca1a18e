import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IpProtocol } from '../../src/domain/flow/flow-key.js';
import { FlowEndReason } from '../../src/domain/flow/flow-record.js';
import { EXIT_CONFIG_ERROR } from '../../src/agent.js';
import { flowDelta, flowKey } from '../fakes/flow-deltas.js';
import { freeUdpPort, startCollector } from '../support/ipfix-collector.harness.js';
import { startNfcapd } from '../support/nfdump.js';
import { cflowRecords, startTshark } from '../support/tshark.js';
import { spawnWatched, type WatchedProcess } from '../support/watched-process.js';

const ROOT = resolve(__dirname, '../..');
const BUILT_MAIN = join(ROOT, 'dist/main.js');

/** Every line the agent writes, on either stream, must be a JSON object. */
function expectOnlyJsonLines(agent: WatchedProcess): void {
  for (const line of [...agent.stdout, ...agent.stderr].filter((l) => l.trim() !== '')) {
    expect(() => JSON.parse(line)).not.toThrow();
  }
}

const replayedFlows = [
  flowDelta({ packets: 12, octets: 1_800, layer2Octets: 1_968, tcpFlags: 0x18 }),
  flowDelta({
    key: flowKey({ ipVersion: 6, sourceAddress: 'fd00::10', destinationAddress: 'fd00::20', protocol: IpProtocol.Udp, direction: 1, interfaceIndex: 9 }),
    interfaceName: 'veth-b',
    packets: 3,
    octets: 3 * 548,
    layer2Octets: 3 * 562,
  }),
];
const contexts = {
  '10.244.1.10': { pod: 'web-7d9c', namespace: 'shop', node: 'node-a', container: 'app', workloadKind: 'Deployment', workloadName: 'web' },
  '10.244.1.20': { pod: 'db-0', namespace: 'shop', node: 'node-a', serviceName: 'db', serviceNamespace: 'shop', servicePortName: 'pg', workloadKind: 'StatefulSet', workloadName: 'db' },
};

async function startReplayAgent(collectorPort: number, healthPort: number): Promise<WatchedProcess> {
  const agent = spawnWatched(process.execPath, ['-r', './test/support/swc-register.js', 'test/fixtures/replay-agent.main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      IPFIX_COLLECTOR_HOST: '127.0.0.1',
      IPFIX_COLLECTOR_PORT: String(collectorPort),
      IPFIX_FLOW_TIMEOUT: '300',
      NODE_NAME: 'node-a',
      HEALTH_PORT: String(healthPort),
      METRICS_PORT: String(healthPort + 1),
      HTTP_BIND_ADDRESS: '127.0.0.1',
      REPLAY_FLOWS: JSON.stringify(replayedFlows),
      REPLAY_CONTEXTS: JSON.stringify(contexts),
    },
  });
  await agent.waitForLine('stdout', /"msg":"IPFIX collector [^"]+ is up"/, 20_000);
  // The flows sit in the flow table (idle timeout 300 s) once the first drain ran.
  await agent.waitForLine('stdout', /Nest application successfully started/, 20_000);
  return agent;
}

/** A TCP port pair (health, metrics) unlikely to be in use; the agent fails loudly if it is. */
const healthPortFor = (collectorPort: number) => 20_000 + (collectorPort % 20_000);

describe('the agent process', () => {
  it('flushes every flow on SIGTERM as a forced end, with both ends named, then exits 0', async () => {
    const collector = await startCollector();
    const agent = await startReplayAgent(collector.port, healthPortFor(collector.port));
    try {
      await new Promise((resolveDelay) => setTimeout(resolveDelay, 1_500)); // at least one drain at 1 s
      expect(await agent.stop('SIGTERM', 20_000)).toBe(0);
      const flows = collector.inDomain(1);
      expect(flows).toHaveLength(2);
      const tcp = flows.find((record) => record.fields.sourceIPv4Address === '10.244.1.10')!.fields;
      expect(tcp).toMatchObject({
        destinationIPv4Address: '10.244.1.20',
        sourceTransportPort: 40000,
        destinationTransportPort: 8080,
        protocolIdentifier: 6,
        packetDeltaCount: 12,
        octetDeltaCount: 1_800,
        layer2OctetDeltaCount: 1_968,
        tcpControlBits: 0x18,
        flowDirection: 0,
        ingressInterface: 7,
        interfaceName: 'veth-a',
        flowEndReason: FlowEndReason.ForcedEnd,
        sourcePodName: 'web-7d9c',
        sourcePodNamespace: 'shop',
        sourceContainerName: 'app',
        sourceWorkloadKind: 'Deployment',
        sourceWorkloadName: 'web',
        destinationPodName: 'db-0',
        destinationServiceName: 'db',
        destinationServicePortName: 'pg',
        destinationWorkloadKind: 'StatefulSet',
        observerNodeName: 'node-a',
      });
      const udp6 = flows.find((record) => record.fields.sourceIPv6Address === 'fd00::10')!.fields;
      expect(udp6).toMatchObject({
        destinationIPv6Address: 'fd00::20',
        protocolIdentifier: 17,
        packetDeltaCount: 3,
        octetDeltaCount: 1_644,
        layer2OctetDeltaCount: 1_686,
        flowDirection: 1,
        egressInterface: 9,
        interfaceName: 'veth-b',
        flowEndReason: FlowEndReason.ForcedEnd,
        sourcePodName: '',
      });
      expect(collector.problems).toEqual([]);
      expect(agent.stdout.join('\n')).toContain('Flushed all flows at shutdown');
      expectOnlyJsonLines(agent);
    } finally {
      await agent.stop('SIGKILL');
      await collector.stop();
    }
  }, 60_000);

  it('is decoded exactly by nfdump, with no sequence failures', async () => {
    const nfcapd = await startNfcapd(await freeUdpPort());
    const agent = await startReplayAgent(nfcapd.port, healthPortFor(nfcapd.port));
    await new Promise((resolveDelay) => setTimeout(resolveDelay, 1_500));
    expect(await agent.stop('SIGTERM', 20_000)).toBe(0);
    const result = await nfcapd.stop();
    expect(result.sequenceFailures).toBe(0);
    const byProto = new Map(result.records.map((record) => [record.proto, record]));
    expect(byProto.get(6)).toMatchObject({ src4_addr: '10.244.1.10', dst4_addr: '10.244.1.20', src_port: 40000, dst_port: 8080, in_packets: 12, in_bytes: 1_800 });
    expect(byProto.get(17)).toMatchObject({ src6_addr: 'fd00::10', dst6_addr: 'fd00::20', in_packets: 3, in_bytes: 1_644 });
  }, 60_000);

  it('is dissected exactly by tshark, with no sequence warning', async () => {
    // The built-in collector listens, so the agent's connected socket stays up; tshark captures beside it.
    const collector = await startCollector();
    const capture = await startTshark(collector.port);
    const agent = await startReplayAgent(collector.port, healthPortFor(collector.port));
    try {
      await new Promise((resolveDelay) => setTimeout(resolveDelay, 1_500));
      expect(await agent.stop('SIGTERM', 20_000)).toBe(0);
    } finally {
      await agent.stop('SIGKILL');
      await collector.stop();
    }
    const result = await capture.stop();
    expect(result.expert).not.toMatch(/Unexpected flow sequence|Malformed/);
    const flows = cflowRecords(result.packets).filter((record) => record.domain === 1).map((record) => record.fields);
    expect(flows).toHaveLength(2);
    expect(flows.find((fields) => fields['cflow.protocol'] === '6')).toMatchObject({
      'cflow.srcaddr': '10.244.1.10',
      'cflow.dstaddr': '10.244.1.20',
      'cflow.srcport': '40000',
      'cflow.dstport': '8080',
      'cflow.packets': '12',
      'cflow.octets': '1800',
      'cflow.layer2_octet_delta_count': '1968',
      'cflow.tcpflags': '0x0018',
      'cflow.direction': '0',
      'cflow.inputint': '7',
      'cflow.if_name': 'veth-a',
      'cflow.flow_end_reason': '4',
    });
    expect(flows.find((fields) => fields['cflow.protocol'] === '17')).toMatchObject({
      'cflow.srcaddrv6': 'fd00::10',
      'cflow.dstaddrv6': 'fd00::20',
      'cflow.packets': '3',
      'cflow.octets': '1644',
      'cflow.direction': '1',
      'cflow.outputint': '9',
      'cflow.flow_end_reason': '4',
    });
  }, 60_000);

  it('refuses a bad configuration with one JSON line per problem and exit status 78', async () => {
    expect(existsSync(BUILT_MAIN)).toBe(true); // `make test` builds dist/ before the tests
    const agent = spawnWatched(process.execPath, [BUILT_MAIN], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, IPFIX_COLLECTOR_PORT: '99999', FLOW_DRAIN_INTERVAL: 'soon' },
    });
    expect(await agent.exited).toBe(EXIT_CONFIG_ERROR);
    expectOnlyJsonLines(agent);
    const problems = agent.stderr.filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
    expect(problems.map(({ variable, value }) => [variable, value]).sort()).toEqual([
      ['FLOW_DRAIN_INTERVAL', 'soon'],
      ['IPFIX_COLLECTOR_HOST', undefined],
      ['IPFIX_COLLECTOR_PORT', '99999'],
    ]);
    for (const problem of problems) {
      expect(problem).toMatchObject({ level: 'error', msg: 'Invalid configuration', rule: expect.stringContaining(problem.variable) });
    }
  }, 30_000);
});

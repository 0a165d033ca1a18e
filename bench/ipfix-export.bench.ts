/**
 * IPFIX export throughput (not a test: prints figures and ratios measured in one run).
 *
 *   npm run bench:ipfix
 *
 * 1. Encoder alone: full flow records (both ends with realistic Kubernetes names)
 *    packed into 1400-octet messages by the real FlowTemplates + MessagePacker, the
 *    way IpfixExporterAdapter does; records/s on one core.
 * 2. End to end: the real IpfixExporterAdapter (encode, stamp, send on its connected
 *    socket) to a UDP sink in a child process, against Node's raw dgram send of
 *    prebuilt datagrams of the same size on a connected socket to the same sink,
 *    rounds alternating. The ratio is end-to-end records/s over what raw sends of
 *    the same datagrams would carry.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { Logger } from '@nestjs/common';
import { loadConfig } from '../src/adapters/config/load-config.js';
import { FlowTemplates, type FlowExportRow } from '../src/adapters/ipfix/flow-templates.js';
import { exporterRegistry } from '../src/adapters/ipfix/information-elements.js';
import { IpfixExporterAdapter } from '../src/adapters/ipfix/ipfix-exporter.adapter.js';
import { MessagePacker } from '../src/adapters/ipfix/ipfix-message.packer.js';
import { FlowDirection, IpProtocol } from '../src/domain/flow/flow-key.js';
import { FlowEndReason, type EnrichedFlow } from '../src/domain/flow/flow-record.js';
import { EndpointContext, type WorkloadKind } from '../src/domain/kubernetes/endpoint-context.js';

const MAX_MESSAGE_SIZE = 1400;
const FLOWS = 20_000;
const PODS = 400;
const ROUNDS = 7;
/** Flows per export() call, and calls between flush() (keeps the send queue bounded, as drains do). */
const BATCH = 1024;
const BATCHES_PER_FLUSH = 8;
const ENCODE_BATCHES_PER_ROUND = 1000;
const E2E_FLUSHES_PER_ROUND = 75;
const NODE_NAME = 'ip-10-0-12-34.eu-west-1.compute.internal';

interface Pod {
  readonly address: string;
  readonly context: EndpointContext;
}

/** Pods with generated names of realistic length, shared by many flows as the metadata cache shares them. */
function pods(): Pod[] {
  const kinds: WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'];
  const apps = ['checkout-frontend', 'orders-postgresql', 'payment-gateway', 'inventory-service', 'recommendation-engine', 'kube-dns', 'ingress-nginx-controller', 'fluent-bit'];
  return Array.from({ length: PODS }, (_, index) => {
    const app = apps[index % apps.length];
    const kind = kinds[index % kinds.length];
    const pod = kind === 'StatefulSet' ? `${app}-${index % 5}` : `${app}-${(0x7d9f8b6c5d + index).toString(16).slice(0, 10)}-${(index * 7919).toString(36).padStart(5, 'x').slice(-5)}`;
    const context = new EndpointContext({
      pod,
      namespace: index % 3 === 0 ? 'kube-system' : 'shop-production',
      node: `ip-10-0-${index % 50}-${(index * 13) % 250}.eu-west-1.compute.internal`,
      container: app.split('-')[0],
      serviceName: app,
      serviceNamespace: 'shop-production',
      servicePortName: index % 2 === 0 ? 'http' : 'tcp-postgresql',
      workloadKind: kind,
      workloadName: app,
    });
    return { address: `10.244.${index >> 4}.${2 + (index % 16) * 15}`, context };
  });
}

/**
 * Flows between pods; each flow has its own address strings: the pessimistic case
 * for the exporter's address cache (the capture decoder mostly reuses one string per address).
 */
function flows(): EnrichedFlow[] {
  const all = pods();
  const start = Date.now() - 60_000;
  return Array.from({ length: FLOWS }, (_, index) => {
    const source = all[index % PODS];
    const destination = all[(index * 7 + 1) % PODS];
    return {
      flow: {
        key: {
          ipVersion: 4 as const,
          sourceAddress: [...source.address].join(''),
          destinationAddress: [...destination.address].join(''),
          sourcePort: 32_768 + (index % 28_000),
          destinationPort: [80, 443, 5432, 53, 8080][index % 5],
          protocol: index % 5 === 3 ? IpProtocol.Udp : IpProtocol.Tcp,
          icmpType: 0,
          icmpCode: 0,
          vlanId: 0,
          interfaceIndex: 3 + (index % 40),
          direction: index % 2 === 0 ? FlowDirection.Ingress : FlowDirection.Egress,
        },
        interfaceName: `veth${(0x3a9c1f2e + (index % 40)).toString(16)}`,
        packets: 1 + (index % 1000),
        octets: 60 + (index % 1000) * 1200,
        layer2Octets: 74 + (index % 1000) * 1214,
        firstMs: start + index,
        lastMs: start + index + 2345,
        tcpFlags: 0x1b,
        endReason: FlowEndReason.IdleTimeout,
      },
      source: source.context,
      destination: destination.context,
    };
  });
}

/** Records per second of wall time, and per second of this thread's CPU time (what one core does when other jobs compete for it). */
interface Rates {
  readonly wall: number;
  readonly cpu: number;
}

async function measure(records: number, work: () => unknown): Promise<Rates> {
  const started = process.hrtime.bigint();
  const cpuBefore = process.threadCpuUsage();
  await work();
  const cpu = process.threadCpuUsage(cpuBefore);
  return { wall: records / (Number(process.hrtime.bigint() - started) / 1e9), cpu: records / ((cpu.user + cpu.system) / 1e6) };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const millions = (perSecond: number) => `${(perSecond / 1e6).toFixed(2)} M/s`;
const summary = (rounds: Rates[]) =>
  `${millions(median(rounds.map((r) => r.wall)))} wall, ${millions(median(rounds.map((r) => r.cpu)))} per CPU-second (medians of ${rounds.length})`;

/**
 * The adapter's own loop (IpfixExporterAdapter.export and packFlows), without the
 * sockets. Each batch's messages are done with before the next one, as in the
 * adapter when every send of the last batch has completed, so the packer writes
 * over their memory.
 */
function encode(batch: readonly EnrichedFlow[], templates: FlowTemplates, packer: MessagePacker<FlowExportRow>, shape: { datagrams: number; octets: number }): void {
  const row: FlowExportRow = { flow: batch[0], exporter: Object.freeze({ address: '10.0.12.34', observerNodeName: NODE_NAME }) };
  for (let call = 0; call < ENCODE_BATCHES_PER_ROUND; call++) {
    const first = (call * BATCH) % (batch.length - BATCH);
    packer.releaseMessages();
    packer.begin(Math.floor(Date.now() / 1000));
    for (let index = first; index < first + BATCH; index++) {
      row.flow = batch[index];
      const { ipVersion, direction } = row.flow.flow.key;
      packer.addRecord(templates.templateFor(ipVersion, direction, 4), row, false);
    }
    for (const message of packer.finish()) {
      shape.datagrams++;
      shape.octets += message.buffer.length;
    }
  }
}

/** A UDP sink in another process (its receiving does not use this process's core): counts datagrams. */
async function startSink(): Promise<{ port: number; child: ChildProcess; received(): Promise<number> }> {
  const code = `const s = require('node:dgram').createSocket('udp4'); let n = 0;
    s.on('message', () => n++);
    s.bind(0, '127.0.0.1', () => process.send(s.address().port));
    process.on('message', () => process.send(n));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [port] = (await once(child, 'message')) as [number];
  return {
    port,
    child,
    async received() {
      child.send('count');
      const [count] = (await once(child, 'message')) as [number];
      return count;
    },
  };
}

async function exportThrough(exporter: IpfixExporterAdapter, batch: readonly EnrichedFlow[]): Promise<void> {
  for (let flush = 0; flush < E2E_FLUSHES_PER_ROUND; flush++) {
    for (let call = 0; call < BATCHES_PER_FLUSH; call++) {
      const first = ((flush * BATCHES_PER_FLUSH + call) * BATCH) % (batch.length - BATCH);
      exporter.export(batch.slice(first, first + BATCH));
    }
    await exporter.flush();
  }
}

/**
 * Raw ceiling: as many prebuilt datagrams of the same size, same API (connected
 * socket, a callback per send). Distinct buffers, one per datagram of a flush, as
 * the exporter's are: resending one hot buffer would flatter the ceiling.
 */
async function sendRaw(socket: Socket, datagrams: readonly Buffer[]): Promise<void> {
  for (let flush = 0; flush < E2E_FLUSHES_PER_ROUND; flush++) {
    await Promise.all(datagrams.map((datagram) => new Promise<void>((resolve) => socket.send(datagram, () => resolve()))));
  }
}

async function main(): Promise<void> {
  Logger.overrideLogger(['warn', 'error']);
  const batch = flows();
  const templates = new FlowTemplates(exporterRegistry(32473));
  const packer = new MessagePacker<FlowExportRow>({ maxMessageSize: MAX_MESSAGE_SIZE, observationDomainId: 1 });
  const encodedPerRound = ENCODE_BATCHES_PER_ROUND * BATCH;
  console.log(`Node ${process.version}; ${FLOWS} flows between ${PODS} pods, both ends known; messages of at most ${MAX_MESSAGE_SIZE} octets\n`);

  const shape = { datagrams: 0, octets: 0 };
  encode(batch, templates, packer, shape); // warm-up
  const encoded: Rates[] = [];
  for (let round = 0; round < ROUNDS; round++) encoded.push(await measure(encodedPerRound, () => encode(batch, templates, packer, shape)));
  const recordsPerDatagram = ((ROUNDS + 1) * encodedPerRound) / shape.datagrams;
  const datagramSize = Math.round(shape.octets / shape.datagrams);
  console.log(`1. encoder alone: ${summary(encoded)}`);
  console.log(`   rounds (wall): ${encoded.map((r) => millions(r.wall)).join(', ')}`);
  console.log(`   ${recordsPerDatagram.toFixed(2)} records and ${datagramSize} octets per message\n`);

  const sink = await startSink();
  const config = loadConfig({ IPFIX_COLLECTOR_HOST: '127.0.0.1', IPFIX_COLLECTOR_PORT: String(sink.port), NODE_NAME, IPFIX_MAX_MESSAGE_SIZE: String(MAX_MESSAGE_SIZE) });
  const exporter = new IpfixExporterAdapter(config);
  await exporter.onModuleInit();
  const raw = createSocket('udp4');
  raw.on('error', () => undefined);
  await new Promise<void>((resolve) => raw.connect(sink.port, '127.0.0.1', () => resolve()));
  const exportedPerRound = E2E_FLUSHES_PER_ROUND * BATCHES_PER_FLUSH * BATCH;
  const datagrams = Array.from({ length: Math.round((BATCHES_PER_FLUSH * BATCH) / recordsPerDatagram) }, () => Buffer.alloc(datagramSize, 0x5a));

  await exportThrough(exporter, batch); // warm-ups
  await sendRaw(raw, datagrams);
  const endToEnd: Rates[] = [];
  const rawCeiling: Rates[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    endToEnd.push(await measure(exportedPerRound, () => exportThrough(exporter, batch)));
    // Counted in records: the records the same datagrams carry.
    rawCeiling.push(await measure(exportedPerRound, () => sendRaw(raw, datagrams)));
  }
  const ratios = endToEnd.map((ours, round) => ours.wall / rawCeiling[round].wall);
  const status = (exporter.health().details.collectors as Array<{ records: number; messages: number; datagramsLost: number; sendErrors: number }>)[0];
  console.log(`2. end to end, IpfixExporterAdapter → UDP sink: ${summary(endToEnd)}`);
  console.log(`   raw dgram send of the same datagrams: ${summary(rawCeiling)} (records carried)`);
  console.log(`   end to end / raw ceiling (paired rounds, wall): median ${median(ratios).toFixed(2)}; rounds ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')}`);
  console.log(`   the exporter sent ${status.messages} messages with ${status.records} records, ${status.datagramsLost} lost, ${status.sendErrors} send errors; the sink received ${await sink.received()} datagrams from both`);

  raw.close();
  exporter.onApplicationShutdown();
  sink.child.kill();
}

void main();

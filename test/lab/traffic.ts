import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Lab, LabPod, LabService, ServiceProtocol } from './lab.js';

/**
 * Traffic between lab pods, each generator returning the counts a correct
 * exporter must report for the flows it made (the truth for exact checks, shared
 * by the capture tests and end-to-end checks at a collector).
 */
export interface ExpectedFlow {
  readonly ipVersion: 4 | 6;
  readonly sourceAddress: string;
  readonly destinationAddress: string;
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly protocol: number;
  readonly icmpType: number;
  readonly packets: number;
  /** IP headers + payload. */
  readonly octets: number;
  /** octets + 14 B Ethernet header per packet. */
  readonly layer2Octets: number;
}

export type Family = 4 | 6;

const ETHERNET_HEADER = 14;
const IP_HEADER = { 4: 20, 6: 40 } as const;
const UDP_HEADER = 8;
const ICMP_ECHO_HEADER = 8;

const address = (pod: LabPod, family: Family) => (family === 4 ? pod.ipv4 : pod.ipv6);

/** Where a client sends (`address`:`port`), and the pod socket that receives after any NAT. */
interface Target {
  readonly pod: LabPod;
  readonly address: string;
  readonly port: number;
  readonly podAddress: string;
  readonly podPort: number;
}

const podTarget = (pod: LabPod, family: Family, port: number): Target => ({ pod, address: address(pod, family), port, podAddress: address(pod, family), podPort: port });

function serviceTarget(service: LabService, family: Family, protocol: ServiceProtocol, port: number): Target {
  const servicePort = service.ports.find((candidate) => candidate.protocol === protocol && candidate.port === port);
  if (servicePort === undefined) throw new Error(`service ${service.name} has no ${protocol} port ${port}`);
  return {
    pod: service.backend,
    address: family === 4 ? service.clusterIpv4 : service.clusterIpv6,
    port,
    podAddress: address(service.backend, family),
    podPort: servicePort.targetPort,
  };
}

/**
 * One stream to a Service as the two veths see it: at the client's veth it goes
 * to ClusterIP:port (before DNAT), at the backend's veth to podIP:targetPort.
 */
export interface ServiceFlows {
  readonly client: ExpectedFlow;
  readonly backend: ExpectedFlow;
}

/** A UDP stream's flows and how many datagrams the receiving socket got (UDP gives no other proof of delivery). */
export interface UdpStream extends ServiceFlows {
  readonly delivered: number;
}

/** Resolves with the first stdout line matching `pattern` (the stream stays open for later readers). */
function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += String(chunk);
      const line = buffered.split('\n').find((candidate) => pattern.test(candidate));
      if (line === undefined) return;
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      resolve(line);
    };
    const onExit = (code: number | null) => reject(new Error(`process exited (${code}) before printing ${pattern}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

async function finished(child: ChildProcess): Promise<string> {
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  let errors = '';
  child.stderr!.on('data', (chunk) => (errors += String(chunk)));
  const [code] = (child.exitCode !== null ? [child.exitCode] : await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`exit ${code}: ${errors}`);
  return output;
}

const UDP_RECEIVER = `
import socket, sys
host, port, expected = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
s.bind((host, port))
s.settimeout(3)
print('ready', flush=True)
got = 0
try:
    while got < expected:
        s.recv(65535)
        got += 1
except socket.timeout:
    pass
print('received', got, flush=True)
`;

const UDP_SENDER = `
import socket, sys
source, source_port, host, port, count, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((source, source_port))
payload = b'x' * size
for _ in range(count):
    s.sendto(payload, (host, port))
print('sent', count, flush=True)
`;

/** Sends `count` UDP datagrams of `payloadBytes` from one pod to another (receiver started first). */
export async function sendUdp(
  lab: Lab,
  from: LabPod,
  to: LabPod,
  options: { family: Family; count: number; payloadBytes: number; sourcePort: number; destinationPort: number },
): Promise<ExpectedFlow> {
  return (await udpStream(lab, from, podTarget(to, options.family, options.destinationPort), options)).client;
}

/** Sends `count` UDP datagrams from a pod to a Service's ClusterIP `port`; the backend receives them. */
export function sendUdpToService(
  lab: Lab,
  from: LabPod,
  service: LabService,
  options: { family: Family; count: number; payloadBytes: number; sourcePort: number; port: number },
): Promise<UdpStream> {
  return udpStream(lab, from, serviceTarget(service, options.family, 'udp', options.port), options);
}

async function udpStream(lab: Lab, from: LabPod, target: Target, options: { family: Family; count: number; payloadBytes: number; sourcePort: number }): Promise<UdpStream> {
  const { family, count, payloadBytes, sourcePort } = options;
  const receiver = lab.spawn(target.pod.namespace, 'python3', ['-c', UDP_RECEIVER, target.podAddress, String(target.podPort), String(count)]);
  await waitForLine(receiver, /^ready/);
  const receiverDone = finished(receiver);
  await lab.exec(from.namespace, 'python3', ['-c', UDP_SENDER, address(from, family), String(sourcePort), target.address, String(target.port), String(count), String(payloadBytes)]);
  const delivered = Number(/received (\d+)/.exec(await receiverDone)?.[1]);
  const octets = count * (IP_HEADER[family] + UDP_HEADER + payloadBytes);
  const flow = (destinationAddress: string, destinationPort: number): ExpectedFlow => ({
    ipVersion: family,
    sourceAddress: address(from, family),
    destinationAddress,
    sourcePort,
    destinationPort,
    protocol: 17,
    icmpType: 0,
    packets: count,
    octets,
    layer2Octets: octets + count * ETHERNET_HEADER,
  });
  return { client: flow(target.address, target.port), backend: flow(target.podAddress, target.podPort), delivered };
}

/** Pings (every 10 ms unless told) and returns the echo requests and the echo replies as two flows. */
export async function ping(
  lab: Lab,
  from: LabPod,
  to: LabPod,
  options: { family: Family; count: number; payloadBytes: number; intervalSeconds?: number },
): Promise<{ requests: ExpectedFlow; replies: ExpectedFlow }> {
  const { family, count, payloadBytes } = options;
  const output = await lab.exec(from.namespace, 'ping', [`-${family}`, '-c', String(count), '-i', String(options.intervalSeconds ?? 0.01), '-s', String(payloadBytes), '-W', '2', address(to, family)]);
  const received = Number(/(\d+) received/.exec(output)?.[1]);
  if (received !== count) throw new Error(`ping got ${received} of ${count} replies: ${output}`);
  const perPacket = IP_HEADER[family] + ICMP_ECHO_HEADER + payloadBytes;
  const flow = (source: LabPod, destination: LabPod, icmpType: number): ExpectedFlow => ({
    ipVersion: family,
    sourceAddress: address(source, family),
    destinationAddress: address(destination, family),
    sourcePort: 0,
    destinationPort: 0,
    protocol: family === 4 ? 1 : 58,
    icmpType,
    packets: count,
    octets: count * perPacket,
    layer2Octets: count * (perPacket + ETHERNET_HEADER),
  });
  return family === 4 ? { requests: flow(from, to, 8), replies: flow(to, from, 0) } : { requests: flow(from, to, 128), replies: flow(to, from, 129) };
}

const TCP_SERVER = `
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(1)
print('ready', flush=True)
c, _ = s.accept()
total = 0
while True:
    data = c.recv(1 << 20)
    if not data:
        break
    total += len(data)
if sys.argv[3] == 'rst':
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00')
c.close()
print('received', total, flush=True)
`;

/*
 * The sender writes, half-closes, waits for the server's close, then reads its own
 * TCP_INFO (what ss -ti shows): every segment it sent, SYN to last ACK, and the
 * payload bytes. struct tcp_info offsets: segs_out at 136, bytes_sent at 200.
 */
const TCP_CLIENT = `
import json, socket, struct, sys
source, host, port, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_STREAM)
s.bind((source, 0))
s.connect((host, port))
s.sendall(b'y' * size)
s.shutdown(socket.SHUT_WR)
reset = False
try:
    while s.recv(65536):
        pass
except ConnectionResetError:
    reset = True
info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
segs_out = struct.unpack_from('I', info, 136)[0]
bytes_sent, bytes_retrans = struct.unpack_from('QQ', info, 200)
print(json.dumps({'sourcePort': s.getsockname()[1], 'segsOut': segs_out, 'bytesSent': bytes_sent, 'bytesRetrans': bytes_retrans, 'reset': reset}), flush=True)
s.close()
`;

export interface TcpTransfer {
  readonly sourcePort: number;
  /** From the sender's TCP_INFO: segments sent (SYN to last ACK) and payload bytes. */
  readonly segmentsOut: number;
  readonly payloadBytes: number;
  readonly retransmittedBytes: number;
  readonly serverReset: boolean;
}

/** One TCP connection from `from` to `to` carrying `bytes`; the server ends it with FIN or with RST. */
export function tcpTransfer(lab: Lab, from: LabPod, to: LabPod, options: { family: Family; bytes: number; port: number; serverEnd?: 'fin' | 'rst' }): Promise<TcpTransfer> {
  return tcpStream(lab, from, podTarget(to, options.family, options.port), options);
}

/** One TCP connection from a pod to a Service's ClusterIP `port`, served by the backend. */
export function tcpTransferToService(lab: Lab, from: LabPod, service: LabService, options: { family: Family; bytes: number; port: number }): Promise<TcpTransfer> {
  return tcpStream(lab, from, serviceTarget(service, options.family, 'tcp', options.port), options);
}

async function tcpStream(lab: Lab, from: LabPod, target: Target, options: { family: Family; bytes: number; serverEnd?: 'fin' | 'rst' }): Promise<TcpTransfer> {
  const server = lab.spawn(target.pod.namespace, 'python3', ['-c', TCP_SERVER, target.podAddress, String(target.podPort), options.serverEnd ?? 'fin']);
  await waitForLine(server, /^ready/);
  const serverDone = finished(server);
  const client = JSON.parse(await lab.exec(from.namespace, 'python3', ['-c', TCP_CLIENT, address(from, options.family), target.address, String(target.port), String(options.bytes)]));
  await serverDone;
  return { sourcePort: client.sourcePort, segmentsOut: client.segsOut, payloadBytes: client.bytesSent, retransmittedBytes: client.bytesRetrans, serverReset: client.reset };
}

/**
 * Segments the sender put on the wire, as IP-level and L2 counts, from TCP_INFO.
 * With timestamps (Linux default) every segment carries a 32 B TCP header except
 * the SYN (40 B: MSS, SACK-permitted, timestamps, window scale).
 */
export function expectedTcpSender(from: LabPod, to: LabPod, family: Family, port: number, transfer: TcpTransfer): ExpectedFlow {
  return tcpSenderFlow(from, family, transfer, address(to, family), port);
}

/** The client's segments of a connection to a Service, before and after DNAT. */
export function expectedTcpSenderToService(from: LabPod, service: LabService, family: Family, port: number, transfer: TcpTransfer): ServiceFlows {
  const target = serviceTarget(service, family, 'tcp', port);
  return { client: tcpSenderFlow(from, family, transfer, target.address, target.port), backend: tcpSenderFlow(from, family, transfer, target.podAddress, target.podPort) };
}

function tcpSenderFlow(from: LabPod, family: Family, transfer: TcpTransfer, destinationAddress: string, destinationPort: number): ExpectedFlow {
  const SYN_EXTRA_OPTIONS = 8;
  const TCP_HEADER_WITH_TIMESTAMPS = 32;
  const octets = transfer.payloadBytes + transfer.segmentsOut * (IP_HEADER[family] + TCP_HEADER_WITH_TIMESTAMPS) + SYN_EXTRA_OPTIONS;
  return {
    ipVersion: family,
    sourceAddress: address(from, family),
    destinationAddress,
    sourcePort: transfer.sourcePort,
    destinationPort,
    protocol: 6,
    icmpType: 0,
    packets: transfer.segmentsOut,
    octets,
    layer2Octets: octets + transfer.segmentsOut * ETHERNET_HEADER,
  };
}

/** Frame lengths of a classic pcap file (tcpdump -w): original lengths, so any snap length works. */
export function pcapFrameLengths(pcap: Buffer): number[] {
  const magic = pcap.readUInt32LE(0);
  const littleEndian = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const read32 = (offset: number) => (littleEndian ? pcap.readUInt32LE(offset) : pcap.readUInt32BE(offset));
  const lengths: number[] = [];
  for (let offset = 24; offset + 16 <= pcap.length; ) {
    const captured = read32(offset + 8);
    lengths.push(read32(offset + 12));
    offset += 16 + captured;
  }
  return lengths;
}

/** Captures on a pod's eth0 with tcpdump while `traffic` runs; returns the frame lengths seen. Immediate mode, so SIGINT loses no packets still waiting in a ring block. */
export async function capturePodFrames<T>(lab: Lab, pod: LabPod, filter: string, traffic: () => Promise<T>): Promise<{ result: T; frameLengths: number[] }> {
  const file = join(tmpdir(), `${lab.id}-${pod.name}-${Date.now()}.pcap`);
  const tcpdump = lab.spawn(pod.namespace, 'tcpdump', ['-i', 'eth0', '-nn', '--immediate-mode', '-U', '-s', '128', '-w', file, filter]);
  let stderr = '';
  const listening = new Promise<void>((resolve) =>
    tcpdump.stderr!.on('data', (chunk) => {
      stderr += String(chunk);
      if (stderr.includes('listening on')) resolve();
    }),
  );
  await listening;
  try {
    const result = await traffic();
    tcpdump.kill('SIGINT');
    await once(tcpdump, 'exit');
    return { result, frameLengths: pcapFrameLengths(await readFile(file)) };
  } finally {
    tcpdump.kill('SIGKILL');
    await rm(file, { force: true });
  }
}

/** Turns segmentation and receive offloads off on a pod's eth0, so every segment is its own frame. */
export async function disableOffloads(lab: Lab, pod: LabPod): Promise<void> {
  await lab.exec(pod.namespace, 'ethtool', ['-K', 'eth0', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
}

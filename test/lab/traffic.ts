import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
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
  /** Outer 802.1Q id; untagged when absent. */
  readonly vlanId?: number;
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
/** What `ipOptions` adds to each datagram: IPv4 header options, or an IPv6 destination options header. */
const IP_OPTION_BYTES = { 4: 4, 6: 8 } as const;
const ICMP_ECHO_HEADER = 8;
const VLAN_HEADER = 4;

const address = (pod: LabPod, family: Family) => (family === 4 ? pod.ipv4 : pod.ipv6);

/** The MAC address of a pod's eth0. */
async function podMac(lab: Lab, pod: LabPod): Promise<string> {
  const [link] = JSON.parse(await lab.exec(pod.namespace, 'ip', ['-j', 'link', 'show', 'eth0'])) as Array<{ address: string }>;
  return link.address;
}

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
if sys.argv[7] == 'ip-options' and ':' in host:
    # An 8-byte destination options header holding one PadN option (RFC 8200 4.2); the kernel fills in next header.
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, bytes([0, 0, 1, 4, 0, 0, 0, 0]))
elif sys.argv[7] == 'ip-options':
    # 4 bytes of IPv4 options: three No Operation and an End of Option List (RFC 791); the header grows to 24 bytes.
    s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, bytes([1, 1, 1, 0]))
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
  options: { family: Family; count: number; payloadBytes: number; sourcePort: number; destinationPort: number; ipOptions?: boolean },
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

/**
 * What `count` UDP datagrams of `payloadBytes` must count as, at IP level and on
 * the wire: IP + UDP headers (and `ipOptionBytes`) per datagram, plus Ethernet and
 * `vlanTags` 802.1Q headers in layer 2.
 */
function expectedUdp(
  family: Family,
  ends: { sourceAddress: string; sourcePort: number; destinationAddress: string; destinationPort: number },
  count: number,
  payloadBytes: number,
  options: { vlanIds?: readonly number[]; ipOptionBytes?: number } = {},
): ExpectedFlow {
  const { vlanIds = [], ipOptionBytes = 0 } = options;
  const octets = count * (IP_HEADER[family] + ipOptionBytes + UDP_HEADER + payloadBytes);
  return {
    ipVersion: family,
    ...ends,
    protocol: 17,
    icmpType: 0,
    ...(vlanIds.length > 0 ? { vlanId: vlanIds[0] } : {}),
    packets: count,
    octets,
    layer2Octets: octets + count * (ETHERNET_HEADER + VLAN_HEADER * vlanIds.length),
  };
}

/** `ipOptions` adds IP_OPTION_BYTES of options to every datagram: the L4 header is then further in. */
async function udpStream(
  lab: Lab,
  from: LabPod,
  target: Target,
  options: { family: Family; count: number; payloadBytes: number; sourcePort: number; ipOptions?: boolean },
): Promise<UdpStream> {
  const { family, count, payloadBytes, sourcePort } = options;
  const receiver = lab.spawn(target.pod.namespace, 'python3', ['-c', UDP_RECEIVER, target.podAddress, String(target.podPort), String(count)]);
  await waitForLine(receiver, /^ready/);
  const receiverDone = finished(receiver);
  await lab.exec(from.namespace, 'python3', ['-c', UDP_SENDER, address(from, family), String(sourcePort), target.address, String(target.port), String(count), String(payloadBytes), options.ipOptions ? 'ip-options' : 'plain']);
  const delivered = Number(/received (\d+)/.exec(await receiverDone)?.[1]);
  const flow = (destinationAddress: string, destinationPort: number) =>
    expectedUdp(family, { sourceAddress: address(from, family), sourcePort, destinationAddress, destinationPort }, count, payloadBytes, {
      ipOptionBytes: options.ipOptions ? IP_OPTION_BYTES[family] : 0,
    });
  return { client: flow(target.address, target.port), backend: flow(target.podAddress, target.podPort), delivered };
}

const UDP_FLOWS_RECEIVER = `
import selectors, socket, sys
host, ports, expected = sys.argv[1], [int(port) for port in sys.argv[2].split(',')], int(sys.argv[3])
selector = selectors.DefaultSelector()
for port in ports:
    s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
    # FORCE (root) lifts net.core.rmem_max: a burst of small datagrams must not overflow the socket.
    s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE, absent from Python's socket module
    s.bind((host, port))
    s.setblocking(False)
    selector.register(s, selectors.EVENT_READ)
print('ready', flush=True)
got = 0
while got < expected:
    # Wait longer for the first datagram: the sender may start slowly on a busy machine.
    events = selector.select(timeout=3 if got else 15)
    if not events:
        break
    for key, _ in events:
        while True:
            try:
                key.fileobj.recv(65535)
                got += 1
            except BlockingIOError:
                break
print('received', got, flush=True)
`;

const UDP_FLOWS_SENDER = `
import socket, sys, time
source, first_source_port, source_ports, host, ports, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], [int(port) for port in sys.argv[5].split(',')], int(sys.argv[6])
payload = b'x' * size
for index, source_port in enumerate(range(first_source_port, first_source_port + source_ports)):
    s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((source, source_port))
    for port in ports:
        s.sendto(payload, (host, port))
    s.close()
    # Paced: an unpaced burst overflows the receiving veth's backlog (netdev_max_backlog).
    if index % 100 == 99:
        time.sleep(0.001)
print('sent', flush=True)
`;

/**
 * Runs a python3 UDP sender (`sender`: script and arguments) in `from` against a
 * receiver in `to` that counts `expected` datagrams on `ports`; returns how many
 * arrived. The neighbour is resolved first: a burst to an unresolved neighbour is
 * mostly dropped in the sender (only ~256 packets wait for ARP/ND).
 */
async function burstDelivered(lab: Lab, from: LabPod, to: LabPod, receiving: { family: Family; ports: readonly number[]; expected: number }, sender: string[]): Promise<number> {
  const { family, ports, expected } = receiving;
  await lab.exec(from.namespace, 'ip', [`-${family}`, 'neigh', 'replace', address(to, family), 'lladdr', await podMac(lab, to), 'dev', 'eth0', 'nud', 'reachable']);
  const receiver = lab.spawn(to.namespace, 'python3', ['-c', UDP_FLOWS_RECEIVER, address(to, family), ports.join(','), String(expected)]);
  await waitForLine(receiver, /^ready/);
  const receiverDone = finished(receiver);
  await lab.exec(from.namespace, 'python3', ['-c', ...sender]);
  return Number(/received (\d+)/.exec(await receiverDone)?.[1]);
}

/**
 * Many one-datagram UDP flows from one pod to another: every source port of
 * `firstSourcePort`..+`sourcePorts` to every one of `destinationPorts`.
 */
export async function sendUdpFlows(
  lab: Lab,
  from: LabPod,
  to: LabPod,
  options: { family: Family; firstSourcePort: number; sourcePorts: number; destinationPorts: readonly number[]; payloadBytes: number },
): Promise<{ flows: ExpectedFlow[]; delivered: number }> {
  const { family, firstSourcePort, sourcePorts, destinationPorts, payloadBytes } = options;
  const delivered = await burstDelivered(lab, from, to, { family, ports: destinationPorts, expected: sourcePorts * destinationPorts.length }, [
    UDP_FLOWS_SENDER, address(from, family), String(firstSourcePort), String(sourcePorts), address(to, family), destinationPorts.join(','), String(payloadBytes),
  ]);
  const flows: ExpectedFlow[] = [];
  for (let sourcePort = firstSourcePort; sourcePort < firstSourcePort + sourcePorts; sourcePort++) {
    for (const destinationPort of destinationPorts) {
      flows.push(expectedUdp(family, { sourceAddress: address(from, family), sourcePort, destinationAddress: address(to, family), destinationPort }, 1, payloadBytes));
    }
  }
  return { flows, delivered };
}

/** Sends `rounds` rounds of one datagram from each source port in turn, all to one port. */
const TAKING_TURNS_SENDER = `
import socket, sys, time
source, source_ports, host, port, size, rounds = sys.argv[1], [int(p) for p in sys.argv[2].split(',')], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
senders = []
for source_port in source_ports:
    s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, source_port))
    senders.append(s)
payload = b'x' * size
for index in range(rounds):
    for s in senders:
        s.sendto(payload, (host, port))
    if index % 50 == 49:
        time.sleep(0.001)
print('sent', flush=True)
`;

/**
 * UDP flows that take turns packet by packet (A B A B …) from one pod to
 * another: `rounds` datagrams per source port, all to `destinationPort`.
 */
export async function sendUdpTakingTurns(
  lab: Lab,
  from: LabPod,
  to: LabPod,
  options: { family: Family; sourcePorts: readonly number[]; destinationPort: number; rounds: number; payloadBytes: number },
): Promise<{ flows: ExpectedFlow[]; delivered: number }> {
  const { family, sourcePorts, destinationPort, rounds, payloadBytes } = options;
  const delivered = await burstDelivered(lab, from, to, { family, ports: [destinationPort], expected: rounds * sourcePorts.length }, [
    TAKING_TURNS_SENDER, address(from, family), sourcePorts.join(','), address(to, family), String(destinationPort), String(payloadBytes), String(rounds),
  ]);
  const flows = sourcePorts.map((sourcePort) =>
    expectedUdp(family, { sourceAddress: address(from, family), sourcePort, destinationAddress: address(to, family), destinationPort }, rounds, payloadBytes),
  );
  return { flows, delivered };
}

/**
 * One UDP socket shared by a process per CPU the sender may run on, each pinned
 * to its CPU and sending `count` datagrams at the same time as the others. A
 * veth delivers in the sender's context, so the host veth's programs count the
 * same flow on every CPU at once.
 */
const EVERY_CPU_SENDER = `
import os, socket, sys, time
source, source_port, host, port, count, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((source, source_port))
payload = b'x' * size
children = []
for cpu in sorted(os.sched_getaffinity(0)):
    child = os.fork()
    if child == 0:
        os.sched_setaffinity(0, {cpu})
        for index in range(count):
            s.sendto(payload, (host, port))
            if index % 50 == 49:
                time.sleep(0.001)
        os._exit(0)
    children.append(child)
for child in children:
    os.waitpid(child, 0)
print('sent', flush=True)
`;

/**
 * Sends one UDP flow from every CPU at once: `countPerCpu` datagrams from each of
 * the CPUs this process may use (the pod's sender inherits the same set).
 */
export async function sendUdpFromEveryCpu(
  lab: Lab,
  from: LabPod,
  to: LabPod,
  options: { family: Family; countPerCpu: number; payloadBytes: number; sourcePort: number; destinationPort: number },
): Promise<{ flow: ExpectedFlow; delivered: number; cpus: number }> {
  const { family, countPerCpu, payloadBytes, sourcePort, destinationPort } = options;
  const cpus = availableParallelism();
  const delivered = await burstDelivered(lab, from, to, { family, ports: [destinationPort], expected: cpus * countPerCpu }, [
    EVERY_CPU_SENDER, address(from, family), String(sourcePort), address(to, family), String(destinationPort), String(countPerCpu), String(payloadBytes),
  ]);
  const flow = expectedUdp(family, { sourceAddress: address(from, family), sourcePort, destinationAddress: address(to, family), destinationPort }, cpus * countPerCpu, payloadBytes);
  return { flow, delivered, cpus };
}

/*
 * Writes whole Ethernet frames, with 802.1Q tags or none, on the pod's eth0 (AF_PACKET), to
 * the other pod's MAC: this kernel may have no VLAN driver (8021q) for
 * subinterfaces. One tag: 802.1Q (0x8100); with more, the outer is an 802.1ad
 * S-tag (0x88a8), as in Q-in-Q. Nobody on the far side listens on the VLAN, so the
 * frames are only forwarded and observed.
 */
const TAGGED_UDP_SENDER = `
import socket, struct, sys, time
source, destination, destination_mac = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3].replace(':', ''))
source_port, port, count, size = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
vlans = [int(vlan) for vlan in sys.argv[8].split(',') if vlan]
ipv6 = ':' in destination

def checksum(data):
    if len(data) % 2:
        data += b'\\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff

payload = b'v' * size
udp_length = 8 + size
if ipv6:
    addresses = socket.inet_pton(socket.AF_INET6, source) + socket.inet_pton(socket.AF_INET6, destination)
    pseudo = addresses + struct.pack('!IxxxB', udp_length, 17)
    udp = struct.pack('!HHHH', source_port, port, udp_length, 0) + payload
    udp = udp[:6] + struct.pack('!H', checksum(pseudo + udp) or 0xffff) + udp[8:]
    ip = struct.pack('!IHBB', 6 << 28, udp_length, 17, 64) + addresses
    ether_type = 0x86dd
else:
    udp = struct.pack('!HHHH', source_port, port, udp_length, 0) + payload
    header = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + udp_length, 0, 0x4000, 64, 17, 0, socket.inet_aton(source), socket.inet_aton(destination))
    ip = header[:10] + struct.pack('!H', checksum(header)) + header[12:]
    ether_type = 0x0800
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
tags = b''.join(struct.pack('!HH', 0x88a8 if index == 0 and len(vlans) > 1 else 0x8100, vlan) for index, vlan in enumerate(vlans))
frame = destination_mac + s.getsockname()[4] + tags + struct.pack('!H', ether_type) + ip + udp
for index in range(count):
    s.send(frame)
    # Paced: a raw burst can overflow the receiving veth's backlog (netdev_max_backlog) before any hook sees it.
    if index % 50 == 49:
        time.sleep(0.001)
print('sent', count, flush=True)
`;

/**
 * Sends `count` UDP datagrams from one pod to another in Ethernet frames carrying
 * `vlanIds` (outermost first). The expected flow has the outer id and L2 octets
 * that include every tag.
 */
export async function sendTaggedUdp(
  lab: Lab,
  from: LabPod,
  to: LabPod,
  options: { family: Family; vlanIds: readonly number[]; count: number; payloadBytes: number; sourcePort: number; destinationPort: number },
): Promise<ExpectedFlow> {
  const { family, vlanIds, count, payloadBytes, sourcePort, destinationPort } = options;
  await lab.exec(from.namespace, 'python3', [
    '-c', TAGGED_UDP_SENDER, address(from, family), address(to, family), await podMac(lab, to),
    String(sourcePort), String(destinationPort), String(count), String(payloadBytes), vlanIds.join(','),
  ]);
  return expectedUdp(family, { sourceAddress: address(from, family), sourcePort, destinationAddress: address(to, family), destinationPort }, count, payloadBytes, { vlanIds });
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

/*
 * Both ends of a lab TCP connection run on one CPU (the lowest they may use). A veth
 * hands each packet to the backlog of the CPU that sends it, so a sender that moves
 * between CPUs, or whose ACK-clocked sends run on the receiver's CPU, lets later
 * segments overtake earlier ones; the receiver's SACKs then make the sender
 * retransmit segments that were never lost (measured: 6 transfers of 40 without
 * this, none of 40 with it).
 */
const ONE_CPU = 'import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})';

const TCP_SERVER = `
import socket, sys
${ONE_CPU}
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
${ONE_CPU}
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

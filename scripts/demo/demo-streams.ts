import type { Lab, LabPod, LabService } from '../../test/lab/lab.js';
import {
  expectedTcpSender,
  expectedTcpSenderToService,
  ping,
  sendUdp,
  sendUdpToService,
  tcpTransfer,
  tcpTransferToService,
  type ExpectedFlow,
} from '../../test/lab/traffic.js';
import type { ExpectedObservation } from './collected-flows.js';

/** The demo's pods and Services, by the role they play. */
export interface DemoCast {
  readonly frontend: LabPod;
  readonly cart: LabPod;
  readonly coredns: LabPod;
  /** ClusterIP tcp/80 -> cart:8080. */
  readonly cartService: LabService;
  /** ClusterIP udp/53 -> coredns:5353. */
  readonly dnsService: LabService;
}

/** One generated stream and where its packets must appear, with their exact counts. */
export interface StreamRun {
  readonly name: string;
  readonly observations: ExpectedObservation[];
}

/** A pod-to-pod flow is seen twice on one node: leaving the sender (its veth's ingress) and reaching the receiver. */
function podToPod(flow: ExpectedFlow, sender: LabPod, receiver: LabPod): ExpectedObservation[] {
  return [
    { flow, interfaceName: sender.hostInterface, direction: 'in' },
    { flow, interfaceName: receiver.hostInterface, direction: 'out' },
  ];
}

/** To a Service: the client's veth sees the ClusterIP, the backend's veth the pod address after DNAT. */
function viaService(flows: { client: ExpectedFlow; backend: ExpectedFlow }, sender: LabPod, backend: LabPod): ExpectedObservation[] {
  return [
    { flow: flows.client, interfaceName: sender.hostInterface, direction: 'in' },
    { flow: flows.backend, interfaceName: backend.hostInterface, direction: 'out' },
  ];
}

/**
 * One round of known traffic: UDP, TCP, ICMP over IPv4 and IPv6, and to both
 * Services. UDP and ICMP keep their keys from round to round (their counts add
 * up); every TCP connection has a new source port. For TCP only the client's
 * segments are checked: the sender's TCP_INFO is the truth for them.
 */
export async function runStreams(lab: Lab, cast: DemoCast): Promise<StreamRun[]> {
  const { frontend, cart, coredns, cartService, dnsService } = cast;
  const runs: StreamRun[] = [];
  for (const family of [4, 6] as const) {
    const udp = await sendUdp(lab, frontend, cart, { family, count: family === 4 ? 1000 : 500, payloadBytes: family === 4 ? 200 : 1000, sourcePort: 40_000 + family, destinationPort: 5001 });
    runs.push({ name: `udp/ipv${family} frontend -> cart:5001`, observations: podToPod(udp, frontend, cart) });

    const port = 8080;
    const transfer = await tcpTransfer(lab, frontend, cart, { family, bytes: family === 4 ? 1 << 20 : 256 << 10, port });
    runs.push({ name: `tcp/ipv${family} frontend -> cart:${port}`, observations: podToPod(expectedTcpSender(frontend, cart, family, port, transfer), frontend, cart) });

    const { requests, replies } = await ping(lab, frontend, cart, { family, count: 20, payloadBytes: 100 });
    const icmp = family === 4 ? 'icmp' : 'icmpv6';
    runs.push({ name: `${icmp} echo frontend -> cart`, observations: podToPod(requests, frontend, cart) });
    runs.push({ name: `${icmp} echo reply cart -> frontend`, observations: podToPod(replies, cart, frontend) });
  }
  const toCart = await tcpTransferToService(lab, frontend, cartService, { family: 4, bytes: 512 << 10, port: 80 });
  runs.push({ name: `tcp/ipv4 frontend -> service cart:80`, observations: viaService(expectedTcpSenderToService(frontend, cartService, 4, 80, toCart), frontend, cart) });
  const dns = await sendUdpToService(lab, frontend, dnsService, { family: 4, count: 200, payloadBytes: 60, sourcePort: 40_053, port: 53 });
  runs.push({ name: `udp/ipv4 frontend -> service kube-dns:53`, observations: viaService(dns, frontend, coredns) });
  return runs;
}

/** Adds one round's streams to the totals: same stream, same observation = counts add up. */
export function accumulate(totals: Map<string, Map<string, ExpectedObservation>>, runs: readonly StreamRun[]): void {
  for (const { name, observations } of runs) {
    const stream = totals.get(name) ?? new Map<string, ExpectedObservation>();
    totals.set(name, stream);
    for (const observation of observations) {
      const { flow } = observation;
      const key = `${flow.sourceAddress}|${flow.sourcePort}|${flow.destinationAddress}|${flow.destinationPort}|${observation.interfaceName}|${observation.direction}`;
      const known = stream.get(key);
      stream.set(
        key,
        known === undefined
          ? observation
          : {
              ...known,
              flow: {
                ...known.flow,
                packets: known.flow.packets + flow.packets,
                octets: known.flow.octets + flow.octets,
                layer2Octets: known.flow.layer2Octets + flow.layer2Octets,
              },
            },
      );
    }
  }
}

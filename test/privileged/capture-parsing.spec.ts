import { Lab, type LabPod } from '../lab/lab.js';
import { sendTaggedUdp, sendUdp, sendUdpFlows, type ExpectedFlow, type Family } from '../lab/traffic.js';
import { CaptureAgent } from '../support/capture-agent.js';
import { bothObservations, ObservedFlows } from '../support/flow-observations.js';
import { describePrivileged } from '../support/privileges.js';

jest.setTimeout(120_000);

/*
 * Header parsing paths beyond plain Ethernet + IP + L4 (the common case, which the
 * count tests cover). Parsing does not depend on the attach mode, so these run in
 * the default one (TCX on kernels >= 6.6).
 */

const MTU = 1500;
const IP_HEADER = { 4: 20, 6: 40 } as const;
const IPV6_FRAGMENT_HEADER = 8;
const UDP_HEADER = 8;
const ETHERNET_HEADER = 14;

/** IP-level lengths of the fragments of one UDP datagram: every fragment but the last carries a multiple of 8 bytes. */
function fragmentLengths(family: Family, payloadBytes: number): number[] {
  const headers = family === 4 ? IP_HEADER[4] : IP_HEADER[6] + IPV6_FRAGMENT_HEADER;
  const perFragment = Math.floor((MTU - headers) / 8) * 8;
  const lengths: number[] = [];
  for (let remaining = UDP_HEADER + payloadBytes; remaining > 0; remaining -= perFragment) lengths.push(headers + Math.min(perFragment, remaining));
  return lengths;
}

describePrivileged('capture parsing: VLAN tags, fragments, IP options, IPv6 extension headers', () => {
  let lab: Lab;
  let agent: CaptureAgent;
  let a: LabPod, b: LabPod;

  beforeAll(async () => {
    lab = await Lab.create({ pods: 2 });
    [a, b] = lab.podList;
    agent = CaptureAgent.start(lab, { EBPF_BUFFER_SIZE: '16384' });
    await agent.waitUntilReady();
    await agent.waitUntilAttached(lab.podList);
  });

  afterAll(async () => {
    await agent?.stop();
    await lab?.destroy();
  });

  /** Raw frames have no receiver to confirm them, so this drains until the traffic has settled. */
  async function observe<T>(traffic: () => Promise<T>): Promise<{ result: T; observed: ObservedFlows }> {
    await new ObservedFlows().drainUntilQuiet(agent);
    const result = await traffic();
    const observed = new ObservedFlows();
    await observed.drainUntilQuiet(agent);
    expect(observed.drops).toEqual({});
    return { result, observed };
  }

  async function kernelEvent(name: string): Promise<number> {
    return ((await agent.health()).details as { kernelEvents: Record<string, number> }).kernelEvents[name];
  }

  it.each([4, 6] as const)('puts the outer VLAN id into the key and counts tagged frames exactly, one tag or Q-in-Q (IPv%s)', async (family) => {
    for (const vlanIds of [[100], [200, 300], [400, 500, 600]]) {
      const { result: tagged, observed } = await observe(() =>
        sendTaggedUdp(lab, a, b, { family, vlanIds, count: 200, payloadBytes: 200, sourcePort: 43_000 + family, destinationPort: 5201 }),
      );
      expect(observed.of(tagged)).toEqual(bothObservations(tagged, a.hostInterface, b.hostInterface));
    }
  });

  it('counts frames with more VLAN tags than it parses as vlan_too_deep losses', async () => {
    await agent.drain();
    const tooDeep = await sendTaggedUdp(lab, a, b, { family: 4, vlanIds: [700, 701, 702, 703], count: 50, payloadBytes: 200, sourcePort: 43_010, destinationPort: 5201 });
    const observed = new ObservedFlows();
    await observed.drainFrom(agent);
    expect(observed.drops).toEqual({ vlan_too_deep: 2 * tooDeep.packets });
    expect(observed.of(tooDeep)).toEqual({});
  });

  it.each([4, 6] as const)('counts the fragments of UDP datagrams larger than the MTU: the first under the ports, the rest under ports 0 (IPv%s)', async (family) => {
    const count = 50;
    const payloadBytes = 4000;
    const eventsBefore = await kernelEvent('non_first_fragment');
    const { result: datagrams, observed } = await observe(() => sendUdp(lab, a, b, { family, count, payloadBytes, sourcePort: 44_000 + family, destinationPort: 5202 }));
    const [first, ...rest] = fragmentLengths(family, payloadBytes);
    const restOctets = rest.reduce((sum, length) => sum + length, 0);
    const firstFragments: ExpectedFlow = { ...datagrams, octets: count * first, layer2Octets: count * (first + ETHERNET_HEADER) };
    const laterFragments: ExpectedFlow = {
      ...datagrams,
      sourcePort: 0,
      destinationPort: 0,
      packets: count * rest.length,
      octets: count * restOctets,
      layer2Octets: count * (restOctets + rest.length * ETHERNET_HEADER),
    };
    expect(observed.of(firstFragments)).toEqual(bothObservations(firstFragments, a.hostInterface, b.hostInterface));
    expect(observed.of(laterFragments)).toEqual(bothObservations(laterFragments, a.hostInterface, b.hostInterface));
    // Seen at two veths each.
    expect((await kernelEvent('non_first_fragment')) - eventsBefore).toBe(2 * count * rest.length);
  });

  /* IPv4 options and IPv6 extension headers take a packet out of the common case (bpf/packet_parse.h) to the general path. */
  it.each([4, 6] as const)('finds the UDP ports behind IP options: IPv4 header options, an IPv6 destination options header (IPv%s)', async (family) => {
    const { result: sent, observed } = await observe(() =>
      sendUdp(lab, a, b, { family, count: 100, payloadBytes: 300, sourcePort: 45_000 + family, destinationPort: 5203, ipOptions: true }),
    );
    expect(observed.of(sent)).toEqual(bothObservations(sent, a.hostInterface, b.hostInterface));
  });

  /** Sets the MTU of both pods' eth0 and their host-side veths (the bridge follows its ports). */
  async function setPathMtu(mtu: number): Promise<void> {
    for (const pod of lab.podList) {
      await lab.exec(pod.namespace, 'ip', ['link', 'set', 'eth0', 'mtu', String(mtu)]);
      await lab.exec(lab.nodeNamespace, 'ip', ['link', 'set', pod.hostInterface, 'mtu', String(mtu)]);
    }
  }

  /*
   * A packet socket puts only the link-layer header of a frame of a page or more
   * into the skb's linear data (packet_alloc_skb), and nothing pulls more before
   * the pod veth's ingress hook: the program must read the IP and UDP headers
   * through bpf_skb_load_bytes. Were that path broken, every frame would be a
   * truncated_l3 loss or lose its ports.
   */
  it.each([4, 6] as const)('reads the IP and UDP headers of frames whose linear data ends after the Ethernet header (IPv%s)', async (family) => {
    const JUMBO_MTU = 9000;
    try {
      await setPathMtu(JUMBO_MTU);
      const { result: sent, observed } = await observe(() =>
        sendTaggedUdp(lab, a, b, { family, vlanIds: [], count: 100, payloadBytes: 6000, sourcePort: 46_000 + family, destinationPort: 5204 }),
      );
      expect(observed.of(sent)).toEqual(bothObservations(sent, a.hostInterface, b.hostInterface));
    } finally {
      await setPathMtu(MTU);
    }
  });
});

describePrivileged('capture parsing: a full flow map', () => {
  let lab: Lab;
  let agent: CaptureAgent;

  beforeAll(async () => {
    lab = await Lab.create({ pods: 2 });
    // Router solicitations, MLD and IGMP reports would race our flows for the last map slots.
    await lab.silenceBackgroundTraffic();
    agent = CaptureAgent.start(lab, { EBPF_BUFFER_SIZE: '1024' });
    await agent.waitUntilReady();
    await agent.waitUntilAttached(lab.podList);
  });

  afterAll(async () => {
    await agent?.stop();
    await lab?.destroy();
  });

  it('counts every packet it has no room for as a map_full drop: nothing is lost silently', async () => {
    const [a, b] = lab.podList;
    await agent.drain();
    const flows = 3000;
    const { delivered } = await sendUdpFlows(lab, a, b, { family: 4, firstSourcePort: 20_000, sourcePorts: flows, destinationPorts: [5301], payloadBytes: 10 });
    expect(delivered).toBe(flows);
    const drain = await agent.drain();
    const counted = drain.deltas.reduce((sum, delta) => sum + delta.packets, 0);
    const observations = 2 * flows; // each datagram at a's veth (ingress) and b's veth (egress)
    expect(drain.entries).toBeLessThanOrEqual(1024);
    expect(drain.drops.map_full).toBeGreaterThan(0);
    expect(counted + drain.drops.map_full).toBe(observations);
    // The next drain has room again.
    const after = await sendUdp(lab, a, b, { family: 4, count: 10, payloadBytes: 10, sourcePort: 19_999, destinationPort: 5301 });
    const observed = new ObservedFlows();
    await observed.drainFrom(agent);
    expect(observed.drops).toEqual({});
    expect(observed.of(after)).toEqual(bothObservations(after, a.hostInterface, b.hostInterface));
  });
});

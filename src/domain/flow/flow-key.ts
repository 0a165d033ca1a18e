/** IANA flowDirection (IE 61), relative to the observation interface. */
export const FlowDirection = { Ingress: 0, Egress: 1 } as const;
export type FlowDirection = (typeof FlowDirection)[keyof typeof FlowDirection];

/**
 * What identifies one flow observation: the 5-tuple plus ICMP type/code, the VLAN,
 * and where and in which direction it was observed. The same packet seen on two
 * interfaces (pod-to-pod on one node) is two observations, by design.
 */
export interface FlowKey {
  readonly ipVersion: 4 | 6;
  readonly sourceAddress: string;
  readonly destinationAddress: string;
  readonly sourcePort: number;
  readonly destinationPort: number;
  /** IANA protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, 132 SCTP). */
  readonly protocol: number;
  /** 0 unless protocol is ICMP or ICMPv6. */
  readonly icmpType: number;
  readonly icmpCode: number;
  /** 802.1Q VLAN id, 0 when untagged. */
  readonly vlanId: number;
  readonly interfaceIndex: number;
  readonly direction: FlowDirection;
}

export const IpProtocol = { Icmp: 1, Tcp: 6, Udp: 17, Icmpv6: 58, Sctp: 132 } as const;

export function isIcmp(protocol: number): boolean {
  return protocol === IpProtocol.Icmp || protocol === IpProtocol.Icmpv6;
}

import { missingCapabilities } from '../../src/adapters/capture/capture-environment.js';
import { selectInterfaces, type LinkDetails } from '../../src/adapters/capture/interface-watcher.js';

const links: LinkDetails[] = [
  { ifindex: 1, ifname: 'lo', link_type: 'loopback' },
  { ifindex: 2, ifname: 'eth0', link_type: 'ether' },
  { ifindex: 3, ifname: 'cni0', link_type: 'ether', linkinfo: { info_kind: 'bridge' } },
  // A pod's host-side veth: its peer lives in netns 1.
  { ifindex: 4, ifname: 'vethab12', link_type: 'ether', linkinfo: { info_kind: 'veth' }, link_netnsid: 1 },
  { ifindex: 5, ifname: 'lxc99', link_type: 'ether', linkinfo: { info_kind: 'veth' }, link_netnsid: 2 },
  // Both ends in this namespace: not a pod.
  { ifindex: 6, ifname: 'veth-local', link_type: 'ether', linkinfo: { info_kind: 'veth' } },
  { ifindex: 7, ifname: 'wg0', link_type: 'none', linkinfo: { info_kind: 'wireguard' } },
];

describe('selectInterfaces', () => {
  it('chooses veths whose peer is in another namespace, whatever their names', () => {
    expect(selectInterfaces(links, undefined)).toEqual([
      { index: 4, name: 'vethab12' },
      { index: 5, name: 'lxc99' },
    ]);
  });

  it('lets a filter replace that rule, testing names unanchored, Ethernet-type links only', () => {
    expect(selectInterfaces(links, /eth/)).toEqual([
      { index: 2, name: 'eth0' },
      { index: 4, name: 'vethab12' },
      { index: 6, name: 'veth-local' },
    ]);
    expect(selectInterfaces(links, /^(lo|wg0)$/)).toEqual([]);
  });
});

describe('missingCapabilities', () => {
  const status = (capEff: string) => `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;
  const bit = (n: number) => 1n << BigInt(n);
  const hex = (value: bigint) => value.toString(16).padStart(16, '0');

  it('finds nothing missing with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN', () => {
    expect(missingCapabilities(status(hex(bit(39) | bit(38) | bit(12))))).toEqual([]);
  });

  it('names each missing capability with its effect', () => {
    expect(missingCapabilities(status(hex(bit(39))))).toEqual([
      { capability: 'CAP_PERFMON', effect: expect.stringContaining('verifier') },
      { capability: 'CAP_NET_ADMIN', effect: expect.stringContaining('attach') },
    ]);
  });

  it('lets CAP_SYS_ADMIN stand in for CAP_BPF and CAP_PERFMON but not for CAP_NET_ADMIN', () => {
    expect(missingCapabilities(status(hex(bit(21)))).map((missing) => missing.capability)).toEqual(['CAP_NET_ADMIN']);
  });

  it('treats an unreadable status as no capabilities', () => {
    expect(missingCapabilities('')).toHaveLength(3);
  });
});

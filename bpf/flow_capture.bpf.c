/*
 * Flow capture: a TC classifier on ingress and egress of each monitored interface.
 *
 * Algorithm: parse Ethernet (outer VLAN from skb metadata, up to two tags in the
 * bytes), IPv4 or IPv6 (bounded walk over extension headers), then TCP, UDP, SCTP
 * ports or ICMP/ICMPv6 type and code (untagged TCP and UDP over IPv4 without
 * options or IPv6 without extension headers read straight from the linear data),
 * into a zero-initialised struct flow_key that also holds the interface index and
 * the direction. Add the packet to that key's
 * struct flow_counts: wire packets and bytes with GSO/GRO super-packets expanded,
 * first and last time (CLOCK_MONOTONIC ns, tick resolution), OR of the TCP flags.
 * The counts go to this CPU's hot-flow slot of the hook when it holds the same
 * flow, else the slot's flow moves to the active generation's inner hash map
 * (looked up through active_flows) and the packet's flow takes the slot. User space
 * flips the active generation (map and slots) and drains the idle one, so no update
 * races a delete and counts are exact.
 *
 * Rules: a non-first fragment carries no L4 header; it is counted under its
 * addresses and protocol with ports (and ICMP type/code) 0. The same goes for a
 * truncated L4 header and for more IPv6 extension headers than we walk.
 *
 * Failure modes, each counted in flow_events (user space exports them):
 * the map is full (map_full) or refuses an update (map_update_failed), the outer
 * map holds no map for the generation (no_active_map) — these three count the
 * packets lost — headers are truncated (truncated_l2, truncated_l3: the packet is
 * lost; truncated_l4: counted without ports), too many VLAN tags (vlan_too_deep:
 * lost) or IPv6 extension headers (counted without ports).
 * Non-IP frames (ARP, LLDP) are counted as not_ip and belong to no flow.
 *
 * Every packet is handed on unchanged: the program never drops, redirects or
 * ends the chain, so hooks after ours (CNI, security agents) still run.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "flow_types.h"
#include "flow_maps.h"
#include "packet_parse.h"
#include "flow_update.h"

/*
 * "Continue with the next program": TCX_NEXT under TCX (enum tcx_action_base in
 * kernel >= 6.6 UAPI, absent from the 6.1 headers) and TC_ACT_UNSPEC under clsact
 * are both -1, so one return value serves both attach modes. TC_ACT_OK would end
 * the clsact chain and skip other agents' filters.
 */
#define TCX_NEXT (-1)
_Static_assert(TCX_NEXT == TC_ACT_UNSPEC, "one pass-on verdict for TCX and clsact");
#define PASS_ON TC_ACT_UNSPEC

static __always_inline int observe(struct __sk_buff *skb, __u8 direction)
{
	struct flow_key key;
	struct packet_layout layout = {};

	__builtin_memset(&key, 0, sizeof(key)); /* padding-free, but zero every byte anyway */
	int result = parse_packet(skb, &key, &layout);

	if (result == PARSE_NOT_IP)
		count_event(FLOW_COUNTER_NOT_IP);
	if (result != PARSE_FLOW)
		return PASS_ON;
	key.interface_index = skb->ifindex;
	key.direction = direction;
	flow_update(skb, &key, &layout);
	return PASS_ON;
}

/* On a pod's host-side veth, TC ingress sees what the pod sends. */
SEC("tc")
int flow_capture_ingress(struct __sk_buff *skb)
{
	return observe(skb, FLOW_DIRECTION_INGRESS);
}

SEC("tc")
int flow_capture_egress(struct __sk_buff *skb)
{
	return observe(skb, FLOW_DIRECTION_EGRESS);
}

/* No GPL-only helpers are used. */
char LICENSE[] SEC("license") = "Apache-2.0";

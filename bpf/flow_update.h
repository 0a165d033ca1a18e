/* Counting one packet into the active flow map. */
#ifndef FLOW_UPDATE_H
#define FLOW_UPDATE_H

#include <linux/bpf.h>
#include <linux/errno.h>
#include <bpf/bpf_helpers.h>
#include "flow_maps.h"
#include "flow_types.h"
#include "packet_parse.h"

/* What one program run adds to a flow: a GSO/GRO super-packet stands for several wire packets. */
struct packet_totals {
	__u64 packets;
	__u64 ip_octets;
	__u64 layer2_octets;
};

/*
 * skb->len counts the headers of a super-packet once; every segment on the wire
 * repeats them (L2 through the L4 header). A tag held in skb metadata is still
 * 4 bytes of every frame on the wire.
 */
static __always_inline struct packet_totals packet_totals(struct __sk_buff *skb,
							  const struct packet_layout *layout)
{
	__u32 segments = skb->gso_segs ? skb->gso_segs : 1;
	__u32 repeated = segments - 1;
	__u32 metadata_tag_bytes = skb->vlan_present ? VLAN_HEADER_BYTES : 0;
	__u32 ip_bytes_in_skb = skb->len > layout->l2_length ? skb->len - layout->l2_length : 0;
	struct packet_totals totals = { .packets = segments };

	if (segments == 1 && layout->ip_length && layout->ip_length <= ip_bytes_in_skb)
		totals.ip_octets = layout->ip_length; /* excludes Ethernet padding of short frames */
	else
		totals.ip_octets = ip_bytes_in_skb + (__u64)repeated * (layout->headers_length - layout->l2_length);
	totals.layer2_octets = skb->len + (__u64)repeated * layout->headers_length +
			       (__u64)segments * metadata_tag_bytes;
	return totals;
}

static __always_inline void add_to_flow(struct flow_counts *counts, const struct packet_totals *totals,
					__u64 now_ns, __u8 tcp_flags)
{
	__sync_fetch_and_add(&counts->packets, totals->packets);
	__sync_fetch_and_add(&counts->ip_octets, totals->ip_octets);
	__sync_fetch_and_add(&counts->layer2_octets, totals->layer2_octets);
	/* Racing CPUs store times nanoseconds apart: any of them is a right "last". */
	if (counts->last_seen_ns < now_ns)
		counts->last_seen_ns = now_ns;
	if (tcp_flags)
		__sync_fetch_and_or(&counts->tcp_flags, tcp_flags);
}

static __always_inline void flow_update(struct __sk_buff *skb, const struct flow_key *key,
					const struct packet_layout *layout)
{
	__u32 active_index = 0;
	void *flows = bpf_map_lookup_elem(&active_flows, &active_index);

	if (!flows) {
		count_event(FLOW_COUNTER_NO_ACTIVE_MAP);
		return;
	}
	struct packet_totals totals = packet_totals(skb, layout);
	/*
	 * The coarse clock (CLOCK_MONOTONIC as of the last tick: 4 ms resolution at
	 * HZ=250, 1 ms at HZ=1000) costs a few ns; bpf_ktime_get_ns reads the TSC and
	 * cost ~45 ns per packet here, a third of the program. Flow times are exported
	 * in milliseconds and timeouts are seconds, so a tick is precise enough.
	 */
	__u64 now_ns = bpf_ktime_get_coarse_ns();
	struct flow_counts *counts = bpf_map_lookup_elem(flows, key);

	if (counts) {
		add_to_flow(counts, &totals, now_ns, layout->tcp_flags);
		return;
	}
	struct flow_counts fresh = {
		.packets = totals.packets,
		.ip_octets = totals.ip_octets,
		.layer2_octets = totals.layer2_octets,
		.first_seen_ns = now_ns,
		.last_seen_ns = now_ns,
		.tcp_flags = layout->tcp_flags,
	};
	long error = bpf_map_update_elem(flows, key, &fresh, BPF_NOEXIST);

	if (!error)
		return;
	if (error == -EEXIST) {
		/* Another CPU inserted the same flow between our lookup and update. */
		counts = bpf_map_lookup_elem(flows, key);
		if (counts) {
			add_to_flow(counts, &totals, now_ns, layout->tcp_flags);
			return;
		}
	}
	count_event(error == -E2BIG || error == -ENOMEM ? FLOW_COUNTER_MAP_FULL : FLOW_COUNTER_MAP_UPDATE_FAILED);
}

#endif /* FLOW_UPDATE_H */

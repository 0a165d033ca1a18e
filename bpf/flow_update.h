/* Counting one packet: in its hook's hot-flow slot on this CPU, or in the active flow map. */
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

static __always_inline struct flow_counts counts_of(const struct packet_totals *totals, __u64 now_ns, __u8 tcp_flags)
{
	struct flow_counts counts = {
		.packets = totals->packets,
		.ip_octets = totals->ip_octets,
		.layer2_octets = totals->layer2_octets,
		.first_seen_ns = now_ns,
		.last_seen_ns = now_ns,
		.tcp_flags = tcp_flags,
	};
	return counts;
}

/* Adds counts to a map entry that programs on other CPUs may update at the same time. */
static __always_inline void add_to_entry(struct flow_counts *entry, const struct flow_counts *counts)
{
	__sync_fetch_and_add(&entry->packets, counts->packets);
	__sync_fetch_and_add(&entry->ip_octets, counts->ip_octets);
	__sync_fetch_and_add(&entry->layer2_octets, counts->layer2_octets);
	/* Racing CPUs store times nanoseconds apart: any of them is a right first or last. */
	if (entry->first_seen_ns > counts->first_seen_ns)
		entry->first_seen_ns = counts->first_seen_ns;
	if (entry->last_seen_ns < counts->last_seen_ns)
		entry->last_seen_ns = counts->last_seen_ns;
	if (counts->tcp_flags)
		__sync_fetch_and_or(&entry->tcp_flags, counts->tcp_flags);
}

/* Adds counts to the key's entry in the generation's flow map; packets it has no room for are counted as lost. */
static __always_inline void add_to_active_map(__u32 generation, const struct flow_key *key, const struct flow_counts *counts)
{
	void *flows = bpf_map_lookup_elem(&active_flows, &generation);

	if (!flows) {
		count_events(FLOW_COUNTER_NO_ACTIVE_MAP, counts->packets);
		return;
	}
	struct flow_counts *entry = bpf_map_lookup_elem(flows, key);

	if (entry) {
		add_to_entry(entry, counts);
		return;
	}
	long error = bpf_map_update_elem(flows, key, counts, BPF_NOEXIST);

	if (!error) {
		__u64 *inserted = bpf_map_lookup_elem(&flows_inserted, &generation);

		if (inserted)
			*inserted += 1; /* per-CPU slot: no other writer */
		return;
	}
	if (error == -EEXIST) {
		/* Another CPU inserted the same flow between our lookup and update. */
		entry = bpf_map_lookup_elem(flows, key);
		if (entry) {
			add_to_entry(entry, counts);
			return;
		}
	}
	count_events(error == -E2BIG || error == -ENOMEM ? FLOW_COUNTER_MAP_FULL : FLOW_COUNTER_MAP_UPDATE_FAILED,
		     counts->packets);
}

static __always_inline int same_flow(const struct flow_key *a, const struct flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4] && x[5] == y[5];
}
_Static_assert(sizeof(struct flow_key) == 6 * sizeof(__u64), "same_flow compares the key as six words");

/*
 * Counts one packet. Packets come in runs of one flow per hook (a TCP window, a
 * UDP stream), so the CPU's hot-flow slot of this hook usually holds the packet's
 * flow already: plain adds to this CPU's slot, where the hash map costs a hash of
 * the 48-byte key, a bucket walk and atomic adds (measured: about half the
 * program's cost). A different flow takes the slot, and the counts it held move
 * to the map.
 */
static __always_inline void flow_update(struct __sk_buff *skb, const struct flow_key *key,
					const struct packet_layout *layout)
{
	struct packet_totals totals = packet_totals(skb, layout);
	/*
	 * The coarse clock (CLOCK_MONOTONIC as of the last tick: 4 ms resolution at
	 * HZ=250, 1 ms at HZ=1000) costs a few ns; bpf_ktime_get_ns reads the TSC and
	 * cost ~45 ns per packet here, a third of the program. Flow times are exported
	 * in milliseconds and timeouts are seconds, so a tick is precise enough.
	 */
	__u64 now_ns = bpf_ktime_get_coarse_ns();
	/* Read once: the map, the slots and the insert count are the same generation's. */
	__u32 generation = active_generation & 1;
	__u32 slot_index = hot_flow_index(bpf_get_smp_processor_id(), generation,
					  ((key->interface_index << 1) | key->direction) & (HOT_FLOW_SLOTS - 1));
	struct hot_flow *hot = bpf_map_lookup_elem(&hot_flows, &slot_index);
	struct flow_counts counts = counts_of(&totals, now_ns, layout->tcp_flags);

	if (!hot) { /* cannot happen: user space sized the array to the possible CPUs */
		add_to_active_map(generation, key, &counts);
		return;
	}
	if (hot->counts.packets && same_flow(&hot->key, key)) {
		hot->counts.packets += totals.packets; /* this CPU's slot: no other writer */
		hot->counts.ip_octets += totals.ip_octets;
		hot->counts.layer2_octets += totals.layer2_octets;
		hot->counts.last_seen_ns = now_ns;
		hot->counts.tcp_flags |= layout->tcp_flags;
		return;
	}
	if (hot->counts.packets)
		add_to_active_map(generation, &hot->key, &hot->counts);
	hot->key = *key;
	hot->counts = counts;
}

#endif /* FLOW_UPDATE_H */

/* Maps of the flow capture program. Sizes of the inner maps are set by user space before load. */
#ifndef FLOW_MAPS_H
#define FLOW_MAPS_H

#include <bpf/bpf_helpers.h>
#include "flow_types.h"

/* Replaced by bpf_map__set_max_entries (EBPF_BUFFER_SIZE) before load. */
#define FLOW_DEFAULT_ENTRIES 65536

/* Key: struct flow_key. Value: struct flow_counts since the map was last drained. */
struct flow_table {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FLOW_DEFAULT_ENTRIES);
	__type(key, struct flow_key);
	__type(value, struct flow_counts);
} flows_a SEC(".maps"), flows_b SEC(".maps");

/*
 * Key: 0. Value: the inner flow map the program writes to now (flows_a or flows_b).
 * User space swaps it, then drains the other one while nothing writes to it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct flow_table);
} active_flows SEC(".maps") = {
	.values = { &flows_a },
};

/* Key: enum flow_counter. Value: per-CPU event count since load. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FLOW_COUNTER_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} flow_events SEC(".maps");

static __always_inline void count_event(enum flow_counter counter)
{
	__u32 index = counter;
	__u64 *count = bpf_map_lookup_elem(&flow_events, &index);

	if (count)
		*count += 1; /* per-CPU slot: no other writer */
}

#endif /* FLOW_MAPS_H */

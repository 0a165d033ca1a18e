/*
 * Layout shared by the BPF program (bpf/) and the addon (native/): the flow map's
 * key and value and the kernel event counters. The addon static_asserts these
 * sizes and offsets; TypeScript reads them from src/adapters/capture/native-layout.ts,
 * which the loader checks against the addon's own offsetof() values.
 *
 * Every field is explicit (no compiler padding), so a zero-initialised key hashes
 * the same on every CPU.
 */
#ifndef FLOW_TYPES_H
#define FLOW_TYPES_H

#include <linux/types.h>

#define FLOW_ADDRESS_BYTES 16

/* Directions as IANA flowDirection (IE 61), relative to the observed interface. */
#define FLOW_DIRECTION_INGRESS 0
#define FLOW_DIRECTION_EGRESS 1

/* One flow observation: 5-tuple, ICMP type/code, outer VLAN, interface and direction. */
struct flow_key {
	__u8 source_address[FLOW_ADDRESS_BYTES];      /* IPv4 as ::ffff:a.b.c.d */
	__u8 destination_address[FLOW_ADDRESS_BYTES];
	__u16 source_port;                            /* host byte order; 0 without ports */
	__u16 destination_port;
	__u32 interface_index;
	__u16 vlan_id;                                /* outer 802.1Q id, 0 when untagged */
	__u8 protocol;                                /* IANA protocol number */
	__u8 ip_version;                              /* 4 or 6 */
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 direction;                               /* FLOW_DIRECTION_* */
	__u8 reserved;                                /* always 0 */
} __attribute__((aligned(8)));                        /* compared as six 64-bit words */

/* What the program counted for one observation since the map was last drained. */
struct flow_counts {
	__u64 packets;          /* wire packets: GSO/GRO super-packets expanded */
	__u64 ip_octets;        /* IP headers + payload */
	__u64 layer2_octets;    /* Ethernet frame as on the wire, without FCS */
	__u64 first_seen_ns;    /* bpf_ktime_get_coarse_ns (CLOCK_MONOTONIC at tick resolution) */
	__u64 last_seen_ns;
	__u32 tcp_flags;        /* OR of the TCP flag bytes (u32 for atomic OR) */
	__u32 reserved;
};

/*
 * A hot-flow slot: per CPU, the last flow seen at one hook (interface and
 * direction), counted there with plain adds and no hash lookup until another
 * flow takes the slot, which moves these counts into the flow map. counts.packets
 * 0 means empty. User space drains the slots of the idle generation with the map.
 * Padded to two whole cache lines: the slots start at a page boundary (see
 * hot_flows), so a slot touches two lines and shares none with another CPU's.
 */
#define HOT_FLOW_BYTES 128

struct hot_flow {
	struct flow_key key;
	struct flow_counts counts;
	__u8 reserved[HOT_FLOW_BYTES - sizeof(struct flow_key) - sizeof(struct flow_counts)];
};

/* Slots per CPU and generation (a power of two), chosen by interface index and direction. */
#define HOT_FLOW_SLOTS 16

/* Where a CPU's slot of one generation lies in hot_flows: each CPU's 2 × 16 slots are one page. */
static inline __attribute__((always_inline)) __u32 hot_flow_index(__u32 cpu, __u32 generation, __u32 slot)
{
	return (cpu * 2 + generation) * HOT_FLOW_SLOTS + slot;
}

/*
 * Kernel event counters: X(enum suffix, metric reason, is a loss).
 * A loss is a packet counted in no flow; the other events still count the
 * packet, under a coarser key (ports 0) or not at all because it is not IP.
 */
#define FLOW_COUNTERS(X)                                   \
	X(MAP_FULL, "map_full", 1)                         \
	X(MAP_UPDATE_FAILED, "map_update_failed", 1)       \
	X(NO_ACTIVE_MAP, "no_active_map", 1)               \
	X(TRUNCATED_L2, "truncated_l2", 1)                 \
	X(TRUNCATED_L3, "truncated_l3", 1)                 \
	X(VLAN_TOO_DEEP, "vlan_too_deep", 1)               \
	X(TRUNCATED_L4, "truncated_l4", 0)                 \
	X(IPV6_EXTENSIONS_TOO_DEEP, "ipv6_extensions_too_deep", 0) \
	X(NON_FIRST_FRAGMENT, "non_first_fragment", 0)     \
	X(NOT_IP, "not_ip", 0)

enum flow_counter {
#define FLOW_COUNTER_ENUM(name, reason, loss) FLOW_COUNTER_##name,
	FLOW_COUNTERS(FLOW_COUNTER_ENUM)
#undef FLOW_COUNTER_ENUM
	FLOW_COUNTER_COUNT
};

#endif /* FLOW_TYPES_H */

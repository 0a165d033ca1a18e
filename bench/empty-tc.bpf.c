/*
 * Bench only (never part of the product build): a TC program that does nothing
 * but hand the packet on, attached exactly as the capture program is, so that
 * bpf_stats' own cost and the hook's cost can be subtracted from ours.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int empty_tc(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Apache-2.0";

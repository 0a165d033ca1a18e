// The packed buffer of each batch a drain produces: a header, then the batch's keys
// and values exactly as the kernel stores them (struct flow_key[], struct flow_counts[]).
// TypeScript mirrors these offsets in src/adapters/capture/native-layout.ts; the
// addon exports the values below so the loader can check the two agree.
#pragma once
#include <cstddef>
#include <cstdint>

extern "C" {
#include "flow_types.h"
}

namespace flowcapture {

constexpr uint32_t kDrainMagic = 0x31574c46;  // "FLW1" little-endian

struct DrainHeader {
  uint32_t magic;
  uint32_t record_count;        // in this batch
  uint32_t capacity;            // entries per inner map
  uint32_t counter_count;       // FLOW_COUNTER_COUNT
  uint32_t map_records;         // records of this batch read from the flow map; the others come from hot-flow slots
  uint32_t reserved;            // 0
  double epoch_offset_ms;       // epoch ms = monotonic ns / 1e6 + epoch_offset_ms, sampled at this drain's swap
  uint64_t counters[FLOW_COUNTER_COUNT];  // cumulative since load, summed over CPUs, read at the swap
};

static_assert(sizeof(flow_key) == 48, "flow_key must stay padding-free, 48 bytes");
static_assert(sizeof(flow_counts) == 48, "flow_counts must stay 48 bytes");
static_assert(offsetof(flow_key, source_port) == 32 && offsetof(flow_key, interface_index) == 36 &&
                  offsetof(flow_key, vlan_id) == 40 && offsetof(flow_key, direction) == 46,
              "flow_key layout changed: update native-layout.ts");
static_assert(offsetof(flow_counts, first_seen_ns) == 24 && offsetof(flow_counts, tcp_flags) == 40,
              "flow_counts layout changed: update native-layout.ts");
static_assert(offsetof(DrainHeader, map_records) == 16 && offsetof(DrainHeader, epoch_offset_ms) == 24 &&
                  offsetof(DrainHeader, counters) == 32,
              "drain header layout changed: update native-layout.ts");

// Counter names and whether each is a loss, in enum flow_counter order.
struct CounterInfo {
  const char* name;
  bool loss;
};
constexpr CounterInfo kCounters[] = {
#define FLOW_COUNTER_INFO(name, reason, loss) {reason, loss != 0},
    FLOW_COUNTERS(FLOW_COUNTER_INFO)
#undef FLOW_COUNTER_INFO
};
static_assert(sizeof(kCounters) / sizeof(kCounters[0]) == FLOW_COUNTER_COUNT, "one name per counter");

}  // namespace flowcapture

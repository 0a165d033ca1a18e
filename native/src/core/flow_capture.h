// The capture core: owns the loaded BPF object (embedded skeleton), its TC/TCX
// attachments and the double-buffered flow maps. No N-API here: every operation
// returns a Status. Thread-safe: attach/detach and drain may run on different
// worker threads at once; close() waits for both.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "status.h"

struct flow_capture;  // the bpftool skeleton
struct flow_key;
struct flow_counts;
struct hot_flow;

namespace flowcapture {

enum class AttachMode { kTcx, kTc };

struct CaptureOptions {
  uint32_t entries_per_map;  // max_entries of each inner flow map
};

// One batch of a drain, packed as drain_layout.h describes: header, keys, values.
using DrainBatch = std::vector<uint8_t>;
// Receives each batch on the draining thread, as soon as the kernel returned it.
using DrainBatchSink = std::function<void(std::unique_ptr<DrainBatch>)>;

class FlowCapture {
 public:
  explicit FlowCapture(CaptureOptions options);
  ~FlowCapture();
  FlowCapture(const FlowCapture&) = delete;
  FlowCapture& operator=(const FlowCapture&) = delete;

  // Opens the embedded object, sizes the maps and loads it into the kernel.
  Status Load();
  // True when the kernel has TCX (bpf_link attach to TC, kernel >= 6.6).
  bool TcxSupported();
  // Attaches both programs to the interface's ingress and egress; idempotent.
  Status Attach(uint32_t interface_index, AttachMode mode);
  // Removes both programs; a vanished interface counts as detached.
  Status Detach(uint32_t interface_index);
  // Flips the active generation (flow map and hot-flow slots) and drains the idle
  // one batch by batch into `sink`, so the caller can decode a batch while the
  // kernel reads the next: the map's batches, then one of the hot-flow slots. A key
  // may appear in both. At least one batch (empty when there was nothing); every
  // header carries the counters read at the swap.
  Status Drain(const DrainBatchSink& sink);
  // Detaches everything and frees the object; later calls fail with -EBADF.
  void Close();

  uint32_t capacity() const { return options_.entries_per_map; }

 private:
  struct Attachment {
    AttachMode mode;
    int ingress_link_fd = -1;  // TCX only
    int egress_link_fd = -1;
  };

  Status AttachTcx(uint32_t interface_index, Attachment* attachment);
  Status AttachTc(uint32_t interface_index);
  Status DetachLocked(uint32_t interface_index, const Attachment& attachment);
  Status ReadCounters(uint64_t* totals);
  // Sums what every CPU counted of flows inserted into the generation's map since load.
  Status ReadInserts(uint32_t generation, uint64_t* total);
  // Moves what the idle generation's hot-flow slots hold (every CPU) into keys_ and
  // values_, and empties the slots for the generation's next turn.
  void TakeHotFlows(uint32_t generation, uint32_t* count);

  const CaptureOptions options_;
  std::mutex state_mutex_;  // skeleton_ lifetime and attachments_
  std::mutex drain_mutex_;  // one drain at a time; also held by Close()
  flow_capture* skeleton_ = nullptr;
  uint32_t cpu_count_ = 0;             // possible CPUs, as the per-CPU maps and hot_flows are sized
  hot_flow* hot_flows_ = nullptr;      // the hot_flows array, mapped into our memory
  size_t hot_flows_bytes_ = 0;         // the mapping's length
  uint32_t active_generation_ = 0;  // what the programs read in active_generation
  // Per generation: the insert count when its map was last walked to the end.
  std::array<uint64_t, 2> inserts_drained_{};
  std::map<uint32_t, Attachment> attachments_;
  // Batch-read scratch, kDrainBatch entries each, kept between drains.
  std::vector<flow_key> keys_;
  std::vector<flow_counts> values_;
};

}  // namespace flowcapture

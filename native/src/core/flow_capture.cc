#include "flow_capture.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include "drain_layout.h"
#include "libbpf_log.h"
#include "flow_capture.skel.h"

// TCX attach types and flags, missing from the 6.1 UAPI headers (values from kernel >= 6.6).
#ifndef BPF_F_BEFORE
#define BPF_F_BEFORE (1U << 3)
#endif
constexpr int kBpfTcxIngress = 46;
constexpr int kBpfTcxEgress = 47;

namespace flowcapture {
namespace {

// clsact filter identity: fixed, so a restart after SIGKILL replaces our old filters.
constexpr uint32_t kTcHandle = 0x464c;  // "FL"
constexpr uint32_t kTcPriority = 1;     // head of the chain
// Entries per lookup-and-delete call: few syscalls, and a first batch soon enough
// for the caller's decoding to overlap the kernel's reading of the rest.
constexpr uint32_t kDrainBatch = 8192;

std::string ErrorText(int error) { return std::strerror(error < 0 ? -error : error); }

Status Fail(int error, const std::string& what) { return Status::Fail(error, what + ": " + ErrorText(error)); }

double EpochOffsetMs() {
  timespec before{}, real{}, after{};
  clock_gettime(CLOCK_MONOTONIC, &before);
  clock_gettime(CLOCK_REALTIME, &real);
  clock_gettime(CLOCK_MONOTONIC, &after);
  auto ms = [](const timespec& t) { return t.tv_sec * 1e3 + t.tv_nsec / 1e6; };
  return ms(real) - (ms(before) + ms(after)) / 2;
}

bpf_tc_hook TcHook(uint32_t interface_index, bpf_tc_attach_point point) {
  bpf_tc_hook hook;
  std::memset(&hook, 0, sizeof(hook));
  hook.sz = sizeof(hook);
  hook.ifindex = static_cast<int>(interface_index);
  hook.attach_point = point;
  return hook;
}

bpf_tc_opts TcFilter(int program_fd, uint32_t flags) {
  bpf_tc_opts filter;
  std::memset(&filter, 0, sizeof(filter));
  filter.sz = sizeof(filter);
  filter.handle = kTcHandle;
  filter.priority = kTcPriority;
  filter.prog_fd = program_fd;
  filter.flags = flags;
  return filter;
}

}  // namespace

FlowCapture::FlowCapture(CaptureOptions options) : options_(options) {}

FlowCapture::~FlowCapture() { Close(); }

Status FlowCapture::Load() {
  std::scoped_lock lock(drain_mutex_, state_mutex_);
  if (skeleton_ != nullptr) return Status::Ok();
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return Fail(cpus, "count possible CPUs");
  flow_capture* skeleton = flow_capture__open();
  if (skeleton == nullptr) return Fail(errno, "open BPF object");
  // Every possible CPU's slots: the first index past them is the one a next CPU would start at.
  const uint32_t hot_flow_count = hot_flow_index(static_cast<uint32_t>(cpus), 0, 0);
  int error = bpf_map__set_max_entries(skeleton->maps.flows_a, options_.entries_per_map);
  if (!error) error = bpf_map__set_max_entries(skeleton->maps.flows_b, options_.entries_per_map);
  if (!error) error = bpf_map__set_max_entries(skeleton->maps.hot_flows, hot_flow_count);
  if (!error) error = flow_capture__load(skeleton);
  if (error) {
    flow_capture__destroy(skeleton);
    return Fail(error, "load BPF object");
  }
  // Each CPU's slots are one page, so the mapping covers the array exactly.
  static_assert(2 * HOT_FLOW_SLOTS * sizeof(hot_flow) == 4096, "a CPU's hot-flow slots fill one page");
  const size_t hot_flow_bytes = hot_flow_count * sizeof(hot_flow);
  void* slots = mmap(nullptr, hot_flow_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(skeleton->maps.hot_flows), 0);
  if (slots == MAP_FAILED) {
    error = -errno;
    flow_capture__destroy(skeleton);
    return Fail(error, "map hot-flow slots");
  }
  skeleton_ = skeleton;
  cpu_count_ = static_cast<uint32_t>(cpus);
  hot_flows_ = static_cast<hot_flow*>(slots);
  hot_flows_bytes_ = hot_flow_bytes;
  active_generation_ = 0;  // the .bss starts zeroed: programs write to flows_a first
  inserts_drained_ = {};
  return Status::Ok();
}

bool FlowCapture::TcxSupported() {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (skeleton_ == nullptr) return false;
  // Interface index 0 never exists: a kernel with TCX answers ENODEV, one without rejects the attach type.
  int fd = bpf_link_create(bpf_program__fd(skeleton_->progs.flow_capture_ingress), 0,
                           static_cast<bpf_attach_type>(kBpfTcxIngress), nullptr);
  if (fd >= 0) {
    close(fd);
    return true;
  }
  return fd != -EINVAL;
}

Status FlowCapture::Attach(uint32_t interface_index, AttachMode mode) {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (skeleton_ == nullptr) return Status::Fail(-EBADF, "capture is not loaded or closed");
  auto existing = attachments_.find(interface_index);
  if (existing != attachments_.end()) {
    if (existing->second.mode == mode) return Status::Ok();
    Status detached = DetachLocked(interface_index, existing->second);
    attachments_.erase(existing);
    if (!detached.ok()) return detached;
  }
  Attachment attachment{mode};
  Status status = mode == AttachMode::kTcx ? AttachTcx(interface_index, &attachment) : AttachTc(interface_index);
  if (status.ok()) attachments_.emplace(interface_index, attachment);
  return status;
}

Status FlowCapture::AttachTcx(uint32_t interface_index, Attachment* attachment) {
  // BPF_F_BEFORE with relative fd 0: before every program already there (head of the chain).
  bpf_link_create_opts head;
  std::memset(&head, 0, sizeof(head));
  head.sz = sizeof(head);
  head.flags = BPF_F_BEFORE;
  int ingress = bpf_link_create(bpf_program__fd(skeleton_->progs.flow_capture_ingress), interface_index,
                                static_cast<bpf_attach_type>(kBpfTcxIngress), &head);
  if (ingress < 0) return Fail(ingress, "TCX ingress link");
  int egress = bpf_link_create(bpf_program__fd(skeleton_->progs.flow_capture_egress), interface_index,
                               static_cast<bpf_attach_type>(kBpfTcxEgress), &head);
  if (egress < 0) {
    close(ingress);
    return Fail(egress, "TCX egress link");
  }
  attachment->ingress_link_fd = ingress;
  attachment->egress_link_fd = egress;
  return Status::Ok();
}

Status FlowCapture::AttachTc(uint32_t interface_index) {
  {
    // Creates clsact if absent; an existing one (ours after a restart, other agents') is shared, never replaced.
    ExpectedLibbpfMessage clsact_exists("Exclusivity flag on");
    bpf_tc_hook clsact = TcHook(interface_index, static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
    int error = bpf_tc_hook_create(&clsact);
    if (error && error != -EEXIST) return Fail(error, "clsact qdisc");
  }
  const struct {
    bpf_tc_attach_point point;
    bpf_program* program;
    const char* name;
  } hooks[] = {{BPF_TC_INGRESS, skeleton_->progs.flow_capture_ingress, "ingress"},
               {BPF_TC_EGRESS, skeleton_->progs.flow_capture_egress, "egress"}};
  for (const auto& hook : hooks) {
    bpf_tc_hook tc_hook = TcHook(interface_index, hook.point);
    bpf_tc_opts filter = TcFilter(bpf_program__fd(hook.program), BPF_TC_F_REPLACE);
    int error = bpf_tc_attach(&tc_hook, &filter);
    if (error) {
      if (hook.point == BPF_TC_EGRESS) {
        bpf_tc_hook ingress_hook = TcHook(interface_index, BPF_TC_INGRESS);
        bpf_tc_opts ours = TcFilter(0, 0);
        bpf_tc_detach(&ingress_hook, &ours);
      }
      return Fail(error, std::string("clsact ") + hook.name + " filter");
    }
  }
  return Status::Ok();
}

Status FlowCapture::Detach(uint32_t interface_index) {
  std::lock_guard<std::mutex> lock(state_mutex_);
  auto found = attachments_.find(interface_index);
  if (found == attachments_.end()) return Status::Ok();
  Status status = DetachLocked(interface_index, found->second);
  attachments_.erase(found);
  return status;
}

Status FlowCapture::DetachLocked(uint32_t interface_index, const Attachment& attachment) {
  if (attachment.mode == AttachMode::kTcx) {
    // Closing the link fds detaches; a link of a deleted interface lingers until then.
    close(attachment.ingress_link_fd);
    close(attachment.egress_link_fd);
    return Status::Ok();
  }
  Status status;
  for (bpf_tc_attach_point point : {BPF_TC_INGRESS, BPF_TC_EGRESS}) {
    bpf_tc_hook hook = TcHook(interface_index, point);
    bpf_tc_opts ours = TcFilter(0, 0);
    int error = bpf_tc_detach(&hook, &ours);
    // The filter goes with a deleted device: ENODEV/ENOENT mean it is already gone.
    if (error && error != -ENODEV && error != -ENOENT && error != -EINVAL && status.ok())
      status = Fail(error, "detach clsact filter");
  }
  return status;
}

Status FlowCapture::ReadCounters(uint64_t* totals) {
  // One batch call for every counter: per counter, every possible CPU's value.
  std::vector<uint64_t> per_cpu(static_cast<size_t>(cpu_count_) * FLOW_COUNTER_COUNT);
  std::vector<uint32_t> counters(FLOW_COUNTER_COUNT);
  uint32_t next = 0, count = FLOW_COUNTER_COUNT;
  int error = bpf_map_lookup_batch(bpf_map__fd(skeleton_->maps.flow_events), nullptr, &next, counters.data(),
                                   per_cpu.data(), &count, nullptr);
  if (error && error != -ENOENT) return Fail(error, "read event counters");
  if (count != FLOW_COUNTER_COUNT) return Status::Fail(-EIO, "read event counters: short batch");
  for (uint32_t counter = 0; counter < FLOW_COUNTER_COUNT; counter++) {
    totals[counter] = 0;
    for (uint32_t cpu = 0; cpu < cpu_count_; cpu++) totals[counter] += per_cpu[counter * cpu_count_ + cpu];
  }
  return Status::Ok();
}

Status FlowCapture::ReadInserts(uint32_t generation, uint64_t* total) {
  std::vector<uint64_t> per_cpu(cpu_count_);
  int error = bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.flows_inserted), &generation, per_cpu.data());
  if (error) return Fail(error, "read flow insert counts");
  *total = 0;
  for (uint64_t count : per_cpu) *total += count;
  return Status::Ok();
}

Status FlowCapture::Drain(const DrainBatchSink& sink) {
  std::lock_guard<std::mutex> lock(drain_mutex_);
  if (skeleton_ == nullptr) return Status::Fail(-EBADF, "capture is not loaded or closed");
  const uint32_t idle_generation = active_generation_;
  bpf_map* to_drain = idle_generation == 1 ? skeleton_->maps.flows_b : skeleton_->maps.flows_a;

  // A program reads the generation once and uses that generation's map, slots and
  // insert count. The kernel waits for running programs after any update of a
  // map-in-map (maybe_wait_bpf_programs), so putting the idle map back into its
  // own slot returns only once no program can still write to the idle generation:
  // draining it races with no update.
  __atomic_store_n(&skeleton_->bss->active_generation, 1 - idle_generation, __ATOMIC_SEQ_CST);
  active_generation_ = 1 - idle_generation;
  int drain_fd = bpf_map__fd(to_drain);
  int error = bpf_map_update_elem(bpf_map__fd(skeleton_->maps.active_flows), &idle_generation, &drain_fd, BPF_ANY);
  if (error) return Fail(error, "wait for programs writing to the idle flow map");

  DrainHeader header{};
  header.magic = kDrainMagic;
  header.capacity = options_.entries_per_map;
  header.counter_count = FLOW_COUNTER_COUNT;
  header.epoch_offset_ms = EpochOffsetMs();
  Status counters = ReadCounters(header.counters);
  if (!counters.ok()) return counters;

  keys_.resize(kDrainBatch);
  values_.resize(kDrainBatch);
  bool delivered = false;
  auto deliver = [&](uint32_t count, bool from_map) {
    header.record_count = count;
    header.map_records = from_map ? count : 0;
    auto batch = std::make_unique<DrainBatch>();
    batch->reserve(sizeof(header) + count * (sizeof(flow_key) + sizeof(flow_counts)));
    auto append = [&batch](const void* bytes, size_t size) {
      batch->insert(batch->end(), static_cast<const uint8_t*>(bytes), static_cast<const uint8_t*>(bytes) + size);
    };
    append(&header, sizeof(header));
    append(keys_.data(), count * sizeof(flow_key));
    append(values_.data(), count * sizeof(flow_counts));
    sink(std::move(batch));
    delivered = true;
  };
  uint64_t inserts = 0;
  Status inserted = ReadInserts(idle_generation, &inserts);
  if (!inserted.ok()) return inserted;
  // Entries only come from inserts, and a complete walk deletes them all: with no
  // insert since the last complete walk the map is empty.
  if (inserts != inserts_drained_[idle_generation]) {
    uint32_t batch_token = 0;
    for (bool first_batch = true;; first_batch = false) {
      uint32_t count = kDrainBatch;
      error = bpf_map_lookup_and_delete_batch(drain_fd, first_batch ? nullptr : &batch_token, &batch_token,
                                              keys_.data(), values_.data(), &count, nullptr);
      if (error && error != -ENOENT) return Fail(error, "drain flow map");
      if (count > 0) deliver(count, true);
      if (error == -ENOENT) break;  // end of the map, with a partial last batch
    }
    inserts_drained_[idle_generation] = inserts;
  }
  uint32_t hot_count = 0;
  TakeHotFlows(idle_generation, &hot_count);
  // The hot-flow batch goes out when it holds flows, or as the one empty batch when nothing else did.
  if (hot_count > 0 || !delivered) deliver(hot_count, false);
  return Status::Ok();
}

void FlowCapture::TakeHotFlows(uint32_t generation, uint32_t* count) {
  // No program writes to the idle generation's slots now (see Drain), so they are
  // read and emptied in place, through the mapping, with no system call.
  *count = 0;
  keys_.resize(std::max<size_t>(keys_.size(), static_cast<size_t>(cpu_count_) * HOT_FLOW_SLOTS));
  values_.resize(keys_.size());
  for (uint32_t cpu = 0; cpu < cpu_count_; cpu++) {
    for (uint32_t slot = 0; slot < HOT_FLOW_SLOTS; slot++) {
      hot_flow& flow = hot_flows_[hot_flow_index(cpu, generation, slot)];
      if (flow.counts.packets == 0) continue;
      keys_[*count] = flow.key;
      values_[*count] = flow.counts;
      ++*count;
      flow.counts.packets = 0;  // empty: the next packet on this CPU and hook takes the slot
    }
  }
}

void FlowCapture::Close() {
  std::scoped_lock lock(drain_mutex_, state_mutex_);
  for (const auto& [interface_index, attachment] : attachments_) DetachLocked(interface_index, attachment);
  attachments_.clear();
  if (hot_flows_ != nullptr) munmap(hot_flows_, hot_flows_bytes_);
  hot_flows_ = nullptr;
  if (skeleton_ != nullptr) flow_capture__destroy(skeleton_);
  skeleton_ = nullptr;
  keys_ = {};
  values_ = {};
}

}  // namespace flowcapture

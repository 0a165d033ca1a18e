#include "libbpf_log.h"

#include <bpf/libbpf.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <deque>
#include <mutex>

namespace flowcapture {
namespace {

constexpr std::size_t kMaxQueuedMessages = 1000;

std::mutex queue_mutex;
std::deque<LibbpfMessage> queue;
std::size_t dropped_messages = 0;
std::atomic<bool> keep_debug_messages{false};
thread_local const char* expected_message = nullptr;

const char* LevelName(enum libbpf_print_level level) {
  switch (level) {
    case LIBBPF_WARN:
      return "warn";
    case LIBBPF_INFO:
      return "info";
    default:
      return "debug";
  }
}

// Called by libbpf on whichever thread runs the operation (worker threads included).
int CollectMessage(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG && !keep_debug_messages.load()) return 0;
  char text[1024];
  int length = std::vsnprintf(text, sizeof(text), format, args);
  if (length < 0) return 0;
  std::string message(text);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  if (expected_message != nullptr && message.find(expected_message) != std::string::npos) return length;
  std::lock_guard<std::mutex> lock(queue_mutex);
  if (queue.size() >= kMaxQueuedMessages) {
    queue.pop_front();
    dropped_messages++;
  }
  queue.push_back({LevelName(level), std::move(message)});
  return length;
}

}  // namespace

ExpectedLibbpfMessage::ExpectedLibbpfMessage(const char* expected) { expected_message = expected; }

ExpectedLibbpfMessage::~ExpectedLibbpfMessage() { expected_message = nullptr; }

void InstallLibbpfLog(bool keep_debug) {
  keep_debug_messages.store(keep_debug);
  libbpf_set_print(CollectMessage);
}

std::vector<LibbpfMessage> TakeLibbpfMessages(std::size_t* dropped) {
  std::lock_guard<std::mutex> lock(queue_mutex);
  std::vector<LibbpfMessage> messages(std::make_move_iterator(queue.begin()), std::make_move_iterator(queue.end()));
  queue.clear();
  *dropped = dropped_messages;
  dropped_messages = 0;
  return messages;
}

}  // namespace flowcapture

// libbpf's print callback, collected into a bounded queue the binding hands to
// JavaScript (so messages reach the agent's JSON logger instead of stderr).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace flowcapture {

struct LibbpfMessage {
  std::string level;  // "warn" | "info" | "debug"
  std::string text;
};

// Installs the callback; debug messages (verifier chatter) are kept only when asked for.
void InstallLibbpfLog(bool keep_debug);

// While alive, drops this thread's libbpf messages containing `expected`: the kernel
// explains an error the caller handles (e.g. clsact already exists) as a warning.
class ExpectedLibbpfMessage {
 public:
  explicit ExpectedLibbpfMessage(const char* expected);
  ~ExpectedLibbpfMessage();
  ExpectedLibbpfMessage(const ExpectedLibbpfMessage&) = delete;
  ExpectedLibbpfMessage& operator=(const ExpectedLibbpfMessage&) = delete;
};

// Messages since the last call, oldest first; `dropped` tells how many overflowed the queue.
std::vector<LibbpfMessage> TakeLibbpfMessages(std::size_t* dropped);

}  // namespace flowcapture

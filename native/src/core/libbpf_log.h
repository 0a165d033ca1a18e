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

// Messages since the last call, oldest first; `dropped` tells how many overflowed the queue.
std::vector<LibbpfMessage> TakeLibbpfMessages(std::size_t* dropped);

}  // namespace flowcapture

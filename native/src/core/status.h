// Result of a core operation: 0 or a negative errno, with a message for people.
#pragma once
#include <string>

namespace flowcapture {

struct Status {
  int error = 0;  // 0 or -errno
  std::string message;

  bool ok() const { return error == 0; }
  static Status Ok() { return {}; }
  static Status Fail(int error, std::string message) { return {error < 0 ? error : -error, std::move(message)}; }
};

}  // namespace flowcapture

// JavaScript class FlowCapture: validates arguments, converts types, and runs the
// core's slow calls (load, attach, detach, drain) on worker threads.
#pragma once
#include <napi.h>

#include <memory>

#include "core/flow_capture.h"

namespace flowcapture {

class FlowCaptureBinding : public Napi::ObjectWrap<FlowCaptureBinding> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit FlowCaptureBinding(const Napi::CallbackInfo& info);

 private:
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value TcxSupported(const Napi::CallbackInfo& info);
  Napi::Value Attach(const Napi::CallbackInfo& info);
  Napi::Value Detach(const Napi::CallbackInfo& info);
  Napi::Value Drain(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Capacity(const Napi::CallbackInfo& info);

  // Shared with worker threads, so a close() during a drain leaves no dangling core.
  std::shared_ptr<FlowCapture> core_;
};

// Exports the layout constants and counter names TypeScript checks and uses.
Napi::Object DescribeLayout(Napi::Env env);
Napi::Array DescribeCounters(Napi::Env env);
// { messages: [{ level, text }], dropped } collected from libbpf since the last call.
Napi::Value TakeLibbpfMessagesForJs(const Napi::CallbackInfo& info);

}  // namespace flowcapture

// Registration only: the FlowCapture class, layout constants, counter names and
// the libbpf message queue.
#include <napi.h>

#include "core/libbpf_log.h"
#include "flow_capture_binding.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  flowcapture::InstallLibbpfLog(false);
  exports.Set("FlowCapture", flowcapture::FlowCaptureBinding::DefineClass(env));
  exports.Set("layout", flowcapture::DescribeLayout(env));
  exports.Set("counters", flowcapture::DescribeCounters(env));
  exports.Set("takeLibbpfMessages", Napi::Function::New(env, flowcapture::TakeLibbpfMessagesForJs, "takeLibbpfMessages"));
  return exports;
}

}  // namespace

NODE_API_MODULE(flow_capture, Init)

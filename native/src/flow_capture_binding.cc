#include "flow_capture_binding.h"

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/drain_layout.h"
#include "core/libbpf_log.h"

namespace flowcapture {
namespace {

Napi::Error ErrorFor(Napi::Env env, const Status& status) {
  Napi::Error error = Napi::Error::New(env, status.message);
  error.Set("errno", Napi::Number::New(env, -status.error));
  return error;
}

Napi::Object OptionsArgument(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "expected one options object");
  return info[0].As<Napi::Object>();
}

uint32_t UnsignedOption(const Napi::Object& options, const char* name, uint32_t minimum) {
  Napi::Value value = options.Get(name);
  if (!value.IsNumber()) throw Napi::TypeError::New(options.Env(), std::string(name) + " must be a number");
  double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= minimum && number <= UINT32_MAX) || std::floor(number) != number)
    throw Napi::RangeError::New(options.Env(), std::string(name) + " must be an integer >= " + std::to_string(minimum));
  return static_cast<uint32_t>(number);
}

// Runs one core call off the event loop and settles a promise with its Status.
class StatusWorker : public Napi::AsyncWorker {
 public:
  StatusWorker(Napi::Env env, std::function<Status()> work)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { status_ = work_(); }
  void OnOK() override {
    if (status_.ok())
      deferred_.Resolve(Env().Undefined());
    else
      deferred_.Reject(ErrorFor(Env(), status_).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<Status()> work_;
  Status status_;
};

// Drains off the event loop. Each batch goes to the JavaScript callback as a Buffer
// that owns the batch's bytes (no copy), while this worker reads the next batch;
// the promise settles after the last batch was handed over.
class DrainWorker : public Napi::AsyncProgressQueueWorker<DrainBatch*> {
 public:
  DrainWorker(Napi::Function on_batch, std::shared_ptr<FlowCapture> core)
      : Napi::AsyncProgressQueueWorker<DrainBatch*>(on_batch.Env()),
        deferred_(Napi::Promise::Deferred::New(on_batch.Env())),
        on_batch_(Napi::Persistent(on_batch)),
        core_(std::move(core)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute(const ExecutionProgress& progress) override {
    status_ = core_->Drain([&progress](std::unique_ptr<DrainBatch> batch) {
      DrainBatch* owned = batch.release();  // freed by the Buffer's finalizer
      progress.Send(&owned, 1);
    });
  }

  void OnProgress(DrainBatch* const* batches, size_t count) override {
    for (size_t index = 0; index < count; index++) {
      DrainBatch* batch = batches[index];
      Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::New(
          Env(), batch->data(), batch->size(), [](Napi::Env, uint8_t*, DrainBatch* owned) { delete owned; }, batch);
      // A throwing callback must not lose the later batches: they are delivered, and the promise rejects with its error.
      try {
        on_batch_.Call({buffer});
      } catch (const Napi::Error& error) {
        if (callback_error_.IsEmpty()) callback_error_ = Napi::Persistent(error.Value());
      }
    }
  }

  void OnOK() override {
    if (!callback_error_.IsEmpty())
      deferred_.Reject(callback_error_.Value());
    else if (!status_.ok())
      deferred_.Reject(ErrorFor(Env(), status_).Value());
    else
      deferred_.Resolve(Env().Undefined());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::FunctionReference on_batch_;
  Napi::ObjectReference callback_error_;
  std::shared_ptr<FlowCapture> core_;
  Status status_;
};

Napi::Promise Queue(StatusWorker* worker) {
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

Napi::Function FlowCaptureBinding::DefineClass(Napi::Env env) {
  return ObjectWrap<FlowCaptureBinding>::DefineClass(
      env, "FlowCapture",
      {InstanceMethod<&FlowCaptureBinding::Load>("load"),
       InstanceMethod<&FlowCaptureBinding::TcxSupported>("tcxSupported"),
       InstanceMethod<&FlowCaptureBinding::Attach>("attach"),
       InstanceMethod<&FlowCaptureBinding::Detach>("detach"),
       InstanceMethod<&FlowCaptureBinding::Drain>("drain"),
       InstanceMethod<&FlowCaptureBinding::Close>("close"),
       InstanceAccessor<&FlowCaptureBinding::Capacity>("capacity")});
}

// new FlowCapture({ entriesPerMap })
FlowCaptureBinding::FlowCaptureBinding(const Napi::CallbackInfo& info) : ObjectWrap<FlowCaptureBinding>(info) {
  Napi::Object options = OptionsArgument(info);
  core_ = std::make_shared<FlowCapture>(CaptureOptions{UnsignedOption(options, "entriesPerMap", 1)});
}

Napi::Value FlowCaptureBinding::Load(const Napi::CallbackInfo& info) {
  std::shared_ptr<FlowCapture> core = core_;
  return Queue(new StatusWorker(info.Env(), [core] { return core->Load(); }));
}

Napi::Value FlowCaptureBinding::TcxSupported(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), core_->TcxSupported());
}

// attach({ interfaceIndex, mode: 'tcx' | 'tc' })
Napi::Value FlowCaptureBinding::Attach(const Napi::CallbackInfo& info) {
  Napi::Object options = OptionsArgument(info);
  uint32_t interface_index = UnsignedOption(options, "interfaceIndex", 1);
  Napi::Value mode_value = options.Get("mode");
  std::string mode_name = mode_value.IsString() ? mode_value.As<Napi::String>().Utf8Value() : "";
  if (mode_name != "tcx" && mode_name != "tc") throw Napi::TypeError::New(info.Env(), "mode must be 'tcx' or 'tc'");
  AttachMode mode = mode_name == "tcx" ? AttachMode::kTcx : AttachMode::kTc;
  std::shared_ptr<FlowCapture> core = core_;
  return Queue(new StatusWorker(info.Env(), [core, interface_index, mode] { return core->Attach(interface_index, mode); }));
}

// detach({ interfaceIndex })
Napi::Value FlowCaptureBinding::Detach(const Napi::CallbackInfo& info) {
  uint32_t interface_index = UnsignedOption(OptionsArgument(info), "interfaceIndex", 1);
  std::shared_ptr<FlowCapture> core = core_;
  return Queue(new StatusWorker(info.Env(), [core, interface_index] { return core->Detach(interface_index); }));
}

// drain(onBatch)
Napi::Value FlowCaptureBinding::Drain(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "expected one batch callback");
  auto* worker = new DrainWorker(info[0].As<Napi::Function>(), core_);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value FlowCaptureBinding::Close(const Napi::CallbackInfo& info) {
  core_->Close();
  return info.Env().Undefined();
}

Napi::Value FlowCaptureBinding::Capacity(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), core_->capacity());
}

Napi::Object DescribeLayout(Napi::Env env) {
  Napi::Object layout = Napi::Object::New(env);
  auto set = [&](const char* name, size_t value) { layout.Set(name, Napi::Number::New(env, static_cast<double>(value))); };
  set("magic", kDrainMagic);
  set("headerRecordCount", offsetof(DrainHeader, record_count));
  set("headerCapacity", offsetof(DrainHeader, capacity));
  set("headerCounterCount", offsetof(DrainHeader, counter_count));
  set("headerMapRecords", offsetof(DrainHeader, map_records));
  set("headerEpochOffsetMs", offsetof(DrainHeader, epoch_offset_ms));
  set("headerCounters", offsetof(DrainHeader, counters));
  set("headerSize", sizeof(DrainHeader));
  set("keySize", sizeof(flow_key));
  set("keySourceAddress", offsetof(flow_key, source_address));
  set("keyDestinationAddress", offsetof(flow_key, destination_address));
  set("keySourcePort", offsetof(flow_key, source_port));
  set("keyDestinationPort", offsetof(flow_key, destination_port));
  set("keyInterfaceIndex", offsetof(flow_key, interface_index));
  set("keyVlanId", offsetof(flow_key, vlan_id));
  set("keyProtocol", offsetof(flow_key, protocol));
  set("keyIpVersion", offsetof(flow_key, ip_version));
  set("keyIcmpType", offsetof(flow_key, icmp_type));
  set("keyIcmpCode", offsetof(flow_key, icmp_code));
  set("keyDirection", offsetof(flow_key, direction));
  set("countsSize", sizeof(flow_counts));
  set("countsPackets", offsetof(flow_counts, packets));
  set("countsIpOctets", offsetof(flow_counts, ip_octets));
  set("countsLayer2Octets", offsetof(flow_counts, layer2_octets));
  set("countsFirstSeenNs", offsetof(flow_counts, first_seen_ns));
  set("countsLastSeenNs", offsetof(flow_counts, last_seen_ns));
  set("countsTcpFlags", offsetof(flow_counts, tcp_flags));
  return layout;
}

Napi::Array DescribeCounters(Napi::Env env) {
  Napi::Array counters = Napi::Array::New(env, FLOW_COUNTER_COUNT);
  for (uint32_t index = 0; index < FLOW_COUNTER_COUNT; index++) {
    Napi::Object counter = Napi::Object::New(env);
    counter.Set("name", kCounters[index].name);
    counter.Set("loss", kCounters[index].loss);
    counters.Set(index, counter);
  }
  return counters;
}

Napi::Value TakeLibbpfMessagesForJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t dropped = 0;
  std::vector<LibbpfMessage> taken = TakeLibbpfMessages(&dropped);
  Napi::Array messages = Napi::Array::New(env, taken.size());
  for (size_t index = 0; index < taken.size(); index++) {
    Napi::Object message = Napi::Object::New(env);
    message.Set("level", taken[index].level);
    message.Set("text", taken[index].text);
    messages.Set(static_cast<uint32_t>(index), message);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("messages", messages);
  result.Set("dropped", Napi::Number::New(env, static_cast<double>(dropped)));
  return result;
}

}  // namespace flowcapture

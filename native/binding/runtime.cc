// Runtime controls: which CPU path the kernels take and how many threads the pool runs.
//   runtimeInfo() -> { isa, detectedIsa, threads, pool: { warm, stalls, backoffMs, pokes, split, single } }
//                         (ThreadPool::stats, SplitPolicy::stats)
//   setIsa(name)          name in "generic" | "avx2" | "avx512" on x86-64, "generic" | "neon" on AArch64; a path the
//                         CPU runs (runtime/cpu.h)
//   setNumThreads(n)      n >= 1
//   setSplitPolicy(name)  "adaptive" (the default: split_policy.h) or "always" (every call that may split does)
#include "binding/args.h"
#include "binding/register.h"
#include "runtime/cpu.h"
#include "runtime/split_policy.h"
#include "runtime/thread_pool.h"

#include <string>

namespace normnet::binding {

namespace {

Napi::Value runtime_info(const Napi::CallbackInfo& info) {
  ArgReader(info, "runtimeInfo", "");
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("isa", isa_name(active_isa()));
  result.Set("detectedIsa", isa_name(detected_isa()));
  result.Set("threads", ThreadPool::global().size());
  const ThreadPool::Stats stats = ThreadPool::global().stats();
  Napi::Object pool = Napi::Object::New(info.Env());
  pool.Set("warm", static_cast<double>(stats.warm));
  pool.Set("stalls", static_cast<double>(stats.stalls));
  pool.Set("backoffMs", static_cast<double>(stats.backoff_ns) / 1e6);
  pool.Set("pokes", static_cast<double>(stats.pokes));
  const SplitPolicy::Stats policy = SplitPolicy::stats();
  pool.Set("split", static_cast<double>(policy.split));
  pool.Set("single", static_cast<double>(policy.single));
  result.Set("pool", pool);
  return result;
}

Napi::Value set_isa_binding(const Napi::CallbackInfo& info) {
  ArgReader(info, "setIsa", "isa");
  if (!info[0].IsString()) throw_type(info.Env(), "setIsa: isa must be a string");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  Isa isa;
  if (!parse_isa(name.c_str(), &isa)) {
    throw_range(info.Env(), std::string("setIsa: isa must be ") + isa_choices() + ", got '" + name + "'");
  }
  if (!set_isa(isa)) {
    throw_range(info.Env(), "setIsa: isa '" + name + "' is not supported by this CPU (best: " +
                                                isa_name(detected_isa()) + ")");
  }
  return info.Env().Undefined();
}

Napi::Value set_num_threads(const Napi::CallbackInfo& info) {
  ArgReader r(info, "setNumThreads", "threads");
  const int64_t threads = r.integer(0, 1);
  if (threads > 1024) throw_range(info.Env(), "setNumThreads: threads must be an integer in [1, 1024], got " + std::to_string(threads));
  ThreadPool::global().resize(static_cast<int>(threads));
  return info.Env().Undefined();
}

Napi::Value set_split_policy(const Napi::CallbackInfo& info) {
  ArgReader(info, "setSplitPolicy", "policy");
  const std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (name != "adaptive" && name != "always") throw_type(info.Env(), "setSplitPolicy: policy must be 'adaptive' or 'always'");
  SplitPolicy::set_always(name == "always");
  return info.Env().Undefined();
}

}  // namespace

void register_runtime(Napi::Env env, Napi::Object exports) {
  exports.Set("runtimeInfo", Napi::Function::New(env, runtime_info, "runtimeInfo"));
  exports.Set("setIsa", Napi::Function::New(env, set_isa_binding, "setIsa"));
  exports.Set("setNumThreads", Napi::Function::New(env, set_num_threads, "setNumThreads"));
  exports.Set("setSplitPolicy", Napi::Function::New(env, set_split_policy, "setSplitPolicy"));
}

}  // namespace normnet::binding

// The normnet Node-API addon: one module whose exports are the kernels and the runtime controls.
#include "binding/register.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  normnet::binding::register_runtime(env, exports);
  normnet::binding::register_gemm(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(normnet, init)

// The normnet Node-API addon: one module whose exports are the kernels and the runtime controls.
#include "binding/register.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  normnet::binding::register_runtime(env, exports);
  normnet::binding::register_gemm(env, exports);
  normnet::binding::register_linear(env, exports);
  normnet::binding::register_batchnorm(env, exports);
  normnet::binding::register_conv(env, exports);
  normnet::binding::register_pool(env, exports);
  normnet::binding::register_elementwise(env, exports);
  normnet::binding::register_loss(env, exports);
  normnet::binding::register_optim(env, exports);
  normnet::binding::register_gather(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(normnet, init)

// The pool family: maxpoolForward, maxpoolBackward (src/kernels/kernels.ts documents each). Arguments are
// checked exactly as the TS CHECKS, in the same order and words, then the kernel runs. Every argmax index is
// range-checked before backward scatters through it.
#include "binding/args.h"
#include "binding/register.h"
#include "kernels/pool.h"

#include <initializer_list>
#include <string>

namespace normnet::binding {

namespace {

Napi::Value maxpool_forward(const Napi::CallbackInfo& info) {
  ArgReader r(info, "maxpoolForward", "y, argmax, x, N, C, H, W, KH, KW, stride");
  const Window d = window_dims(r, 3, false);
  const auto y = r.floats(0, length_of({d.N, d.C, d.OH, d.OW}), "N*C*OH*OW");
  const auto argmax = r.int32s(1, length_of({d.N, d.C, d.OH, d.OW}), "N*C*OH*OW");
  const auto x = r.floats(2, length_of({d.N, d.C, d.H, d.W}), "N*C*H*W");
  r.no_overlap({"y", "argmax"});
  normnet::maxpool_forward(y.data, argmax.data, x.data, d.N, d.C, d.H, d.W, d.KH, d.KW, d.stride);
  return info.Env().Undefined();
}

Napi::Value maxpool_backward(const Napi::CallbackInfo& info) {
  ArgReader r(info, "maxpoolBackward", "dx, dy, argmax, N, C, H, W, KH, KW, stride");
  const Window d = window_dims(r, 3, false);
  const auto dx = r.floats(0, length_of({d.N, d.C, d.H, d.W}), "N*C*H*W");
  const auto dy = r.floats(1, length_of({d.N, d.C, d.OH, d.OW}), "N*C*OH*OW");
  const auto argmax = r.int32s(2, length_of({d.N, d.C, d.OH, d.OW}), "N*C*OH*OW");
  check_plane_indices(r, argmax, d.H * d.W);
  r.no_overlap({"dx"});
  normnet::maxpool_backward(dx.data, dy.data, argmax.data, d.N, d.C, d.H, d.W, d.KH, d.KW, d.stride);
  return info.Env().Undefined();
}

}  // namespace

void register_pool(Napi::Env env, Napi::Object exports) {
  exports.Set("maxpoolForward", Napi::Function::New(env, maxpool_forward, "maxpoolForward"));
  exports.Set("maxpoolBackward", Napi::Function::New(env, maxpool_backward, "maxpoolBackward"));
}

}  // namespace normnet::binding

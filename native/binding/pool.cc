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

// The product of dims as the TS checks form it (in double), saturated below 2^63: dims are each < 2^31, so a
// product of several can overflow int64, and a length above 2^53 can match no array anyway.
int64_t length_of(std::initializer_list<int64_t> dims) {
  double product = 1;
  for (const int64_t d : dims) product *= static_cast<double>(d);
  return product < 4611686018427387904.0 ? static_cast<int64_t>(product) : int64_t{4611686018427387904};
}

struct Window {
  int64_t N, C, H, W, KH, KW, stride, OH, OW;
};

// N, C, H, W, KH, KW, stride from argument `first` on, and the output size (windowDims in kernels.ts, unpadded).
Window window_dims(ArgReader& r, size_t first) {
  Window d{};
  d.N = r.integer(first), d.C = r.integer(first + 1), d.H = r.integer(first + 2), d.W = r.integer(first + 3);
  d.KH = r.integer(first + 4, 1), d.KW = r.integer(first + 5, 1), d.stride = r.integer(first + 6, 1);
  d.OH = window_output(r, "H", d.H, d.KH, d.stride, 0);
  d.OW = window_output(r, "W", d.W, d.KW, d.stride, 0);
  return d;
}

Napi::Value maxpool_forward(const Napi::CallbackInfo& info) {
  ArgReader r(info, "maxpoolForward", "y, argmax, x, N, C, H, W, KH, KW, stride");
  const Window d = window_dims(r, 3);
  const auto y = r.floats(0, length_of({d.N, d.C, d.OH, d.OW}), "N*C*OH*OW");
  const auto argmax = r.int32s(1, length_of({d.N, d.C, d.OH, d.OW}), "N*C*OH*OW");
  const auto x = r.floats(2, length_of({d.N, d.C, d.H, d.W}), "N*C*H*W");
  r.no_overlap({"y", "argmax"});
  normnet::maxpool_forward(y.data, argmax.data, x.data, d.N, d.C, d.H, d.W, d.KH, d.KW, d.stride);
  return info.Env().Undefined();
}

Napi::Value maxpool_backward(const Napi::CallbackInfo& info) {
  ArgReader r(info, "maxpoolBackward", "dx, dy, argmax, N, C, H, W, KH, KW, stride");
  const Window d = window_dims(r, 3);
  const auto dx = r.floats(0, length_of({d.N, d.C, d.H, d.W}), "N*C*H*W");
  const auto dy = r.floats(1, length_of({d.N, d.C, d.OH, d.OW}), "N*C*OH*OW");
  const auto argmax = r.int32s(2, length_of({d.N, d.C, d.OH, d.OW}), "N*C*OH*OW");
  const int64_t plane = d.H * d.W;
  for (size_t i = 0; i < argmax.length; ++i) {
    if (!(argmax.data[i] >= 0 && argmax.data[i] < plane)) {
      throw_range(info.Env(), "maxpoolBackward: argmax[" + std::to_string(i) + "] = " + std::to_string(argmax.data[i]) +
                                  " is not an index in [0, H*W = " + std::to_string(plane) + ")");
    }
  }
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

// The elementwise family: reluForward, reluBackward, sigmoidForward, sigmoidBackward, dropoutForward,
// dropoutBackward (src/kernels/kernels.ts documents each). Arguments are checked exactly as the TS CHECKS,
// in the same order and words, then the kernel runs.
#include "binding/args.h"
#include "binding/register.h"
#include "kernels/elementwise.h"

namespace normnet::binding {

namespace {

using Unary = void (*)(float*, const float*, int64_t);
using Binary = void (*)(float*, const float*, const float*, int64_t);

// out = f(in) over `length` values: signature "out, in, length" (unary in kernels.ts).
Napi::Function unary(Napi::Env env, const char* kernel, const char* signature, const char* out, Unary fn) {
  return Napi::Function::New(
      env,
      [=](const Napi::CallbackInfo& info) -> Napi::Value {
        ArgReader r(info, kernel, signature);
        const int64_t length = r.integer(2);
        const auto a = r.floats(0, length, "length");
        const auto b = r.floats(1, length, "length");
        r.no_overlap({out});
        fn(a.data, b.data, length);
        return info.Env().Undefined();
      },
      kernel);
}

// out = f(a, b) over `length` values: signature "out, a, b, length" (binary in kernels.ts).
Napi::Function binary(Napi::Env env, const char* kernel, const char* signature, const char* out, Binary fn) {
  return Napi::Function::New(
      env,
      [=](const Napi::CallbackInfo& info) -> Napi::Value {
        ArgReader r(info, kernel, signature);
        const int64_t length = r.integer(3);
        const auto o = r.floats(0, length, "length");
        const auto a = r.floats(1, length, "length");
        const auto b = r.floats(2, length, "length");
        r.no_overlap({out});
        fn(o.data, a.data, b.data, length);
        return info.Env().Undefined();
      },
      kernel);
}

Napi::Value dropout_forward(const Napi::CallbackInfo& info) {
  ArgReader r(info, "dropoutForward", "y, mask, x, length, p, seed");
  const int64_t length = r.integer(3);
  const double p = r.in_range(4, 0, 1);
  const uint32_t seed = r.uint32(5);
  const auto y = r.floats(0, length, "length");
  const auto mask = r.floats(1, length, "length");
  const auto x = r.floats(2, length, "length");
  r.no_overlap({"y", "mask"});
  normnet::dropout_forward(y.data, mask.data, x.data, length, p, seed);
  return info.Env().Undefined();
}

}  // namespace

void register_elementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("reluForward", unary(env, "reluForward", "y, x, length", "y", relu_forward));
  exports.Set("reluBackward", binary(env, "reluBackward", "dx, dy, y, length", "dx", relu_backward));
  exports.Set("sigmoidForward", unary(env, "sigmoidForward", "y, x, length", "y", sigmoid_forward));
  exports.Set("sigmoidBackward", binary(env, "sigmoidBackward", "dx, dy, y, length", "dx", sigmoid_backward));
  exports.Set("dropoutForward", Napi::Function::New(env, dropout_forward, "dropoutForward"));
  exports.Set("dropoutBackward", binary(env, "dropoutBackward", "dx, dy, mask, length", "dx", dropout_backward));
}

}  // namespace normnet::binding

// linearForward, linearBackward (src/kernels/kernels.ts documents each). Arguments are checked exactly as the TS
// CHECKS, in the same order and words (bias, dbias and dx may be null), then the kernel runs.
#include "binding/args.h"
#include "binding/register.h"
#include "kernels/linear.h"

namespace normnet::binding {

namespace {

Napi::Value linear_forward(const Napi::CallbackInfo& info) {
  ArgReader r(info, "linearForward", "y, x, weight, bias, N, inFeatures, outFeatures");
  const int64_t N = r.integer(4), I = r.integer(5), O = r.integer(6);
  const auto y = r.floats(0, length_of({N, O}), "N*outFeatures");
  const auto x = r.floats(1, length_of({N, I}), "N*inFeatures");
  const auto weight = r.floats(2, length_of({O, I}), "outFeatures*inFeatures");
  const auto bias = r.optional_floats(3, O, "outFeatures");
  r.no_overlap({"y"});
  normnet::linear_forward(y.data, x.data, weight.data, bias.data, N, I, O);
  return info.Env().Undefined();
}

Napi::Value linear_backward(const Napi::CallbackInfo& info) {
  ArgReader r(info, "linearBackward", "dx, dweight, dbias, dy, x, weight, N, inFeatures, outFeatures");
  const int64_t N = r.integer(6), I = r.integer(7), O = r.integer(8);
  const auto dx = r.optional_floats(0, length_of({N, I}), "N*inFeatures");
  const auto dweight = r.floats(1, length_of({O, I}), "outFeatures*inFeatures");
  const auto dbias = r.optional_floats(2, O, "outFeatures");
  const auto dy = r.floats(3, length_of({N, O}), "N*outFeatures");
  const auto x = r.floats(4, length_of({N, I}), "N*inFeatures");
  const auto weight = r.floats(5, length_of({O, I}), "outFeatures*inFeatures");
  r.no_overlap({"dx", "dweight", "dbias"});
  normnet::linear_backward(dx.data, dweight.data, dbias.data, dy.data, x.data, weight.data, N, I, O);
  return info.Env().Undefined();
}

}  // namespace

void register_linear(Napi::Env env, Napi::Object exports) {
  exports.Set("linearForward", Napi::Function::New(env, linear_forward, "linearForward"));
  exports.Set("linearBackward", Napi::Function::New(env, linear_backward, "linearBackward"));
}

}  // namespace normnet::binding

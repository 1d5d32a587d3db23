// The conv family: im2col, col2im, convBiasForward, convBiasBackward (src/kernels/kernels.ts documents each).
// Arguments are checked exactly as the TS CHECKS, in the same order and words, then the kernel runs.
#include "binding/args.h"
#include "binding/register.h"
#include "kernels/conv.h"

#include <initializer_list>

namespace normnet::binding {

namespace {

Napi::Value im2col(const Napi::CallbackInfo& info) {
  ArgReader r(info, "im2col", "cols, x, N, C, H, W, KH, KW, stride, padding");
  const Window d = window_dims(r, 2, true);
  const auto cols = r.floats(0, length_of({d.C, d.KH, d.KW, d.N, d.OH, d.OW}), "C*KH*KW*N*OH*OW");
  const auto x = r.floats(1, length_of({d.N, d.C, d.H, d.W}), "N*C*H*W");
  r.no_overlap({"cols"});
  normnet::im2col(cols.data, x.data, d.N, d.C, d.H, d.W, d.KH, d.KW, d.stride, d.padding);
  return info.Env().Undefined();
}

Napi::Value col2im(const Napi::CallbackInfo& info) {
  ArgReader r(info, "col2im", "dx, cols, N, C, H, W, KH, KW, stride, padding");
  const Window d = window_dims(r, 2, true);
  const auto dx = r.floats(0, length_of({d.N, d.C, d.H, d.W}), "N*C*H*W");
  const auto cols = r.floats(1, length_of({d.C, d.KH, d.KW, d.N, d.OH, d.OW}), "C*KH*KW*N*OH*OW");
  r.no_overlap({"dx"});
  normnet::col2im(dx.data, cols.data, d.N, d.C, d.H, d.W, d.KH, d.KW, d.stride, d.padding);
  return info.Env().Undefined();
}

Napi::Value conv_bias_forward(const Napi::CallbackInfo& info) {
  ArgReader r(info, "convBiasForward", "y, t, bias, N, C, S");
  const int64_t N = r.integer(3), C = r.integer(4), S = r.integer(5);
  const auto y = r.floats(0, length_of({N, C, S}), "N*C*S");
  const auto t = r.floats(1, length_of({N, C, S}), "N*C*S");
  const auto bias = r.floats(2, C, "C");
  r.no_overlap({"y"});
  normnet::conv_bias_forward(y.data, t.data, bias.data, N, C, S);
  return info.Env().Undefined();
}

Napi::Value conv_bias_backward(const Napi::CallbackInfo& info) {
  ArgReader r(info, "convBiasBackward", "dt, dbias, dy, N, C, S");
  const int64_t N = r.integer(3), C = r.integer(4), S = r.integer(5);
  const auto dt = r.floats(0, length_of({N, C, S}), "N*C*S");
  const auto dbias = r.floats(1, C, "C");
  const auto dy = r.floats(2, length_of({N, C, S}), "N*C*S");
  r.no_overlap({"dt", "dbias"});
  normnet::conv_bias_backward(dt.data, dbias.data, dy.data, N, C, S);
  return info.Env().Undefined();
}

}  // namespace

void register_conv(Napi::Env env, Napi::Object exports) {
  exports.Set("im2col", Napi::Function::New(env, im2col, "im2col"));
  exports.Set("col2im", Napi::Function::New(env, col2im, "col2im"));
  exports.Set("convBiasForward", Napi::Function::New(env, conv_bias_forward, "convBiasForward"));
  exports.Set("convBiasBackward", Napi::Function::New(env, conv_bias_backward, "convBiasBackward"));
}

}  // namespace normnet::binding

// The conv family: im2col, col2im, conv2dForward, conv2dBackwardInput, conv2dBackwardParams
// (src/kernels/kernels.ts documents each). Arguments are checked exactly as the TS CHECKS, in the same order and
// words, then the kernel runs.
#include "binding/args.h"
#include "binding/register.h"
#include "kernels/conv.h"

#include <initializer_list>
#include <string>

namespace normnet::binding {

namespace {

// The kernels unfold one image at a time into a per-thread workspace of C*KH*KW*OH*OW values: unfoldedImage in
// src/kernels/kernels.ts. Without it, an empty output with a huge window asked std::vector for 2^60 floats (abort).
void unfolded_image(const ArgReader& r, const Window& d) {
  if (length_of({d.C, d.KH, d.KW, d.OH, d.OW}) >= (int64_t{1} << 31)) {
    throw_range(r.env(), r.kernel() + ": one image unfolds to C*KH*KW*OH*OW = " + std::to_string(d.C) + "*" +
                             std::to_string(d.KH) + "*" + std::to_string(d.KW) + "*" + std::to_string(d.OH) + "*" +
                             std::to_string(d.OW) + " values, 2^31 or more");
  }
}

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

Napi::Value conv2d_forward(const Napi::CallbackInfo& info) {
  ArgReader r(info, "conv2dForward", "y, x, weight, bias, N, C, H, W, OC, KH, KW, stride, padding");
  const Window d = window_dims(r, 4, true, true);
  const auto y = r.floats(0, length_of({d.N, d.OC, d.OH, d.OW}), "N*OC*OH*OW");
  const auto x = r.floats(1, length_of({d.N, d.C, d.H, d.W}), "N*C*H*W");
  const auto weight = r.floats(2, length_of({d.OC, d.C, d.KH, d.KW}), "OC*C*KH*KW");
  const auto bias = r.floats(3, d.OC, "OC");
  unfolded_image(r, d);
  r.no_overlap({"y"});
  normnet::conv2d_forward(y.data, x.data, weight.data, bias.data, d.N, d.C, d.H, d.W, d.OC, d.KH, d.KW, d.stride,
                          d.padding);
  return info.Env().Undefined();
}

Napi::Value conv2d_backward_input(const Napi::CallbackInfo& info) {
  ArgReader r(info, "conv2dBackwardInput", "dx, dy, weight, N, C, H, W, OC, KH, KW, stride, padding");
  const Window d = window_dims(r, 3, true, true);
  const auto dx = r.floats(0, length_of({d.N, d.C, d.H, d.W}), "N*C*H*W");
  const auto dy = r.floats(1, length_of({d.N, d.OC, d.OH, d.OW}), "N*OC*OH*OW");
  const auto weight = r.floats(2, length_of({d.OC, d.C, d.KH, d.KW}), "OC*C*KH*KW");
  unfolded_image(r, d);
  r.no_overlap({"dx"});
  normnet::conv2d_backward_input(dx.data, dy.data, weight.data, d.N, d.C, d.H, d.W, d.OC, d.KH, d.KW, d.stride,
                                 d.padding);
  return info.Env().Undefined();
}

Napi::Value conv2d_backward_params(const Napi::CallbackInfo& info) {
  ArgReader r(info, "conv2dBackwardParams", "dweight, dbias, dy, x, N, C, H, W, OC, KH, KW, stride, padding");
  const Window d = window_dims(r, 4, true, true);
  const auto dweight = r.floats(0, length_of({d.OC, d.C, d.KH, d.KW}), "OC*C*KH*KW");
  const auto dbias = r.floats(1, d.OC, "OC");
  const auto dy = r.floats(2, length_of({d.N, d.OC, d.OH, d.OW}), "N*OC*OH*OW");
  const auto x = r.floats(3, length_of({d.N, d.C, d.H, d.W}), "N*C*H*W");
  unfolded_image(r, d);
  r.no_overlap({"dweight", "dbias"});
  normnet::conv2d_backward_params(dweight.data, dbias.data, dy.data, x.data, d.N, d.C, d.H, d.W, d.OC, d.KH, d.KW,
                                  d.stride, d.padding);
  return info.Env().Undefined();
}

}  // namespace

void register_conv(Napi::Env env, Napi::Object exports) {
  exports.Set("im2col", Napi::Function::New(env, im2col, "im2col"));
  exports.Set("col2im", Napi::Function::New(env, col2im, "col2im"));
  exports.Set("conv2dForward", Napi::Function::New(env, conv2d_forward, "conv2dForward"));
  exports.Set("conv2dBackwardInput", Napi::Function::New(env, conv2d_backward_input, "conv2dBackwardInput"));
  exports.Set("conv2dBackwardParams", Napi::Function::New(env, conv2d_backward_params, "conv2dBackwardParams"));
}

}  // namespace normnet::binding

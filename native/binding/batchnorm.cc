// Batch Normalization kernels over an (N, C, S) view, and BatchNorm2d with a max-pool fused after it; argument
// checks mirror src/kernels/kernels.ts.
#include "binding/args.h"
#include "binding/register.h"
#include "kernels/batchnorm.h"
#include "kernels/batchnorm_pool.h"

#include <cmath>

namespace normnet::binding {

namespace {

Napi::Value batchnorm_forward_train(const Napi::CallbackInfo& info) {
  ArgReader r(info, "batchnormForwardTrain",
              "y, saveMean, saveInvStd, runningMean, runningVar, x, gamma, beta, N, C, S, momentum, eps, relu");
  const int64_t N = r.integer(8), C = r.integer(9), S = r.integer(10);
  const double momentum = r.in_range(11, 0, 1, true);
  const double eps = r.in_range(12, 0, INFINITY);
  const bool relu = r.boolean(13);
  const auto y = r.floats(0, N * C * S, "N*C*S");
  const auto save_mean = r.floats(1, C, "C");
  const auto save_inv_std = r.floats(2, C, "C");
  const auto running_mean = r.floats(3, C, "C");
  const auto running_var = r.floats(4, C, "C");
  const auto x = r.floats(5, N * C * S, "N*C*S");
  const auto gamma = r.floats(6, C, "C");
  const auto beta = r.floats(7, C, "C");
  if (N * S <= 1 && C > 0) {
    throw_range(info.Env(), "batchnormForwardTrain: training needs more than one value per channel, got N*S = " +
                                std::to_string(N * S));
  }
  r.no_overlap({"y", "saveMean", "saveInvStd", "runningMean", "runningVar"});
  normnet::batchnorm_forward_train(y.data, save_mean.data, save_inv_std.data, running_mean.data, running_var.data, x.data,
                          gamma.data, beta.data, N, C, S, momentum, eps, relu);
  return info.Env().Undefined();
}

Napi::Value batchnorm_forward_eval(const Napi::CallbackInfo& info) {
  ArgReader r(info, "batchnormForwardEval", "y, x, gamma, beta, runningMean, runningVar, N, C, S, eps, relu");
  const int64_t N = r.integer(6), C = r.integer(7), S = r.integer(8);
  const double eps = r.in_range(9, 0, INFINITY);
  const bool relu = r.boolean(10);
  const auto y = r.floats(0, N * C * S, "N*C*S");
  const auto x = r.floats(1, N * C * S, "N*C*S");
  const auto gamma = r.floats(2, C, "C");
  const auto beta = r.floats(3, C, "C");
  const auto running_mean = r.floats(4, C, "C");
  const auto running_var = r.floats(5, C, "C");
  r.no_overlap({"y"});
  normnet::batchnorm_forward_eval(y.data, x.data, gamma.data, beta.data, running_mean.data, running_var.data, N, C, S, eps, relu);
  return info.Env().Undefined();
}

Napi::Value batchnorm_backward(const Napi::CallbackInfo& info) {
  ArgReader r(info, "batchnormBackward", "dx, dgamma, dbeta, dy, x, saveMean, saveInvStd, gamma, N, C, S, beta");
  const int64_t N = r.integer(8), C = r.integer(9), S = r.integer(10);
  const auto dx = r.floats(0, N * C * S, "N*C*S");
  const auto dgamma = r.floats(1, C, "C");
  const auto dbeta = r.floats(2, C, "C");
  const auto dy = r.floats(3, N * C * S, "N*C*S");
  const auto x = r.floats(4, N * C * S, "N*C*S");
  const auto save_mean = r.floats(5, C, "C");
  const auto save_inv_std = r.floats(6, C, "C");
  const auto gamma = r.floats(7, C, "C");
  const auto beta = r.optional_floats(11, C, "C");
  r.no_overlap({"dx", "dgamma", "dbeta"});
  normnet::batchnorm_backward(dx.data, dgamma.data, dbeta.data, dy.data, x.data, save_mean.data, save_inv_std.data,
                              gamma.data, beta.data, N, C, S);
  return info.Env().Undefined();
}

Napi::Value batchnorm_pool_forward_train(const Napi::CallbackInfo& info) {
  ArgReader r(info, "batchnormPoolForwardTrain",
              "y, argmax, saveMean, saveInvStd, runningMean, runningVar, x, gamma, beta, N, C, H, W, KH, KW, stride, "
              "momentum, eps, relu");
  const Window d = window_dims(r, 9, false);
  const double momentum = r.in_range(16, 0, 1, true);
  const double eps = r.in_range(17, 0, INFINITY);
  const bool relu = r.boolean(18);
  const int64_t pooled = length_of({d.N, d.C, d.OH, d.OW}), input = length_of({d.N, d.C, d.H, d.W});
  const auto y = r.floats(0, pooled, "N*C*OH*OW");
  const auto argmax = r.int32s(1, pooled, "N*C*OH*OW");
  const auto save_mean = r.floats(2, d.C, "C");
  const auto save_inv_std = r.floats(3, d.C, "C");
  const auto running_mean = r.floats(4, d.C, "C");
  const auto running_var = r.floats(5, d.C, "C");
  const auto x = r.floats(6, input, "N*C*H*W");
  const auto gamma = r.floats(7, d.C, "C");
  const auto beta = r.floats(8, d.C, "C");
  if (d.N * d.H * d.W <= 1 && d.C > 0) {
    throw_range(info.Env(), "batchnormPoolForwardTrain: training needs more than one value per channel, got N*H*W = " +
                                std::to_string(d.N * d.H * d.W));
  }
  r.no_overlap({"y", "argmax", "saveMean", "saveInvStd", "runningMean", "runningVar"});
  normnet::batchnorm_pool_forward_train(y.data, argmax.data, save_mean.data, save_inv_std.data, running_mean.data,
                                        running_var.data, x.data, gamma.data, beta.data, d.N, d.C, d.H, d.W, d.KH, d.KW,
                                        d.stride, momentum, eps, relu);
  return info.Env().Undefined();
}

}  // namespace

void register_batchnorm(Napi::Env env, Napi::Object exports) {
  exports.Set("batchnormForwardTrain", Napi::Function::New(env, batchnorm_forward_train, "batchnormForwardTrain"));
  exports.Set("batchnormForwardEval", Napi::Function::New(env, batchnorm_forward_eval, "batchnormForwardEval"));
  exports.Set("batchnormBackward", Napi::Function::New(env, batchnorm_backward, "batchnormBackward"));
  exports.Set("batchnormPoolForwardTrain",
              Napi::Function::New(env, batchnorm_pool_forward_train, "batchnormPoolForwardTrain"));
}

}  // namespace normnet::binding

// The optimizer updates: sgdUpdate, momentumUpdate, nesterovUpdate, adagradUpdate, rmspropUpdate, adamUpdate
// (src/kernels/kernels.ts documents each). Arguments are checked exactly as the TS CHECKS (`update` there), in
// the same order and words, then the kernel runs.
#include <cmath>
#include <vector>

#include "binding/args.h"
#include "binding/register.h"
#include "kernels/optim.h"

namespace normnet::binding {

namespace {

// How a scalar is checked, as ScalarRule in kernels.ts: kRate in [0, Infinity) (lr, weightDecay, eps, lrDecay),
// kUnit in [0, 1] (momentum, dampening, alpha), kBeta in [0, 1), kStep an integer in [1, 2^31).
enum Rule { kRate, kUnit, kBeta, kStep };

// An update's arguments, read: its float arrays (param, state..., grad) and scalars, in signature order.
struct Update {
  int64_t length;
  std::vector<float*> arrays;
  std::vector<double> scalars;
};

// Reads "param, state..., grad, length, scalars...": `n_arrays` float arrays of `length` values, then the
// scalars by their rules; the first n_arrays - 1 arrays are written and may share memory with nothing.
Update read_update(const Napi::CallbackInfo& info, const char* kernel, const char* signature, size_t n_arrays,
                   std::initializer_list<Rule> rules, std::initializer_list<const char*> outputs) {
  ArgReader r(info, kernel, signature);
  Update u;
  u.length = r.integer(n_arrays);
  size_t i = n_arrays + 1;
  for (const Rule rule : rules) {
    switch (rule) {
      case kRate: u.scalars.push_back(r.in_range(i, 0, INFINITY)); break;
      case kUnit: u.scalars.push_back(r.in_range(i, 0, 1, true)); break;
      case kBeta: u.scalars.push_back(r.in_range(i, 0, 1)); break;
      case kStep: u.scalars.push_back(static_cast<double>(r.integer(i, 1))); break;
    }
    ++i;
  }
  for (size_t a = 0; a < n_arrays; ++a) u.arrays.push_back(r.floats(a, u.length, "length").data);
  r.no_overlap(outputs);
  return u;
}

Napi::Value sgd_update(const Napi::CallbackInfo& info) {
  const Update u = read_update(info, "sgdUpdate", "param, grad, length, lr, weightDecay", 2, {kRate, kRate}, {"param"});
  normnet::sgd_update(u.arrays[0], u.arrays[1], u.length, u.scalars[0], u.scalars[1]);
  return info.Env().Undefined();
}

Napi::Value momentum_update(const Napi::CallbackInfo& info) {
  const Update u = read_update(info, "momentumUpdate",
                               "param, velocity, grad, length, lr, momentum, dampening, weightDecay, step", 3,
                               {kRate, kUnit, kUnit, kRate, kStep}, {"param", "velocity"});
  const auto& s = u.scalars;
  normnet::momentum_update(u.arrays[0], u.arrays[1], u.arrays[2], u.length, s[0], s[1], s[2], s[3],
                           static_cast<int64_t>(s[4]));
  return info.Env().Undefined();
}

Napi::Value nesterov_update(const Napi::CallbackInfo& info) {
  const Update u = read_update(info, "nesterovUpdate", "param, velocity, grad, length, lr, momentum, weightDecay, step",
                               3, {kRate, kUnit, kRate, kStep}, {"param", "velocity"});
  const auto& s = u.scalars;
  normnet::nesterov_update(u.arrays[0], u.arrays[1], u.arrays[2], u.length, s[0], s[1], s[2], static_cast<int64_t>(s[3]));
  return info.Env().Undefined();
}

Napi::Value adagrad_update(const Napi::CallbackInfo& info) {
  const Update u = read_update(info, "adagradUpdate", "param, sum, grad, length, lr, lrDecay, eps, weightDecay, step", 3,
                               {kRate, kRate, kRate, kRate, kStep}, {"param", "sum"});
  const auto& s = u.scalars;
  normnet::adagrad_update(u.arrays[0], u.arrays[1], u.arrays[2], u.length, s[0], s[1], s[2], s[3],
                          static_cast<int64_t>(s[4]));
  return info.Env().Undefined();
}

Napi::Value rmsprop_update(const Napi::CallbackInfo& info) {
  const Update u = read_update(info, "rmspropUpdate", "param, squareAvg, grad, length, lr, alpha, eps, weightDecay", 3,
                               {kRate, kUnit, kRate, kRate}, {"param", "squareAvg"});
  const auto& s = u.scalars;
  normnet::rmsprop_update(u.arrays[0], u.arrays[1], u.arrays[2], u.length, s[0], s[1], s[2], s[3]);
  return info.Env().Undefined();
}

Napi::Value adam_update(const Napi::CallbackInfo& info) {
  const Update u = read_update(info, "adamUpdate",
                               "param, expAvg, expAvgSq, grad, length, lr, beta1, beta2, eps, weightDecay, step", 4,
                               {kRate, kBeta, kBeta, kRate, kRate, kStep}, {"param", "expAvg", "expAvgSq"});
  const auto& s = u.scalars;
  normnet::adam_update(u.arrays[0], u.arrays[1], u.arrays[2], u.arrays[3], u.length, s[0], s[1], s[2], s[3], s[4],
                       static_cast<int64_t>(s[5]));
  return info.Env().Undefined();
}

}  // namespace

void register_optim(Napi::Env env, Napi::Object exports) {
  exports.Set("sgdUpdate", Napi::Function::New(env, sgd_update, "sgdUpdate"));
  exports.Set("momentumUpdate", Napi::Function::New(env, momentum_update, "momentumUpdate"));
  exports.Set("nesterovUpdate", Napi::Function::New(env, nesterov_update, "nesterovUpdate"));
  exports.Set("adagradUpdate", Napi::Function::New(env, adagrad_update, "adagradUpdate"));
  exports.Set("rmspropUpdate", Napi::Function::New(env, rmsprop_update, "rmspropUpdate"));
  exports.Set("adamUpdate", Napi::Function::New(env, adam_update, "adamUpdate"));
}

}  // namespace normnet::binding

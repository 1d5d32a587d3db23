// The loss family: softmaxCrossEntropyForward (returns the mean loss), softmaxCrossEntropyBackward
// (src/kernels/kernels.ts documents each). Arguments are checked exactly as the TS CHECKS, in the same order
// and words, then the kernel runs. Every label is range-checked before a kernel indexes a row with it.
#include "binding/args.h"
#include "binding/register.h"
#include "kernels/loss.h"

#include <string>

namespace normnet::binding {

namespace {

// labels (N) in [0, C) (labelsInRange in kernels.ts).
void labels_in_range(const ArgReader& r, const ArrayArg<int32_t>& labels, int64_t C) {
  for (size_t n = 0; n < labels.length; ++n) {
    if (!(labels.data[n] >= 0 && labels.data[n] < C)) {
      throw_range(r.env(), r.kernel() + ": labels[" + std::to_string(n) + "] = " + std::to_string(labels.data[n]) +
                               " is not a class index in [0, " + std::to_string(C) + ")");
    }
  }
}

Napi::Value softmax_cross_entropy_forward(const Napi::CallbackInfo& info) {
  ArgReader r(info, "softmaxCrossEntropyForward", "probs, logits, labels, N, C");
  const int64_t N = r.integer(3), C = r.integer(4, 1);
  const auto probs = r.floats(0, N * C, "N*C");
  const auto logits = r.floats(1, N * C, "N*C");
  const auto labels = r.int32s(2, N, "N");
  labels_in_range(r, labels, C);
  r.no_overlap({"probs"});
  const double loss = normnet::softmax_cross_entropy_forward(probs.data, logits.data, labels.data, N, C);
  return Napi::Number::New(info.Env(), loss);
}

Napi::Value softmax_cross_entropy_backward(const Napi::CallbackInfo& info) {
  ArgReader r(info, "softmaxCrossEntropyBackward", "dlogits, probs, labels, N, C, scale");
  const int64_t N = r.integer(3), C = r.integer(4, 1);
  const double scale = r.number(5);
  const auto dlogits = r.floats(0, N * C, "N*C");
  const auto probs = r.floats(1, N * C, "N*C");
  const auto labels = r.int32s(2, N, "N");
  labels_in_range(r, labels, C);
  r.no_overlap({"dlogits"});
  normnet::softmax_cross_entropy_backward(dlogits.data, probs.data, labels.data, N, C, scale);
  return info.Env().Undefined();
}

}  // namespace

void register_loss(Napi::Env env, Napi::Object exports) {
  exports.Set("softmaxCrossEntropyForward",
              Napi::Function::New(env, softmax_cross_entropy_forward, "softmaxCrossEntropyForward"));
  exports.Set("softmaxCrossEntropyBackward",
              Napi::Function::New(env, softmax_cross_entropy_backward, "softmaxCrossEntropyBackward"));
}

}  // namespace normnet::binding

// The optimizers' loops (optim_loops.h) compiled for AVX-512: GCC vectorizes them 16 floats at a time (SSE2's 4 at
// the baseline); over the MLP's 121k parameters SGD 1.1-1.5x, Adam 2.9-3.2x. The results must stay the TS kernels'
// bit for bit, so GCC may not contract a * b + c into an FMA here, as it would under -mfma: contraction is off for
// this file (test/optim.test.ts holds every path to TS's bits; without the pragma GCC fused 306 of them).
// optim.cc dispatches to these entry points; the loops themselves are in an anonymous namespace.
#pragma GCC optimize("fp-contract=off")

#include "kernels/optim.h"
#include "kernels/optim_loops.h"

namespace normnet::optim_detail {

void sgd_avx512(float* param, const float* grad, int64_t begin, int64_t end, float neg_lr, float wd, bool decay) {
  sgd_ranges(param, grad, begin, end, neg_lr, wd, decay);
}

void momentum_avx512(float* param, float* velocity, const float* grad, int64_t begin, int64_t end, float neg_lr, float m,
                     float keep, float wd, bool decay, bool first, bool nesterov) {
  if (nesterov) {
    momentum_ranges<true>(param, velocity, grad, begin, end, neg_lr, m, keep, wd, decay, first);
  } else {
    momentum_ranges<false>(param, velocity, grad, begin, end, neg_lr, m, keep, wd, decay, first);
  }
}

void adagrad_avx512(float* param, float* sum, const float* grad, int64_t begin, int64_t end, float neg_clr, float eps,
                    float wd, bool decay) {
  adagrad_ranges(param, sum, grad, begin, end, neg_clr, eps, wd, decay);
}

void rmsprop_avx512(float* param, float* square_avg, const float* grad, int64_t begin, int64_t end, float neg_lr,
                    float alpha, float rest, float eps, float wd, bool decay) {
  rmsprop_ranges(param, square_avg, grad, begin, end, neg_lr, alpha, rest, eps, wd, decay);
}

void adam_avx512(float* param, float* exp_avg, float* exp_avg_sq, const float* grad, int64_t begin, int64_t end,
                 float neg_step_size, float b1, float rest1, float b2, float rest2, float correction2, float eps, float wd,
                 bool decay) {
  adam_ranges(param, exp_avg, exp_avg_sq, grad, begin, end, neg_step_size, b1, rest1, b2, rest2, correction2, eps, wd,
              decay);
}

}  // namespace normnet::optim_detail

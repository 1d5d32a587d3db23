// Optimizer updates, native twin of src/kernels/ts/optim.ts (formulas and torch's arithmetic order there).
//
// Every value is float32 and every operation rounds to float32, in the TS spec's order; the hyper-parameters are
// rounded to float once, the per-step scalars (bias corrections, Adagrad's clr) are formed in double first, as
// Python does in torch.optim. The loops are optim_loops.h's: compiled here for the baseline (no -mfma, so GCC cannot
// contract a * b + c into an FMA) and in optim_avx512.cc for AVX-512 CPUs (contraction off there), so the results
// are the TS kernels' bit for bit on every path. They stream memory, so they are split over the pool only when a
// tensor is large.
#include "kernels/optim.h"

#include <cmath>

#include "kernels/optim_loops.h"
#include "runtime/cpu.h"
#include "runtime/thread_pool.h"

namespace normnet {

namespace {

constexpr int64_t kParallelMinLength = 1 << 17;  // below this a pool dispatch costs more than it saves
constexpr int64_t kGrain = 1 << 15;              // values per task once split: 30 to 60 us of streaming each

// Runs range(begin, end) over [0, n): inline for small n, else in balanced ranges on the pool. Every value is
// updated independently, so the split does not change the results.
template <class Range>
void for_ranges(int64_t n, const Range& range) {
  if (n < kParallelMinLength) {
    if (n > 0) range(int64_t{0}, n);
    return;
  }
  parallel_ranges(n, kGrain, range);
}

// Whether the AVX-512 copies of the loops run (optim_avx512.cc): 16 floats a vector against SSE2's 4; over the
// MLP's 121k parameters SGD 1.1-1.5x (called from JS; 2.4x in a C loop) and Adam 2.9-3.2x, same bits.
bool avx512() {
#if defined(__x86_64__)
  return active_isa() == Isa::avx512;
#else
  return false;
#endif
}

}  // namespace

void sgd_update(float* param, const float* grad, int64_t length, double lr, double weight_decay) {
  const float neg_lr = static_cast<float>(-lr), wd = static_cast<float>(weight_decay);
  const bool decay = weight_decay != 0, wide = avx512();
  for_ranges(length, [=](int64_t begin, int64_t end) {
    if (wide) {  // never on other architectures
#if defined(__x86_64__)
      return optim_detail::sgd_avx512(param, grad, begin, end, neg_lr, wd, decay);
#endif
    }
    optim_detail::sgd_ranges(param, grad, begin, end, neg_lr, wd, decay);
  });
}

namespace {

template <bool kNesterov>
void momentum_dispatch(float* param, float* velocity, const float* grad, int64_t length, double lr, double momentum,
                       double dampening, double weight_decay, int64_t step) {
  const float neg_lr = static_cast<float>(-lr), m = static_cast<float>(momentum);
  const float keep = static_cast<float>(1 - dampening), wd = static_cast<float>(weight_decay);
  const bool decay = weight_decay != 0, first = step == 1, wide = avx512();
  for_ranges(length, [=](int64_t begin, int64_t end) {
    if (wide) {  // never on other architectures
#if defined(__x86_64__)
      return optim_detail::momentum_avx512(param, velocity, grad, begin, end, neg_lr, m, keep, wd, decay, first,
                                           kNesterov);
#endif
    }
    optim_detail::momentum_ranges<kNesterov>(param, velocity, grad, begin, end, neg_lr, m, keep, wd, decay, first);
  });
}

}  // namespace

void momentum_update(float* param, float* velocity, const float* grad, int64_t length, double lr, double momentum,
                     double dampening, double weight_decay, int64_t step) {
  momentum_dispatch<false>(param, velocity, grad, length, lr, momentum, dampening, weight_decay, step);
}

void nesterov_update(float* param, float* velocity, const float* grad, int64_t length, double lr, double momentum,
                     double weight_decay, int64_t step) {
  momentum_dispatch<true>(param, velocity, grad, length, lr, momentum, 0, weight_decay, step);
}

void adagrad_update(float* param, float* sum, const float* grad, int64_t length, double lr, double lr_decay, double eps,
                    double weight_decay, int64_t step) {
  const float neg_clr = static_cast<float>(-(lr / (1 + static_cast<double>(step - 1) * lr_decay)));
  const float e = static_cast<float>(eps), wd = static_cast<float>(weight_decay);
  const bool decay = weight_decay != 0, wide = avx512();
  for_ranges(length, [=](int64_t begin, int64_t end) {
    if (wide) {  // never on other architectures
#if defined(__x86_64__)
      return optim_detail::adagrad_avx512(param, sum, grad, begin, end, neg_clr, e, wd, decay);
#endif
    }
    optim_detail::adagrad_ranges(param, sum, grad, begin, end, neg_clr, e, wd, decay);
  });
}

void rmsprop_update(float* param, float* square_avg, const float* grad, int64_t length, double lr, double alpha,
                    double eps, double weight_decay) {
  const float neg_lr = static_cast<float>(-lr), a = static_cast<float>(alpha), rest = static_cast<float>(1 - alpha);
  const float e = static_cast<float>(eps), wd = static_cast<float>(weight_decay);
  const bool decay = weight_decay != 0, wide = avx512();
  for_ranges(length, [=](int64_t begin, int64_t end) {
    if (wide) {  // never on other architectures
#if defined(__x86_64__)
      return optim_detail::rmsprop_avx512(param, square_avg, grad, begin, end, neg_lr, a, rest, e, wd, decay);
#endif
    }
    optim_detail::rmsprop_ranges(param, square_avg, grad, begin, end, neg_lr, a, rest, e, wd, decay);
  });
}

void adam_update(float* param, float* exp_avg, float* exp_avg_sq, const float* grad, int64_t length, double lr,
                 double beta1, double beta2, double eps, double weight_decay, int64_t step) {
  const double s = static_cast<double>(step);
  const float neg_step_size = static_cast<float>(-(lr / (1 - std::pow(beta1, s))));
  const float correction2 = static_cast<float>(std::sqrt(1 - std::pow(beta2, s)));
  const float b1 = static_cast<float>(beta1), rest1 = static_cast<float>(1 - beta1);
  const float b2 = static_cast<float>(beta2), rest2 = static_cast<float>(1 - beta2);
  const float e = static_cast<float>(eps), wd = static_cast<float>(weight_decay);
  const bool decay = weight_decay != 0, wide = avx512();
  for_ranges(length, [=](int64_t begin, int64_t end) {
    if (wide) {  // never on other architectures
#if defined(__x86_64__)
      return optim_detail::adam_avx512(param, exp_avg, exp_avg_sq, grad, begin, end, neg_step_size, b1, rest1, b2, rest2,
                                       correction2, e, wd, decay);
#endif
    }
    optim_detail::adam_ranges(param, exp_avg, exp_avg_sq, grad, begin, end, neg_step_size, b1, rest1, b2, rest2,
                              correction2, e, wd, decay);
  });
}

}  // namespace normnet

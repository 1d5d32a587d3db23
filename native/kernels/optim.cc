// Optimizer updates, native twin of src/kernels/ts/optim.ts (formulas and torch's arithmetic order there).
//
// Every value is float32 and every operation rounds to float32, in the TS spec's order; the hyper-parameters are
// rounded to float once, the per-step scalars (bias corrections, Adagrad's clr) are formed in double first, as
// Python does in torch.optim. This file gets the baseline flags only (no -mfma; CMakeLists.txt gives FMA to
// *_avx2.cc files alone), so GCC cannot contract a * b + c into an FMA: the results are the TS kernels' bit for bit.
// The loops are branch-free (weight decay and the first momentum step are template parameters) and take their
// pointers __restrict and their scalars by value, so GCC vectorizes them, sqrt and division included
// (-fno-math-errno). They stream memory, so they are split over the pool only when a tensor is large.
#include "kernels/optim.h"

#include <algorithm>
#include <cmath>

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

// g = grad + wd * param: torch's grad.add(param, alpha=weight_decay), only when weight decay is on.
template <bool kDecay>
inline float decayed(float grad, float param, float wd) {
  return kDecay ? grad + wd * param : grad;
}

template <bool kDecay>
void sgd_range(float* __restrict param, const float* __restrict grad, int64_t begin, int64_t end, float neg_lr,
               float wd) {
  for (int64_t i = begin; i < end; ++i) {
    const float p = param[i];
    const float g = decayed<kDecay>(grad[i], p, wd);
    param[i] = p + neg_lr * g;
  }
}

// Momentum and Nesterov: at the first step torch's buffer is a copy of g, so the old velocity is not read.
template <bool kDecay, bool kFirst, bool kNesterov>
void momentum_range(float* __restrict param, float* __restrict velocity, const float* __restrict grad, int64_t begin,
                    int64_t end, float neg_lr, float m, float keep, float wd) {
  for (int64_t i = begin; i < end; ++i) {
    const float p = param[i];
    const float g = decayed<kDecay>(grad[i], p, wd);
    // Nesterov has dampening 0: torch's 1 * g is exact, so it is left out.
    const float v = kFirst ? g : (kNesterov ? velocity[i] * m + g : velocity[i] * m + keep * g);
    velocity[i] = v;
    param[i] = kNesterov ? p + neg_lr * (g + m * v) : p + neg_lr * v;
  }
}

template <bool kDecay>
void adagrad_range(float* __restrict param, float* __restrict sum, const float* __restrict grad, int64_t begin,
                   int64_t end, float neg_clr, float eps, float wd) {
  for (int64_t i = begin; i < end; ++i) {
    const float p = param[i];
    const float g = decayed<kDecay>(grad[i], p, wd);
    const float s = sum[i] + g * g;
    sum[i] = s;
    const float std_ = std::sqrt(s) + eps;
    param[i] = p + neg_clr * g / std_;
  }
}

template <bool kDecay>
void rmsprop_range(float* __restrict param, float* __restrict square_avg, const float* __restrict grad, int64_t begin,
                   int64_t end, float neg_lr, float alpha, float rest, float eps, float wd) {
  for (int64_t i = begin; i < end; ++i) {
    const float p = param[i];
    const float g = decayed<kDecay>(grad[i], p, wd);
    const float sq = square_avg[i] * alpha + rest * g * g;
    square_avg[i] = sq;
    const float avg = std::sqrt(sq) + eps;
    param[i] = p + neg_lr * g / avg;
  }
}

template <bool kDecay>
void adam_range(float* __restrict param, float* __restrict exp_avg, float* __restrict exp_avg_sq,
                const float* __restrict grad, int64_t begin, int64_t end, float neg_step_size, float b1, float rest1,
                float b2, float rest2, float correction2, float eps, float wd) {
  for (int64_t i = begin; i < end; ++i) {
    const float p = param[i];
    const float g = decayed<kDecay>(grad[i], p, wd);
    const float m = exp_avg[i] * b1 + rest1 * g;
    const float v = exp_avg_sq[i] * b2 + rest2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    const float denom = std::sqrt(v) / correction2 + eps;
    param[i] = p + neg_step_size * m / denom;
  }
}

}  // namespace

void sgd_update(float* param, const float* grad, int64_t length, double lr, double weight_decay) {
  const float neg_lr = static_cast<float>(-lr), wd = static_cast<float>(weight_decay);
  const bool decay = weight_decay != 0;
  for_ranges(length, [=](int64_t begin, int64_t end) {
    if (decay) {
      sgd_range<true>(param, grad, begin, end, neg_lr, wd);
    } else {
      sgd_range<false>(param, grad, begin, end, neg_lr, wd);
    }
  });
}

namespace {

template <bool kNesterov>
void momentum_dispatch(float* param, float* velocity, const float* grad, int64_t length, double lr, double momentum,
                       double dampening, double weight_decay, int64_t step) {
  const float neg_lr = static_cast<float>(-lr), m = static_cast<float>(momentum);
  const float keep = static_cast<float>(1 - dampening), wd = static_cast<float>(weight_decay);
  const int variant = (weight_decay != 0 ? 2 : 0) + (step == 1 ? 1 : 0);
  for_ranges(length, [=](int64_t begin, int64_t end) {
    switch (variant) {
      case 0: momentum_range<false, false, kNesterov>(param, velocity, grad, begin, end, neg_lr, m, keep, wd); break;
      case 1: momentum_range<false, true, kNesterov>(param, velocity, grad, begin, end, neg_lr, m, keep, wd); break;
      case 2: momentum_range<true, false, kNesterov>(param, velocity, grad, begin, end, neg_lr, m, keep, wd); break;
      default: momentum_range<true, true, kNesterov>(param, velocity, grad, begin, end, neg_lr, m, keep, wd); break;
    }
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
  const bool decay = weight_decay != 0;
  for_ranges(length, [=](int64_t begin, int64_t end) {
    if (decay) {
      adagrad_range<true>(param, sum, grad, begin, end, neg_clr, e, wd);
    } else {
      adagrad_range<false>(param, sum, grad, begin, end, neg_clr, e, wd);
    }
  });
}

void rmsprop_update(float* param, float* square_avg, const float* grad, int64_t length, double lr, double alpha,
                    double eps, double weight_decay) {
  const float neg_lr = static_cast<float>(-lr), a = static_cast<float>(alpha), rest = static_cast<float>(1 - alpha);
  const float e = static_cast<float>(eps), wd = static_cast<float>(weight_decay);
  const bool decay = weight_decay != 0;
  for_ranges(length, [=](int64_t begin, int64_t end) {
    if (decay) {
      rmsprop_range<true>(param, square_avg, grad, begin, end, neg_lr, a, rest, e, wd);
    } else {
      rmsprop_range<false>(param, square_avg, grad, begin, end, neg_lr, a, rest, e, wd);
    }
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
  const bool decay = weight_decay != 0;
  for_ranges(length, [=](int64_t begin, int64_t end) {
    if (decay) {
      adam_range<true>(param, exp_avg, exp_avg_sq, grad, begin, end, neg_step_size, b1, rest1, b2, rest2, correction2, e, wd);
    } else {
      adam_range<false>(param, exp_avg, exp_avg_sq, grad, begin, end, neg_step_size, b1, rest1, b2, rest2, correction2, e,
                        wd);
    }
  });
}

}  // namespace normnet

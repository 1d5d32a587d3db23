// The optimizers' loops over [begin, end), written once: optim.cc compiles them for the x86-64 baseline (SSE2) and
// the portable path, optim_avx512.cc for AVX-512 (16 floats a vector). Only those two files include this header,
// and everything in it is in an anonymous namespace, so each file has its own copies and no symbol of an AVX-512
// copy is visible to the linker (test/native-build.test.ts).
//
// Every value is float32 and every operation rounds to float32, in the TS spec's order (src/kernels/ts/optim.ts):
// no a * b + c may become an FMA. The baseline has no FMA; optim_avx512.cc turns contraction off for them. The loops
// are branch-free (weight decay and the first momentum step are template parameters) and take their pointers
// __restrict and their scalars by value, so GCC vectorizes them, sqrt and division included (-fno-math-errno).
#pragma once

#include <cmath>
#include <cstdint>

namespace normnet::optim_detail {

namespace {

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

// The variants chosen at run time: weight decay on or off, the first momentum step.

inline void sgd_ranges(float* param, const float* grad, int64_t begin, int64_t end, float neg_lr, float wd, bool decay) {
  if (decay) {
    sgd_range<true>(param, grad, begin, end, neg_lr, wd);
  } else {
    sgd_range<false>(param, grad, begin, end, neg_lr, wd);
  }
}

template <bool kNesterov>
inline void momentum_ranges(float* param, float* velocity, const float* grad, int64_t begin, int64_t end, float neg_lr,
                            float m, float keep, float wd, bool decay, bool first) {
  switch ((decay ? 2 : 0) + (first ? 1 : 0)) {
    case 0: momentum_range<false, false, kNesterov>(param, velocity, grad, begin, end, neg_lr, m, keep, wd); break;
    case 1: momentum_range<false, true, kNesterov>(param, velocity, grad, begin, end, neg_lr, m, keep, wd); break;
    case 2: momentum_range<true, false, kNesterov>(param, velocity, grad, begin, end, neg_lr, m, keep, wd); break;
    default: momentum_range<true, true, kNesterov>(param, velocity, grad, begin, end, neg_lr, m, keep, wd); break;
  }
}

inline void adagrad_ranges(float* param, float* sum, const float* grad, int64_t begin, int64_t end, float neg_clr,
                           float eps, float wd, bool decay) {
  if (decay) {
    adagrad_range<true>(param, sum, grad, begin, end, neg_clr, eps, wd);
  } else {
    adagrad_range<false>(param, sum, grad, begin, end, neg_clr, eps, wd);
  }
}

inline void rmsprop_ranges(float* param, float* square_avg, const float* grad, int64_t begin, int64_t end, float neg_lr,
                           float alpha, float rest, float eps, float wd, bool decay) {
  if (decay) {
    rmsprop_range<true>(param, square_avg, grad, begin, end, neg_lr, alpha, rest, eps, wd);
  } else {
    rmsprop_range<false>(param, square_avg, grad, begin, end, neg_lr, alpha, rest, eps, wd);
  }
}

inline void adam_ranges(float* param, float* exp_avg, float* exp_avg_sq, const float* grad, int64_t begin, int64_t end,
                        float neg_step_size, float b1, float rest1, float b2, float rest2, float correction2, float eps,
                        float wd, bool decay) {
  if (decay) {
    adam_range<true>(param, exp_avg, exp_avg_sq, grad, begin, end, neg_step_size, b1, rest1, b2, rest2, correction2, eps,
                     wd);
  } else {
    adam_range<false>(param, exp_avg, exp_avg_sq, grad, begin, end, neg_step_size, b1, rest1, b2, rest2, correction2, eps,
                      wd);
  }
}

}  // namespace

}  // namespace normnet::optim_detail

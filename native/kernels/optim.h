// Optimizer updates, fused and in place over `length` float32 values: torch.optim's rules (PyTorch 1.13), one
// call per parameter tensor per step. The formulas, torch's conventions and the float32 arithmetic order are in
// the TS twin, src/kernels/ts/optim.ts; these are the same algorithms, equal to it bit for bit. param and the
// state buffers are written, grad is read; none may overlap (checked by the binding). step counts from 1.
#pragma once

#include <cstdint>

namespace normnet {

// g = grad + weight_decay * param (when weight_decay != 0); param -= lr * g.
void sgd_update(float* param, const float* grad, int64_t length, double lr, double weight_decay);
// velocity = step == 1 ? g : momentum * velocity + (1 - dampening) * g; param -= lr * velocity.
void momentum_update(float* param, float* velocity, const float* grad, int64_t length, double lr, double momentum,
                     double dampening, double weight_decay, int64_t step);
// velocity = step == 1 ? g : momentum * velocity + g; param -= lr * (g + momentum * velocity).
void nesterov_update(float* param, float* velocity, const float* grad, int64_t length, double lr, double momentum,
                     double weight_decay, int64_t step);
// sum += g * g; param -= lr / (1 + (step - 1) * lr_decay) * g / (sqrt(sum) + eps).
void adagrad_update(float* param, float* sum, const float* grad, int64_t length, double lr, double lr_decay, double eps,
                    double weight_decay, int64_t step);
// square_avg = alpha * square_avg + (1 - alpha) * g * g; param -= lr * g / (sqrt(square_avg) + eps).
void rmsprop_update(float* param, float* square_avg, const float* grad, int64_t length, double lr, double alpha,
                    double eps, double weight_decay);
// exp_avg = beta1 * exp_avg + (1 - beta1) * g; exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g;
// param -= lr / (1 - beta1^step) * exp_avg / (sqrt(exp_avg_sq) / sqrt(1 - beta2^step) + eps).
void adam_update(float* param, float* exp_avg, float* exp_avg_sq, const float* grad, int64_t length, double lr,
                 double beta1, double beta2, double eps, double weight_decay, int64_t step);

// The AVX-512 copies of optim_loops.h's loops over [begin, end) (optim_avx512.cc); the functions above dispatch to
// them.
namespace optim_detail {

#if defined(__x86_64__)
void sgd_avx512(float* param, const float* grad, int64_t begin, int64_t end, float neg_lr, float wd, bool decay);
void momentum_avx512(float* param, float* velocity, const float* grad, int64_t begin, int64_t end, float neg_lr, float m,
                     float keep, float wd, bool decay, bool first, bool nesterov);
void adagrad_avx512(float* param, float* sum, const float* grad, int64_t begin, int64_t end, float neg_clr, float eps,
                    float wd, bool decay);
void rmsprop_avx512(float* param, float* square_avg, const float* grad, int64_t begin, int64_t end, float neg_lr,
                    float alpha, float rest, float eps, float wd, bool decay);
void adam_avx512(float* param, float* exp_avg, float* exp_avg_sq, const float* grad, int64_t begin, int64_t end,
                 float neg_step_size, float b1, float rest1, float b2, float rest2, float correction2, float eps, float wd,
                 bool decay);
#endif

}  // namespace optim_detail

}  // namespace normnet

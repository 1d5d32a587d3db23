// Batch Normalization's vector paths, written once over a vector-ops struct that batchnorm_avx2.cc (AVX2 + FMA,
// 8 floats / 4 doubles a vector), batchnorm_avx512.cc (AVX-512, 16 / 8) and batchnorm_neon.cc (NEON, 4 / 2) define
// and instantiate. Only those files include it: everything here is in an anonymous namespace, so each
// instantiation is local to its file and the linker cannot pick an AVX-512 copy of a function for code that runs
// on an AVX2 CPU (test/native-build.test.ts).
//
// The algorithm of batchnorm.cc (sums in double), vectorized two ways:
//   S == 1 (BatchNorm1d, x is N rows of C): channels are contiguous, so the sums run down the rows with one
//          double lane per channel, 4 double vectors of channels (16 on AVX2, 32 on AVX-512, 8 on NEON) a block,
//          and each block of channels is finished (normalized, or its dx written) while its rows are still in L1.
//          A strided walk per channel would touch every row once per channel. The last block's partial vector is
//          loaded and stored masked (on NEON through a copy on the stack). Each channel's sums are the same
//          sequence of adds on every ISA, so they give the same bits here.
//   S > 1  (BatchNorm2d): each (n, c) plane is a contiguous run of S values, summed a vector of doubles at a
//          time by the run_* loops, which batchnorm.cc's passes call plane by plane (PlaneOps) in memory order.
//          AVX-512 CPUs keep the AVX2 loops here: on the CNN's planes (10 x 10, 24 x 24) the wider vectors
//          measured 0.7-1.1x, their per-plane reductions and tails costing what the wider steps save.
// Float results differ from the generic path only in rounding (FMA, summation order). The loops' FMAs are written
// out (O::fmadd, std::fma): AArch64 builds with -ffp-contract=off, so there those are the only ones.
//
// The Ops struct (see batchnorm_avx2.cc): F, a vector of kF floats; H, the kD floats that widen to D, a vector of
// kD doubles (kF = 2 * kD); loads and stores, masked ones taking the number of leading lanes; the arithmetic.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/batchnorm.h"

namespace normnet::batchnorm_detail {

namespace {

// The normalized output before a fused ReLU, x * scale + shift, is one FMA in the vector and the scalar code
// alike, so that backward can recompute it with the forward's bits.
inline float affine1(float x, float scale, float shift) { return std::fma(x, scale, shift); }

// The fused ReLU (batchnorm.h): forward keeps reluForward's rule (v < 0 ? 0 : v, NaN propagates); backward takes
// dy where the forward's output was positive, recomputed from x (which backward reads anyway; reading the
// output as well would add a stream to a pass that memory bandwidth bounds), or dy itself without a fused ReLU.
inline float relu1(float v) { return v < 0.0f ? 0.0f : v; }
inline float grad1(const float* dy, const float* x, int64_t i, bool relu, float scale, float shift) {
  return !relu || affine1(x[i], scale, shift) > 0.0f ? dy[i] : 0.0f;
}

template <class O>
inline typename O::F grad_f(typename O::F g, typename O::F x, bool relu, typename O::F scale, typename O::F shift) {
  return relu ? O::where_positive(g, O::fmadd(x, scale, shift)) : g;
}
template <class O>
inline typename O::D widen_grad(typename O::H g, typename O::H x, bool relu, typename O::H scale, typename O::H shift) {
  return O::widen(relu ? O::where_positive(g, O::fmadd(x, scale, shift)) : g);
}

// The per-channel statistics once the sums are known: saved mean and 1/std, running statistics.
inline void finish_stats(int64_t c, double mean, double variance, double count, double momentum, double eps,
                         float* save_mean, float* save_inv_std, float* running_mean, float* running_var) {
  save_mean[c] = static_cast<float>(mean);
  save_inv_std[c] = static_cast<float>(1 / std::sqrt(variance + eps));
  running_mean[c] = static_cast<float>((1 - momentum) * running_mean[c] + momentum * mean);
  running_var[c] = static_cast<float>((1 - momentum) * running_var[c] + momentum * variance * (count / (count - 1)));
}

// scale = gamma * inv_std and shift = beta - mean * scale, as the generic path forms them (in double, then float).
inline void scale_shift(float gamma, float beta, float mean, float inv_std, float& fscale, float& shift) {
  const double scale = static_cast<double>(gamma) * inv_std;
  fscale = static_cast<float>(scale);
  shift = static_cast<float>(beta - mean * scale);
}

// The backward per-channel constants from the sums; also adds into dgamma and dbeta.
struct DxConstants {
  float k, mean_dy, mean_dy_xhat;
};
inline DxConstants finish_gradients(int64_t c, double sum_dy, double sum_dy_xc, double count, const float* save_inv_std,
                                    const float* gamma, float* dgamma, float* dbeta) {
  const double inv_std = save_inv_std[c];
  const double sum_dy_xhat = sum_dy_xc * inv_std;
  dbeta[c] += static_cast<float>(sum_dy);
  dgamma[c] += static_cast<float>(sum_dy_xhat);
  return {static_cast<float>(gamma[c] * inv_std), static_cast<float>(sum_dy / count),
          static_cast<float>(sum_dy_xhat / count)};
}

template <class O>
struct Batchnorm {
  using F = typename O::F;
  using H = typename O::H;
  using D = typename O::D;
  static constexpr int kF = O::kF, kD = O::kD;
  static constexpr int kBlock = 4 * kD;  // channels per block on the S == 1 path: 4 double vectors per sum

  // Lanes [0, n) of a channel vector at p, n = kD for a whole one.
  template <bool kMasked>
  static H load_h(const float* p, int n) {
    return kMasked ? O::load_h(p, n) : O::load_h(p);
  }

  // y = x * scale + shift over the channels [c, c + w) of N rows (w <= kBlock), from per-channel scale and shift;
  // ReLU'd when relu.
  static void affine_rows(float* y, const float* x, const float* scale, const float* shift, int64_t N, int64_t C,
                          int64_t c, int w, bool relu) {
    constexpr int kMax = kBlock / kF;
    const int full = w / kF, rest = w % kF;
    F sc[kMax + 1], sh[kMax + 1];
    for (int v = 0; v < full; ++v) sc[v] = O::load_f(scale + kF * v), sh[v] = O::load_f(shift + kF * v);
    if (rest) sc[full] = O::load_f(scale + kF * full, rest), sh[full] = O::load_f(shift + kF * full, rest);
    for (int64_t n = 0; n < N; ++n) {
      const float* xr = x + n * C + c;
      float* yr = y + n * C + c;
      for (int v = 0; v < full; ++v) {
        const F t = O::fmadd(O::load_f(xr + kF * v), sc[v], sh[v]);
        O::store_f(yr + kF * v, relu ? O::relu(t) : t);
      }
      if (rest) {
        const F t = O::fmadd(O::load_f(xr + kF * full, rest), sc[full], sh[full]);
        O::store_f(yr + kF * full, relu ? O::relu(t) : t, rest);
      }
    }
  }

  // Forward-train statistics of channels [c, c + kD*V) of N rows, S == 1; the last vector holds `tail` channels
  // when kMasked.
  template <int V, bool kMasked>
  static void row_moments(const float* x, int64_t N, int64_t C, int64_t c, int tail, double* mean, double* variance) {
    const double count = static_cast<double>(N);
    auto in = [&](int64_t n, int v) {
      const float* p = x + n * C + c + kD * v;
      return O::widen(v == V - 1 ? load_h<kMasked>(p, tail) : O::load_h(p));
    };
    D sum[V], sq[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) sum[v] = sq[v] = O::zero_d();
    for (int64_t n = 0; n < N; ++n) {
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) sum[v] = O::add(sum[v], in(n, v));
    }
    D m[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) m[v] = O::div(sum[v], O::set1_d(count));
    for (int64_t n = 0; n < N; ++n) {
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) {
        const D d = O::sub(in(n, v), m[v]);
        sq[v] = O::fmadd(d, d, sq[v]);
      }
    }
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      O::store_d(mean + kD * v, m[v]);
      O::store_d(variance + kD * v, O::div(sq[v], O::set1_d(count)));
    }
  }

  // Backward sums of channels [c, c + kD*V) of N rows, S == 1: sum(g), sum(g * (x - mean)), g = grad(dy); scale
  // and shift are the channels' (for a fused ReLU); the last vector holds `tail` channels when kMasked.
  template <int V, bool kMasked>
  static void row_gradient_sums(const float* dy, const float* x, const float* save_mean, bool relu, const float* scale,
                                const float* shift, int64_t N, int64_t C, int64_t c, int tail, double* sum_dy,
                                double* sum_dy_xc) {
    D a[V], b[V], m[V];
    H sc[V], sh[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      const int n = v == V - 1 && kMasked ? tail : kD;
      a[v] = b[v] = O::zero_d();
      m[v] = O::widen(O::load_h(save_mean + c + kD * v, n));
      sc[v] = O::load_h(scale + kD * v, n), sh[v] = O::load_h(shift + kD * v, n);
    }
    for (int64_t n = 0; n < N; ++n) {
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) {
        const int64_t at = n * C + c + kD * v;
        const bool masked = kMasked && v == V - 1;
        const H xv = masked ? O::load_h(x + at, tail) : O::load_h(x + at);
        const H gv = masked ? O::load_h(dy + at, tail) : O::load_h(dy + at);
        const D g = widen_grad<O>(gv, xv, relu, sc[v], sh[v]);
        a[v] = O::add(a[v], g);
        b[v] = O::fmadd(g, O::sub(O::widen(xv), m[v]), b[v]);
      }
    }
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      O::store_d(sum_dy + kD * v, a[v]);
      O::store_d(sum_dy_xc + kD * v, b[v]);
    }
  }

  // Runs sums(V, masked, c, tail, p, q) and finish(c, w, p, q) over channels [c0, c1) in blocks of kBlock, the
  // last one of V = ceil(w / kD) vectors, its last vector masked to `tail` channels when w is not a multiple of kD;
  // sums fills per-channel double results for its channels.
  template <class Sums, class Finish>
  static void by_blocks(int64_t c0, int64_t c1, Sums&& sums, Finish&& finish) {
    double p[kBlock], q[kBlock];
    int64_t c = c0;
    for (; c + kBlock <= c1; c += kBlock) {
      sums(std::integral_constant<int, 4>{}, std::false_type{}, c, kD, p, q);
      finish(c, kBlock, p, q);
    }
    if (c == c1) return;
    const int w = static_cast<int>(c1 - c), tail = w % kD;
    switch ((w + kD - 1) / kD * 2 + (tail != 0)) {
      case 2: sums(std::integral_constant<int, 1>{}, std::false_type{}, c, kD, p, q); break;
      case 3: sums(std::integral_constant<int, 1>{}, std::true_type{}, c, tail, p, q); break;
      case 4: sums(std::integral_constant<int, 2>{}, std::false_type{}, c, kD, p, q); break;
      case 5: sums(std::integral_constant<int, 2>{}, std::true_type{}, c, tail, p, q); break;
      case 6: sums(std::integral_constant<int, 3>{}, std::false_type{}, c, kD, p, q); break;
      case 7: sums(std::integral_constant<int, 3>{}, std::true_type{}, c, tail, p, q); break;
      default: sums(std::integral_constant<int, 4>{}, std::true_type{}, c, tail, p, q); break;  // 9 (8 is a full block)
    }
    finish(c, w, p, q);
  }

  // Over one contiguous run of S values (S > 1 path). Four accumulators of each sum, each a vector of kD doubles:
  // with one or two the adds' latency bounded these loops (forward 1.06-1.14x, backward 1.02-1.14x slower on the
  // CNN's planes, Zen 5).
  static constexpr int kChains = 4;

  static D sum4(const D* a) { return O::add(O::add(a[0], a[1]), O::add(a[2], a[3])); }

  static double run_sum(const float* x, int64_t S) {
    D a[kChains] = {O::zero_d(), O::zero_d(), O::zero_d(), O::zero_d()};
    int64_t s = 0;
    for (; s + kChains * kD <= S; s += kChains * kD) {
#pragma GCC unroll 4
      for (int k = 0; k < kChains; ++k) a[k] = O::add(a[k], O::widen(O::load_h(x + s + k * kD)));
    }
    for (; s + kD <= S; s += kD) a[0] = O::add(a[0], O::widen(O::load_h(x + s)));
    double t = O::hsum(sum4(a));
    for (; s < S; ++s) t += x[s];
    return t;
  }

  static double run_squares(const float* x, int64_t S, double mean) {
    const D m = O::set1_d(mean);
    D a[kChains] = {O::zero_d(), O::zero_d(), O::zero_d(), O::zero_d()};
    const auto step = [&](int k, int64_t at) {
      const D d = O::sub(O::widen(O::load_h(x + at)), m);
      a[k] = O::fmadd(d, d, a[k]);
    };
    int64_t s = 0;
    for (; s + kChains * kD <= S; s += kChains * kD) {
#pragma GCC unroll 4
      for (int k = 0; k < kChains; ++k) step(k, s + k * kD);
    }
    for (; s + kD <= S; s += kD) step(0, s);
    double t = O::hsum(sum4(a));
    for (; s < S; ++s) t = std::fma(x[s] - mean, x[s] - mean, t);
    return t;
  }

  static void run_gradient_sums(const float* dy, const float* x, int64_t S, double mean, bool relu, float scale,
                                float shift, double& sum_dy, double& sum_dy_xc) {
    const D m = O::set1_d(mean);
    const H sc = O::set1_h(scale), sh = O::set1_h(shift);
    D a[kChains] = {O::zero_d(), O::zero_d(), O::zero_d(), O::zero_d()};
    D b[kChains] = {O::zero_d(), O::zero_d(), O::zero_d(), O::zero_d()};
    const auto step = [&](int k, int64_t at) {
      const H xv = O::load_h(x + at);
      const D g = widen_grad<O>(O::load_h(dy + at), xv, relu, sc, sh);
      a[k] = O::add(a[k], g);
      b[k] = O::fmadd(g, O::sub(O::widen(xv), m), b[k]);
    };
    int64_t s = 0;
    for (; s + kChains * kD <= S; s += kChains * kD) {
#pragma GCC unroll 4
      for (int k = 0; k < kChains; ++k) step(k, s + k * kD);
    }
    for (; s + kD <= S; s += kD) step(0, s);
    double ta = O::hsum(sum4(a)), tb = O::hsum(sum4(b));
    for (; s < S; ++s) {
      const float g = grad1(dy, x, s, relu, scale, shift);
      ta += g, tb = std::fma(static_cast<double>(g), x[s] - mean, tb);
    }
    sum_dy += ta;
    sum_dy_xc += tb;
  }

  static void run_affine(float* y, const float* x, int64_t S, float scale, float shift, bool relu) {
    const F sc = O::set1_f(scale), sh = O::set1_f(shift);
    int64_t s = 0;
    if (relu) {
      for (; s + kF <= S; s += kF) O::store_f(y + s, O::relu(O::fmadd(O::load_f(x + s), sc, sh)));
    } else {
      for (; s + kF <= S; s += kF) O::store_f(y + s, O::fmadd(O::load_f(x + s), sc, sh));
    }
    for (; s < S; ++s) y[s] = relu ? relu1(affine1(x[s], scale, shift)) : affine1(x[s], scale, shift);
  }

  // dx = k * (g - mean_dy - xhat * mean_dy_xhat), g = grad(dy), xhat = (x - mean) * inv_std, over one run of
  // S values. Here and in the backward sums every a * b + c is an FMA written out: the x86 files are built
  // with -mfma, and GCC would otherwise fuse or not as it compiles each copy of a loop (with and without the fused
  // ReLU, say), so a fused backward would not give the same bits as a plain one on the masked dy (the sanitizer
  // build showed it).
  static void run_dx(float* dx, const float* dy, const float* x, int64_t S, float k, float mean_dy, float mean_dy_xhat,
                     float mean, float inv_std, bool relu, float scale, float shift) {
    const F vk = O::set1_f(k), vmdy = O::set1_f(mean_dy), vmdx = O::set1_f(mean_dy_xhat);
    const F vm = O::set1_f(mean), vi = O::set1_f(inv_std);
    const F sc = O::set1_f(scale), sh = O::set1_f(shift);
    int64_t s = 0;
    for (; s + kF <= S; s += kF) {
      const F xv = O::load_f(x + s);
      const F xhat = O::mul(O::sub(xv, vm), vi);
      const F t = O::fnmadd(xhat, vmdx, O::sub(grad_f<O>(O::load_f(dy + s), xv, relu, sc, sh), vmdy));
      O::store_f(dx + s, O::mul(vk, t));
    }
    for (; s < S; ++s) {
      const float xhat = (x[s] - mean) * inv_std;
      dx[s] = k * std::fma(-xhat, mean_dy_xhat, grad1(dy, x, s, relu, scale, shift) - mean_dy);
    }
  }

  static PlaneOps plane_ops() {
    return {&scale_shift, &run_affine, &run_sum, &run_squares, &run_gradient_sums, &run_dx};
  }

  static void forward_train(float* y, float* save_mean, float* save_inv_std, float* running_mean, float* running_var,
                            const float* x, const float* gamma, const float* beta, int64_t N, int64_t C,
                            double momentum, double eps, bool relu, int64_t c0, int64_t c1) {
    const double count = static_cast<double>(N);
    by_blocks(
        c0, c1,
        [&](auto V, auto masked, int64_t c, int tail, double* mean, double* var) {
          row_moments<V(), masked()>(x, N, C, c, tail, mean, var);
        },
        [&](int64_t c, int w, const double* mean, const double* var) {
          float scale[kBlock], shift[kBlock];
          for (int j = 0; j < w; ++j) {
            finish_stats(c + j, mean[j], var[j], count, momentum, eps, save_mean, save_inv_std, running_mean,
                         running_var);
            scale_shift(gamma[c + j], beta[c + j], save_mean[c + j], save_inv_std[c + j], scale[j], shift[j]);
          }
          if (y != nullptr) affine_rows(y, x, scale, shift, N, C, c, w, relu);
        });
  }

  static void forward_eval(float* y, const float* x, const float* gamma, const float* beta, const float* running_mean,
                           const float* running_var, int64_t N, int64_t C, double eps, bool relu, int64_t c0,
                           int64_t c1) {
    for (int64_t c = c0; c < c1; c += kBlock) {
      const int w = static_cast<int>(c1 - c < kBlock ? c1 - c : kBlock);
      float scale[kBlock], shift[kBlock];
      for (int j = 0; j < w; ++j) {
        const double s = gamma[c + j] / std::sqrt(static_cast<double>(running_var[c + j]) + eps);
        scale[j] = static_cast<float>(s);
        shift[j] = static_cast<float>(beta[c + j] - running_mean[c + j] * s);
      }
      affine_rows(y, x, scale, shift, N, C, c, w, relu);
    }
  }

  static void backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* save_mean,
                       const float* save_inv_std, const float* gamma, const float* beta, int64_t N, int64_t C,
                       ChannelScratch scratch, int64_t c0, int64_t c1) {
    const double count = static_cast<double>(N);
    const bool relu = beta != nullptr;
    // The fused ReLU's scale and shift of each channel, as the forward formed them, once (zero without one);
    // indexed from c0.
    float* scales = scratch.values;
    float* shifts = scales + (c1 - c0);
    for (int64_t c = c0; c < c1; ++c) {
      scales[c - c0] = shifts[c - c0] = 0;
      if (relu) scale_shift(gamma[c], beta[c], save_mean[c], save_inv_std[c], scales[c - c0], shifts[c - c0]);
    }
    by_blocks(
        c0, c1,
        [&](auto V, auto masked, int64_t c, int tail, double* a, double* b) {
          row_gradient_sums<V(), masked()>(dy, x, save_mean, relu, scales + (c - c0), shifts + (c - c0), N, C, c,
                                           tail, a, b);
        },
        [&](int64_t c, int w, const double* a, const double* b) {
          float k[kBlock], mdy[kBlock], mdx[kBlock];
          for (int j = 0; j < w; ++j) {
            const DxConstants d = finish_gradients(c + j, a[j], b[j], count, save_inv_std, gamma, dgamma, dbeta);
            k[j] = d.k, mdy[j] = d.mean_dy, mdx[j] = d.mean_dy_xhat;
          }
          const float* scale = scales + (c - c0);
          const float* shift = shifts + (c - c0);
          const float* m = save_mean + c;
          const float* inv = save_inv_std + c;
          // The dx of kF channels from j, `lanes` of them when masked.
          auto dx_vector = [&](int64_t at, int j, int lanes, auto masked) {
            auto load = [&](const float* p) { return masked() ? O::load_f(p, lanes) : O::load_f(p); };
            const F xv = load(x + at + j);
            const F xhat = O::mul(O::sub(xv, load(m + j)), load(inv + j));
            const F g = grad_f<O>(load(dy + at + j), xv, relu, load(scale + j), load(shift + j));
            const F t = O::fnmadd(xhat, load(mdx + j), O::sub(g, load(mdy + j)));
            if (masked()) {
              O::store_f(dx + at + j, O::mul(load(k + j), t), lanes);
            } else {
              O::store_f(dx + at + j, O::mul(load(k + j), t));
            }
          };
          for (int64_t n = 0; n < N; ++n) {
            const int64_t at = n * C + c;
            int j = 0;
            for (; j + kF <= w; j += kF) dx_vector(at, j, kF, std::false_type{});
            if (j < w) dx_vector(at, j, w - j, std::true_type{});
          }
        });
  }
};

}  // namespace

}  // namespace normnet::batchnorm_detail

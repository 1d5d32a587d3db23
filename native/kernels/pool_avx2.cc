// Max pooling's common 2x2 window at stride 2, AVX2: eight windows of an output row at a time, then four (AVX-512
// CPUs run it too: the loads, not the width, bound it), a whole plane a call (the CNN's rows are 5-12 windows
// long, too short to pay a call each). The same comparisons, in the same order, as pool.cc's scalar loop, so the
// same maxima and argmax; pool.cc does each row's last OW % 4 windows.
#include <immintrin.h>

#include "kernels/pool.h"

namespace normnet::pool_detail {

namespace {

// kLanes windows' worth of vectors: F of floats, I of int32s.
struct Eight {
  using F = __m256;
  using I = __m256i;
  static constexpr int kLanes = 8;
  // The even and odd elements of 2 * kLanes consecutive floats, each in order.
  static void deinterleave(const float* p, F& even, F& odd) {
    const F lo = _mm256_loadu_ps(p), hi = _mm256_loadu_ps(p + 8);
    even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xD8));
    odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xDD)), 0xD8));
  }
  // deinterleave's inverse: even and odd back into 2 * kLanes consecutive floats.
  static void interleave(float* p, F even, F odd) {
    const F lo = _mm256_unpacklo_ps(even, odd), hi = _mm256_unpackhi_ps(even, odd);
    _mm256_storeu_ps(p, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(p + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
  }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static I load(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const I*>(p)); }
  static void store(int32_t* p, I v) { _mm256_storeu_si256(reinterpret_cast<I*>(p), v); }
  static I set1(int32_t v) { return _mm256_set1_epi32(v); }
  static I even_lanes() { return _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14); }  // 2 * lane
  static I add(I a, I b) { return _mm256_add_epi32(a, b); }
  static I sub(I a, I b) { return _mm256_sub_epi32(a, b); }
  static F equal(I a, I b) { return _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, b)); }
  static F zero() { return _mm256_setzero_ps(); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F and_(F a, F b) { return _mm256_and_ps(a, b); }
  static F or_(F a, F b) { return _mm256_or_ps(a, b); }
  static bool all(F m) { return _mm256_movemask_ps(m) == 0xFF; }
  // All ones where v replaces the running maximum (pool.cc's `replaces`): !(v <= max) and max is not NaN.
  static F replaces(F v, F max) {
    return _mm256_and_ps(_mm256_cmp_ps(v, max, _CMP_NLE_UQ), _mm256_cmp_ps(max, max, _CMP_EQ_OQ));
  }
  static F blend(F a, F b, F m) { return _mm256_blendv_ps(a, b, m); }
  static I blend(I a, I b, F m) { return _mm256_blendv_epi8(a, b, _mm256_castps_si256(m)); }
};

struct Four {
  using F = __m128;
  using I = __m128i;
  static constexpr int kLanes = 4;
  static void deinterleave(const float* p, F& even, F& odd) {
    const F lo = _mm_loadu_ps(p), hi = _mm_loadu_ps(p + 4);
    even = _mm_shuffle_ps(lo, hi, 0x88);
    odd = _mm_shuffle_ps(lo, hi, 0xDD);
  }
  static void interleave(float* p, F even, F odd) {
    _mm_storeu_ps(p, _mm_unpacklo_ps(even, odd));
    _mm_storeu_ps(p + 4, _mm_unpackhi_ps(even, odd));
  }
  static F load(const float* p) { return _mm_loadu_ps(p); }
  static void store(float* p, F v) { _mm_storeu_ps(p, v); }
  static I load(const int32_t* p) { return _mm_loadu_si128(reinterpret_cast<const I*>(p)); }
  static void store(int32_t* p, I v) { _mm_storeu_si128(reinterpret_cast<I*>(p), v); }
  static I set1(int32_t v) { return _mm_set1_epi32(v); }
  static I even_lanes() { return _mm_setr_epi32(0, 2, 4, 6); }
  static I add(I a, I b) { return _mm_add_epi32(a, b); }
  static I sub(I a, I b) { return _mm_sub_epi32(a, b); }
  static F equal(I a, I b) { return _mm_castsi128_ps(_mm_cmpeq_epi32(a, b)); }
  static F zero() { return _mm_setzero_ps(); }
  static F add(F a, F b) { return _mm_add_ps(a, b); }
  static F and_(F a, F b) { return _mm_and_ps(a, b); }
  static F or_(F a, F b) { return _mm_or_ps(a, b); }
  static bool all(F m) { return _mm_movemask_ps(m) == 0xF; }
  static F replaces(F v, F max) { return _mm_and_ps(_mm_cmp_ps(v, max, _CMP_NLE_UQ), _mm_cmp_ps(max, max, _CMP_EQ_OQ)); }
  static F blend(F a, F b, F m) { return _mm_blendv_ps(a, b, m); }
  static I blend(I a, I b, F m) { return _mm_blendv_epi8(a, b, _mm_castps_si128(m)); }
};

// Windows [ow, ow + kLanes): each window's maximum in scan order (corner, right, below, below right).
template <class V>
void max_windows(float* y, int32_t* argmax, const float* r0, const float* r1, int64_t ow, int32_t top, int32_t W) {
  typename V::F a, b, c, d;
  V::deinterleave(r0 + 2 * ow, a, b);
  V::deinterleave(r1 + 2 * ow, c, d);
  typename V::F max = a;
  typename V::I offset = V::set1(0);
  typename V::F m = V::replaces(b, max);
  max = V::blend(max, b, m);
  offset = V::blend(offset, V::set1(1), m);
  m = V::replaces(c, max);
  max = V::blend(max, c, m);
  offset = V::blend(offset, V::set1(W), m);
  m = V::replaces(d, max);
  max = V::blend(max, d, m);
  offset = V::blend(offset, V::set1(W + 1), m);
  const typename V::I corner = V::add(V::set1(top + 2 * static_cast<int32_t>(ow)), V::even_lanes());
  V::store(y + ow, max);
  V::store(argmax + ow, V::add(corner, offset));
}

// Windows [ow, ow + kLanes) of backward's dx rows; false when an argmax is not in its own window.
template <class V>
bool spread_windows(float* d0, float* d1, const float* dy, const int32_t* argmax, int64_t ow, int32_t top, int32_t W) {
  const typename V::I corner = V::add(V::set1(top + 2 * static_cast<int32_t>(ow)), V::even_lanes());
  const typename V::I offset = V::sub(V::load(argmax + ow), corner);
  const typename V::F e0 = V::equal(offset, V::set1(0)), e1 = V::equal(offset, V::set1(1));
  const typename V::F e2 = V::equal(offset, V::set1(W)), e3 = V::equal(offset, V::set1(W + 1));
  if (!V::all(V::or_(V::or_(e0, e1), V::or_(e2, e3)))) return false;
  // 0 + dy, as maxpool_backward's dx = 0; dx[argmax] += dy forms it (a -0 becomes +0).
  const typename V::F g = V::add(V::zero(), V::load(dy + ow));
  V::interleave(d0 + 2 * ow, V::and_(g, e0), V::and_(g, e1));
  V::interleave(d1 + 2 * ow, V::and_(g, e2), V::and_(g, e3));
  return true;
}

}  // namespace

int64_t maxpool_plane_2x2_avx2(float* y, int32_t* argmax, const float* x, int64_t W, int64_t OH, int64_t OW) {
  const int64_t eights = OW / 8 * 8, fours = OW % 8 >= 4;
  for (int64_t oh = 0; oh < OH; ++oh) {
    const float* r0 = x + 2 * oh * W;
    const int32_t top = static_cast<int32_t>(2 * oh * W), w = static_cast<int32_t>(W);
    for (int64_t ow = 0; ow < eights; ow += 8) max_windows<Eight>(y + oh * OW, argmax + oh * OW, r0, r0 + W, ow, top, w);
    if (fours) max_windows<Four>(y + oh * OW, argmax + oh * OW, r0, r0 + W, eights, top, w);
  }
  return eights + 4 * fours;
}

int64_t maxpool_spread_plane_2x2_avx2(float* dx, const float* dy, const int32_t* argmax, int64_t W, int64_t OH,
                                      int64_t OW) {
  const int64_t eights = OW / 8 * 8, fours = OW % 8 >= 4;
  for (int64_t oh = 0; oh < OH; ++oh) {
    float* d0 = dx + 2 * oh * W;
    const int32_t top = static_cast<int32_t>(2 * oh * W), w = static_cast<int32_t>(W);
    for (int64_t ow = 0; ow < eights; ow += 8) {
      if (!spread_windows<Eight>(d0, d0 + W, dy + oh * OW, argmax + oh * OW, ow, top, w)) return -1;
    }
    if (fours && !spread_windows<Four>(d0, d0 + W, dy + oh * OW, argmax + oh * OW, eights, top, w)) return -1;
  }
  return eights + 4 * fours;
}

}  // namespace normnet::pool_detail

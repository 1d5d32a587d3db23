// gatherScale(out, x, rows, N, D, scale) and prefetchRows(x, rows, N, D) (src/kernels/kernels.ts documents them).
// Arguments are checked exactly as the TS CHECKS, in the same order and words; every row is range-checked before
// the kernel reads (or prefetches) it.
#include <string>

#include "binding/args.h"
#include "binding/register.h"
#include "kernels/gather.h"

namespace normnet::binding {

namespace {

// Every rows[n] must pick a whole row of D values of x.
void check_rows(const Napi::CallbackInfo& info, const char* kernel, const int32_t* rows, int64_t N, int64_t D,
                const Samples& x) {
  const int64_t stored = D == 0 ? 0 : static_cast<int64_t>(x.length) / D;
  for (int64_t n = 0; D > 0 && n < N; ++n) {
    if (!(rows[n] >= 0 && rows[n] < stored)) {
      throw_range(info.Env(), std::string(kernel) + ": rows[" + std::to_string(n) + "] = " + std::to_string(rows[n]) +
                                  " is not a row of x in [0, x.length/D = " + std::to_string(stored) + ")");
    }
  }
}

Napi::Value gather_scale(const Napi::CallbackInfo& info) {
  ArgReader r(info, "gatherScale", "out, x, rows, N, D, scale");
  const int64_t N = r.integer(3), D = r.integer(4);
  const double scale = r.number(5);
  const auto out = r.floats(0, N * D, "N*D");
  const Samples x = r.samples(1);
  const auto rows = r.int32s(2, N, "N");
  check_rows(info, "gatherScale", rows.data, N, D, x);
  r.no_overlap({"out"});
  if (x.bytes) {
    normnet::gather_scale(out.data, static_cast<const uint8_t*>(x.data), rows.data, N, D, scale);
  } else {
    normnet::gather_scale(out.data, static_cast<const float*>(x.data), rows.data, N, D, scale);
  }
  return info.Env().Undefined();
}

Napi::Value prefetch_rows(const Napi::CallbackInfo& info) {
  ArgReader r(info, "prefetchRows", "x, rows, N, D");
  const int64_t N = r.integer(2), D = r.integer(3);
  const Samples x = r.samples(0);
  const auto rows = r.int32s(1, N, "N");
  check_rows(info, "prefetchRows", rows.data, N, D, x);
  normnet::prefetch_rows(x.data, D * (x.bytes ? 1 : 4), rows.data, N);
  return info.Env().Undefined();
}

}  // namespace

void register_gather(Napi::Env env, Napi::Object exports) {
  exports.Set("gatherScale", Napi::Function::New(env, gather_scale, "gatherScale"));
  exports.Set("prefetchRows", Napi::Function::New(env, prefetch_rows, "prefetchRows"));
}

}  // namespace normnet::binding

// gemm(transA, transB, M, N, K, alpha, A, B, beta, C): C = alpha * op(A) * op(B) + beta * C, row-major float32.
#include "binding/args.h"
#include "binding/register.h"
#include "kernels/gemm/gemm.h"

namespace normnet::binding {

namespace {

Napi::Value gemm(const Napi::CallbackInfo& info) {
  ArgReader r(info, "gemm", "transA, transB, M, N, K, alpha, A, B, beta, C");
  const bool trans_a = r.boolean(0), trans_b = r.boolean(1);
  const int64_t M = r.integer(2), N = r.integer(3), K = r.integer(4);
  const float alpha = static_cast<float>(r.number(5));
  const auto A = r.floats(6, M * K, trans_a ? "K*M" : "M*K");
  const auto B = r.floats(7, K * N, trans_b ? "N*K" : "K*N");
  const float beta = static_cast<float>(r.number(8));
  const auto C = r.floats(9, M * N, "M*N");
  r.no_overlap({"C"});
  normnet::gemm(trans_a, trans_b, M, N, K, alpha, A.data, trans_a ? M : K, B.data, trans_b ? K : N, beta, C.data, N);
  return info.Env().Undefined();
}

}  // namespace

void register_gemm(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New(env, gemm, "gemm"));
}

}  // namespace normnet::binding

// gemm(transA, transB, M, N, K, alpha, A, B, beta, C): C = alpha * op(A) * op(B) + beta * C, row-major float32.
#include "binding/args.h"
#include "binding/register.h"
#include "kernels/gemm/gemm.h"

#include <string>

namespace normnet::binding {

namespace {

Napi::Value gemm(const Napi::CallbackInfo& info) {
  const char* kernel = "gemm";
  expect_arg_count(info, 10, kernel, "transA, transB, M, N, K, alpha, A, B, beta, C");
  const bool trans_a = bool_arg(info, 0, kernel, "transA");
  const bool trans_b = bool_arg(info, 1, kernel, "transB");
  const int64_t M = dim_arg(info, 2, kernel, "M");
  const int64_t N = dim_arg(info, 3, kernel, "N");
  const int64_t K = dim_arg(info, 4, kernel, "K");
  const float alpha = static_cast<float>(number_arg(info, 5, kernel, "alpha"));
  const FloatArg A = float32_arg(info, 6, kernel, "A", M * K, trans_a ? "K*M" : "M*K");
  const FloatArg B = float32_arg(info, 7, kernel, "B", K * N, trans_b ? "N*K" : "K*N");
  const float beta = static_cast<float>(number_arg(info, 8, kernel, "beta"));
  const FloatArg C = float32_arg(info, 9, kernel, "C", M * N, "M*N");
  expect_no_overlap(info.Env(), C, "C", A, "A", kernel);
  expect_no_overlap(info.Env(), C, "C", B, "B", kernel);

  normnet::gemm(trans_a, trans_b, M, N, K, alpha, A.data, trans_a ? M : K, B.data, trans_b ? K : N, beta, C.data, N);
  return info.Env().Undefined();
}

}  // namespace

void register_gemm(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New(env, gemm, "gemm"));
}

}  // namespace normnet::binding

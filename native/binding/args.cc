#include "binding/args.h"

#include <cmath>
#include <string>

namespace normnet::binding {

namespace {

[[noreturn]] void throw_type(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

[[noreturn]] void throw_range(Napi::Env env, const std::string& message) {
  throw Napi::RangeError::New(env, message);
}

std::string prefix(const char* kernel, const char* name) {
  return std::string(kernel) + ": " + name;
}

}  // namespace

void expect_arg_count(const Napi::CallbackInfo& info, size_t count, const char* kernel, const char* signature) {
  if (info.Length() != count) {
    throw_type(info.Env(), std::string(kernel) + ": expected " + std::to_string(count) + " arguments (" +
                               signature + "), got " + std::to_string(info.Length()));
  }
}

bool bool_arg(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name) {
  if (!info[index].IsBoolean()) throw_type(info.Env(), prefix(kernel, name) + " must be a boolean");
  return info[index].As<Napi::Boolean>().Value();
}

double number_arg(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name) {
  if (!info[index].IsNumber()) throw_type(info.Env(), prefix(kernel, name) + " must be a number");
  return info[index].As<Napi::Number>().DoubleValue();
}

int64_t dim_arg(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name) {
  const double value = number_arg(info, index, kernel, name);
  if (!(value >= 0 && value < 2147483648.0) || std::floor(value) != value) {
    throw_range(info.Env(), prefix(kernel, name) + " must be an integer in [0, 2^31), got " + info[index].ToString().Utf8Value());
  }
  return static_cast<int64_t>(value);
}

FloatArg float32_arg(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name,
                     int64_t length, const char* shape) {
  const Napi::Value value = info[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw_type(info.Env(), prefix(kernel, name) + " must be a Float32Array");
  }
  Napi::Float32Array array = value.As<Napi::Float32Array>();
  if (static_cast<int64_t>(array.ElementLength()) != length) {
    throw_range(info.Env(), prefix(kernel, name) + " must have length " + shape + " = " + std::to_string(length) +
                                ", got " + std::to_string(array.ElementLength()));
  }
  return FloatArg{array.Data(), array.ElementLength()};
}

void expect_no_overlap(Napi::Env env, const FloatArg& out, const char* out_name, const FloatArg& in,
                       const char* in_name, const char* kernel) {
  if (out.length == 0 || in.length == 0) return;
  const auto out_begin = reinterpret_cast<uintptr_t>(out.data);
  const auto in_begin = reinterpret_cast<uintptr_t>(in.data);
  const bool overlap = out_begin < in_begin + in.length * sizeof(float) && in_begin < out_begin + out.length * sizeof(float);
  if (overlap) throw_range(env, prefix(kernel, out_name) + " must not share memory with " + in_name);
}

}  // namespace normnet::binding

// Argument checks at the Node-API boundary. Every value that crosses from JS is checked here and a bad one
// becomes a JS TypeError/RangeError naming the kernel and the argument; nothing from JS can crash the process.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace normnet::binding {

struct FloatArg {
  float* data;
  size_t length;
};

// Throws unless exactly `count` arguments were passed; `signature` lists them for the message.
void expect_arg_count(const Napi::CallbackInfo& info, size_t count, const char* kernel, const char* signature);
bool bool_arg(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name);
double number_arg(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name);
// A dimension: an integer in [0, 2^31).
int64_t dim_arg(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name);
// A Float32Array of exactly `length` elements; `shape` describes that length for the message (e.g. "M*K = 3*4").
FloatArg float32_arg(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name,
                     int64_t length, const char* shape);
// Throws if the output shares memory with an input (the kernels read inputs after writing outputs).
void expect_no_overlap(Napi::Env env, const FloatArg& out, const char* out_name, const FloatArg& in,
                       const char* in_name, const char* kernel);

}  // namespace normnet::binding

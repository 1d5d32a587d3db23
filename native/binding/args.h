// Argument checks at the Node-API boundary, mirroring src/kernels/check.ts word for word: every value that
// crosses from JS is checked here, and a bad one becomes a JS TypeError/RangeError naming the kernel and the
// argument. Nothing from JS can crash the process.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace normnet::binding {

template <class T>
struct ArrayArg {
  T* data;
  size_t length;
};

// Stored samples (gatherScale's x): a Uint8Array (bytes) or a Float32Array of any length.
struct Samples {
  const void* data;
  size_t length;
  bool bytes;
};

[[noreturn]] void throw_type(Napi::Env env, const std::string& message);
[[noreturn]] void throw_range(Napi::Env env, const std::string& message);

// Reads one call's arguments by position; `signature` names them, as in "transA, transB, M, ...".
// Allocation-free unless it throws: names are cut out of the signature only for a message, and each typed array
// costs one napi_get_typedarray_info (type, length and data at once), so a call's checks take well under a µs.
class ArgReader {
 public:
  ArgReader(const Napi::CallbackInfo& info, const char* kernel, const char* signature);

  bool boolean(size_t index);
  double number(size_t index);
  // An integer in [min, 2^31). Dimensions take min 0; sizes that must be positive (kernel, stride) min 1.
  int64_t integer(size_t index, int64_t min = 0);
  // A number in [lo, hi), or [lo, hi] when closed.
  double in_range(size_t index, double lo, double hi, bool closed = false);
  // An unsigned 32-bit integer (a seed).
  uint32_t uint32(size_t index);
  // A Float32Array / Int32Array of exactly `length` elements; `shape` says how the length is formed ("M*K").
  ArrayArg<float> floats(size_t index, int64_t length, const char* shape);
  ArrayArg<int32_t> int32s(size_t index, int64_t length, const char* shape);
  // floats(), or {nullptr, 0} for null (an output not wanted, a bias not there).
  ArrayArg<float> optional_floats(size_t index, int64_t length, const char* shape);
  // A Uint8Array or a Float32Array of any length.
  Samples samples(size_t index);
  // Outputs must not share memory with the other arrays of the call.
  void no_overlap(std::initializer_list<const char*> outputs);

  Napi::Env env() const { return info_.Env(); }
  std::string kernel() const { return kernel_; }

 private:
  static constexpr size_t kMaxArrays = 16;
  struct Seen {
    size_t index;
    uintptr_t begin, end;
  };
  // The name of argument `index`, or of the argument called `name`'s index (signature.size() when absent).
  std::string name(size_t index) const;
  size_t index_of(const char* name) const;
  std::string prefix(size_t index) const;
  // Type, length and data of argument `index` in one N-API call; false when it is not a typed array.
  bool typed_info(size_t index, napi_typedarray_type* type, size_t* elements, void** data) const;
  // A view of a detached ArrayBuffer (it reads as empty): refused, as the TS checks refuse it.
  bool detached(size_t index) const;
  void* typed(size_t index, napi_typedarray_type type, const char* type_name, int64_t length, const char* shape,
              size_t* out_length);
  void remember(size_t index, const void* data, size_t bytes);

  const Napi::CallbackInfo& info_;
  const char* kernel_;
  const char* signature_;
  size_t count_ = 0;  // arguments named by the signature
  Seen arrays_[kMaxArrays];
  size_t n_arrays_ = 0;
};

// The output size of a convolution or pooling window along one axis; a RangeError when the window does not fit.
int64_t window_output(const ArgReader& args, const char* axis, int64_t size, int64_t window, int64_t stride, int64_t padding);

// The product of dims as the TS checks form it (in double), saturated below 2^62: dims are each < 2^31, so a
// product of several can overflow int64, and a length above 2^53 matches no array anyway.
int64_t length_of(std::initializer_list<int64_t> dims);

struct Window {
  int64_t N, C, H, W, OC, KH, KW, stride, padding, OH, OW;
};

// N, C, H, W (then OC when `out_channels`), KH, KW, stride (and padding when `padded`) from argument `first`
// on, and the output size: windowDims in src/kernels/kernels.ts.
Window window_dims(ArgReader& args, size_t first, bool padded, bool out_channels = false);

// Every argmax (a pooling window's maximum, saved for backward) an index in its plane of `plane` values: a
// RangeError naming the first that is not, before anything scatters through them.
void check_plane_indices(const ArgReader& args, ArrayArg<int32_t> argmax, int64_t plane);

}  // namespace normnet::binding

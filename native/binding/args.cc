#include "binding/args.h"

#include <cmath>
#include <cstring>
#include <sstream>

namespace normnet::binding {

void throw_type(Napi::Env env, const std::string& message) { throw Napi::TypeError::New(env, message); }

void throw_range(Napi::Env env, const std::string& message) { throw Napi::RangeError::New(env, message); }

namespace {

// Numbers as JS prints them (2.5, -1, NaN), for messages that match the TS checks.
std::string js_number(const Napi::Value& value) { return value.ToString().Utf8Value(); }

}  // namespace

ArgReader::ArgReader(const Napi::CallbackInfo& info, const char* kernel, const char* signature)
    : info_(info), kernel_(kernel), signature_(signature) {
  count_ = *signature == '\0' ? 0 : 1;
  for (const char* p = signature; *p != '\0'; ++p) count_ += *p == ',';
  if (info.Length() != count_) {
    throw_type(env(), std::string(kernel_) + ": expected " + std::to_string(count_) + " arguments (" + signature +
                          "), got " + std::to_string(info.Length()));
  }
}

std::string ArgReader::name(size_t index) const {
  const char* p = signature_;
  for (size_t i = 0; i < index; ++i) p = std::strchr(p, ',') + 2;
  return std::string(p, std::strcspn(p, ","));
}

size_t ArgReader::index_of(const char* wanted) const {
  const size_t length = std::strlen(wanted);
  const char* p = signature_;
  for (size_t i = 0; i < count_; ++i) {
    const size_t n = std::strcspn(p, ",");
    if (n == length && std::strncmp(p, wanted, length) == 0) return i;
    if (p[n] == '\0') break;
    p += n + 2;
  }
  return count_;
}

std::string ArgReader::prefix(size_t index) const { return std::string(kernel_) + ": " + name(index); }

bool ArgReader::boolean(size_t index) {
  if (!info_[index].IsBoolean()) throw_type(env(), prefix(index) + " must be a boolean");
  return info_[index].As<Napi::Boolean>().Value();
}

double ArgReader::number(size_t index) {
  if (!info_[index].IsNumber()) throw_type(env(), prefix(index) + " must be a number");
  return info_[index].As<Napi::Number>().DoubleValue();
}

int64_t ArgReader::integer(size_t index, int64_t min) {
  const double value = number(index);
  if (!(value >= static_cast<double>(min) && value < 2147483648.0) || std::floor(value) != value) {
    throw_range(env(), prefix(index) + " must be an integer in [" + std::to_string(min) + ", 2^31), got " +
                           js_number(info_[index]));
  }
  return static_cast<int64_t>(value);
}

double ArgReader::in_range(size_t index, double lo, double hi, bool closed) {
  const double value = number(index);
  if (!(value >= lo && (closed ? value <= hi : value < hi))) {
    std::ostringstream bounds;
    bounds << "[" << lo << ", " << (std::isinf(hi) ? std::string("Infinity") : Napi::Number::New(env(), hi).ToString().Utf8Value())
           << (closed ? "]" : ")");
    throw_range(env(), prefix(index) + " must be in " + bounds.str() + ", got " + js_number(info_[index]));
  }
  return value;
}

uint32_t ArgReader::uint32(size_t index) {
  const double value = number(index);
  if (!(value >= 0 && value <= 4294967295.0) || std::floor(value) != value) {
    throw_range(env(), prefix(index) + " must be an integer in [0, 2^32), got " + js_number(info_[index]));
  }
  return static_cast<uint32_t>(value);
}

bool ArgReader::typed_info(size_t index, napi_typedarray_type* type, size_t* elements, void** data) const {
  // napi_invalid_arg, and nothing thrown, for a value that is not a typed array.
  return napi_get_typedarray_info(env(), info_[index], type, elements, data, nullptr, nullptr) == napi_ok;
}

bool ArgReader::detached(size_t index) const {
  napi_value buffer;
  bool result = false;
  if (napi_get_typedarray_info(env(), info_[index], nullptr, nullptr, nullptr, &buffer, nullptr) != napi_ok) return false;
  return napi_is_detached_arraybuffer(env(), buffer, &result) == napi_ok && result;
}

void* ArgReader::typed(size_t index, napi_typedarray_type type, const char* type_name, int64_t length,
                       const char* shape, size_t* out_length) {
  napi_typedarray_type actual;
  size_t elements = 0;
  void* data = nullptr;
  if (!typed_info(index, &actual, &elements, &data) || actual != type) {
    throw_type(env(), prefix(index) + " must be a " + type_name);
  }
  if (elements == 0 && detached(index)) throw_type(env(), prefix(index) + " must not be a view of a detached ArrayBuffer");
  if (static_cast<int64_t>(elements) != length) {
    throw_range(env(), prefix(index) + " must have length " + shape + " = " + std::to_string(length) + ", got " +
                           std::to_string(elements));
  }
  remember(index, data, elements * 4);  // float32 and int32
  *out_length = elements;
  return data;
}

void ArgReader::remember(size_t index, const void* data, size_t bytes) {
  // Every binding reads fewer arrays than this; more would only skip their overlap checks, never overrun.
  if (n_arrays_ < kMaxArrays) {
    const auto begin = reinterpret_cast<uintptr_t>(data);
    arrays_[n_arrays_++] = Seen{index, begin, begin + bytes};
  }
}

Samples ArgReader::samples(size_t index) {
  napi_typedarray_type type;
  size_t elements = 0;
  void* data = nullptr;
  if (!typed_info(index, &type, &elements, &data) || (type != napi_uint8_array && type != napi_float32_array)) {
    throw_type(env(), prefix(index) + " must be a Uint8Array or a Float32Array");
  }
  if (elements == 0 && detached(index)) throw_type(env(), prefix(index) + " must not be a view of a detached ArrayBuffer");
  const bool bytes = type == napi_uint8_array;
  remember(index, data, bytes ? elements : elements * 4);
  return {data, elements, bytes};
}

ArrayArg<float> ArgReader::floats(size_t index, int64_t length, const char* shape) {
  size_t n = 0;
  float* data = static_cast<float*>(typed(index, napi_float32_array, "Float32Array", length, shape, &n));
  return {data, n};
}

ArrayArg<float> ArgReader::optional_floats(size_t index, int64_t length, const char* shape) {
  if (info_[index].IsNull()) return {nullptr, 0};
  size_t n = 0;
  float* data = static_cast<float*>(typed(index, napi_float32_array, "Float32Array or null", length, shape, &n));
  return {data, n};
}

ArrayArg<int32_t> ArgReader::int32s(size_t index, int64_t length, const char* shape) {
  size_t n = 0;
  int32_t* data = static_cast<int32_t*>(typed(index, napi_int32_array, "Int32Array", length, shape, &n));
  return {data, n};
}

void ArgReader::no_overlap(std::initializer_list<const char*> outputs) {
  for (const char* out : outputs) {
    const size_t index = index_of(out);
    const Seen* a = nullptr;
    for (size_t i = 0; i < n_arrays_; ++i) {
      if (arrays_[i].index == index) a = &arrays_[i];
    }
    if (a == nullptr || a->begin == a->end) continue;
    for (size_t i = 0; i < n_arrays_; ++i) {
      const Seen& b = arrays_[i];
      if (&b == a || b.begin == b.end) continue;
      if (a->begin < b.end && b.begin < a->end) {
        throw_range(env(), std::string(kernel_) + ": " + out + " must not share memory with " + name(b.index));
      }
    }
  }
}

int64_t window_output(const ArgReader& args, const char* axis, int64_t size, int64_t window, int64_t stride,
                      int64_t padding) {
  const int64_t span = size + 2 * padding - window;
  if (span < 0) {
    throw_range(args.env(), args.kernel() + ": the " + std::to_string(window) + "-wide window does not fit " + axis +
                                " = " + std::to_string(size) + " with padding " + std::to_string(padding));
  }
  return span / stride + 1;
}

int64_t length_of(std::initializer_list<int64_t> dims) {
  double product = 1;
  for (const int64_t d : dims) product *= static_cast<double>(d);
  return product < 4611686018427387904.0 ? static_cast<int64_t>(product) : int64_t{4611686018427387904};
}

Window window_dims(ArgReader& args, size_t first, bool padded, bool out_channels) {
  Window d{};
  d.N = args.integer(first), d.C = args.integer(first + 1), d.H = args.integer(first + 2), d.W = args.integer(first + 3);
  const size_t k = out_channels ? first + 5 : first + 4;
  d.OC = out_channels ? args.integer(first + 4) : 0;
  d.KH = args.integer(k, 1), d.KW = args.integer(k + 1, 1), d.stride = args.integer(k + 2, 1);
  d.padding = padded ? args.integer(k + 3) : 0;
  d.OH = window_output(args, "H", d.H, d.KH, d.stride, d.padding);
  d.OW = window_output(args, "W", d.W, d.KW, d.stride, d.padding);
  return d;
}

void check_plane_indices(const ArgReader& args, ArrayArg<int32_t> argmax, int64_t plane) {
  // One branch-free pass (it vectorizes; a branch per index cost as much as the scatter it guards), then the
  // first bad index for the message.
  // As uint32, a negative index is >= 2^31, and an index below 2^31 fits any plane that large.
  const uint32_t limit = static_cast<uint32_t>(plane < (int64_t{1} << 31) ? plane : int64_t{1} << 31);
  uint32_t outside = 0;
  for (size_t i = 0; i < argmax.length; ++i) outside |= static_cast<uint32_t>(argmax.data[i]) >= limit;
  if (!outside) return;
  for (size_t i = 0; i < argmax.length; ++i) {
    if (!(argmax.data[i] >= 0 && argmax.data[i] < plane)) {
      throw_range(args.env(), args.kernel() + ": argmax[" + std::to_string(i) + "] = " + std::to_string(argmax.data[i]) +
                                  " is not an index in [0, H*W = " + std::to_string(plane) + ")");
    }
  }
}

}  // namespace normnet::binding

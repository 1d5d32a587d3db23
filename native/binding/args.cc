#include "binding/args.h"

#include <cmath>
#include <sstream>

namespace normnet::binding {

void throw_type(Napi::Env env, const std::string& message) { throw Napi::TypeError::New(env, message); }

void throw_range(Napi::Env env, const std::string& message) { throw Napi::RangeError::New(env, message); }

namespace {

// Numbers as JS prints them (2.5, -1, NaN), for messages that match the TS checks.
std::string js_number(const Napi::Value& value) { return value.ToString().Utf8Value(); }

}  // namespace

ArgReader::ArgReader(const Napi::CallbackInfo& info, const char* kernel, const char* signature)
    : info_(info), kernel_(kernel) {
  std::string rest(signature);
  for (size_t start = 0; !rest.empty();) {
    const size_t comma = rest.find(", ", start);
    names_.push_back(rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 2;
  }
  if (info.Length() != names_.size()) {
    throw_type(env(), kernel_ + ": expected " + std::to_string(names_.size()) + " arguments (" + signature + "), got " +
                          std::to_string(info.Length()));
  }
}

std::string ArgReader::prefix(size_t index) const { return kernel_ + ": " + names_[index]; }

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

Napi::TypedArray ArgReader::typed(size_t index, napi_typedarray_type type, const char* type_name, int64_t length,
                                  const char* shape) {
  const Napi::Value value = info_[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw_type(env(), prefix(index) + " must be a " + type_name);
  }
  Napi::TypedArray array = value.As<Napi::TypedArray>();
  if (static_cast<int64_t>(array.ElementLength()) != length) {
    throw_range(env(), prefix(index) + " must have length " + shape + " = " + std::to_string(length) + ", got " +
                           std::to_string(array.ElementLength()));
  }
  const auto begin = reinterpret_cast<uintptr_t>(static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset());
  arrays_.push_back(Seen{names_[index], begin, begin + array.ByteLength()});
  return array;
}

ArrayArg<float> ArgReader::floats(size_t index, int64_t length, const char* shape) {
  Napi::Float32Array array = typed(index, napi_float32_array, "Float32Array", length, shape).As<Napi::Float32Array>();
  return {array.Data(), array.ElementLength()};
}

ArrayArg<int32_t> ArgReader::int32s(size_t index, int64_t length, const char* shape) {
  Napi::Int32Array array = typed(index, napi_int32_array, "Int32Array", length, shape).As<Napi::Int32Array>();
  return {array.Data(), array.ElementLength()};
}

void ArgReader::no_overlap(std::initializer_list<const char*> outputs) {
  for (const char* out : outputs) {
    const Seen* a = nullptr;
    for (const Seen& seen : arrays_) {
      if (seen.name == out) a = &seen;
    }
    if (a == nullptr || a->begin == a->end) continue;
    for (const Seen& b : arrays_) {
      if (&b == a || b.begin == b.end) continue;
      if (a->begin < b.end && b.begin < a->end) throw_range(env(), kernel_ + ": " + out + " must not share memory with " + b.name);
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

}  // namespace normnet::binding

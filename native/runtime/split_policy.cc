#include "runtime/split_policy.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>

namespace normnet {

namespace {

// Calls of each way before the policy compares them; the first of each way is not timed (cold caches, packing
// buffers to grow, workers to wake).
constexpr uint32_t kWarmup = 3;
// Now and then a call runs the way that is slower now, to see whether it still is: the first kMinExplore calls
// after the faster way changed, then twice as many after each call that confirmed it, up to kMaxExplore (a
// training step runs each shape a few times: a few epochs' lag at most, and in a spell where splitting cost
// the MLP's products 1.45x, a cost of a tenth of a percent of their time).
constexpr uint32_t kMinExplore = 16;
constexpr uint32_t kMaxExplore = 1024;
// A call's weight in its way's mean (the slower way's few calls weigh more, so it is current after one), and
// how far above the mean one call counts: a preempted call (a scheduler slice, milliseconds) moves the mean by
// at most a few of its own calls.
constexpr double kWeight = 1.0 / 8;
constexpr double kExploreWeight = 1.0 / 2;
constexpr double kMaxOverMean = 8;
// One call in kTimeEvery of the faster way is timed (its mean needs few: the calls come by the thousand).
constexpr uint32_t kTimeEvery = 8;
// Kinds of call a thread keeps apart (a training step has a few dozen); colliding kinds take turns at a slot.
constexpr size_t kSlots = 256;

std::atomic<int64_t> split_calls{0};
std::atomic<int64_t> single_calls{0};
std::atomic<bool> always_split{false};

uint64_t mix(uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t split_key(const void* site, int64_t a, int64_t b, int64_t c) {
  uint64_t key = mix(reinterpret_cast<uintptr_t>(site));
  key = mix(key ^ static_cast<uint64_t>(a));
  key = mix(key ^ static_cast<uint64_t>(b));
  return mix(key ^ static_cast<uint64_t>(c)) | 1;  // never 0, an empty slot's key
}

SplitPolicy& SplitPolicy::of(uint64_t key) {
  thread_local SplitPolicy slots[kSlots];
  SplitPolicy& slot = slots[key % kSlots];
  if (slot.key_ != key) {
    slot = SplitPolicy{};
    slot.key_ = key;
  }
  return slot;
}

bool SplitPolicy::choose() {
  exploring_ = false;
  timed_ = true;
  if (always_split.load(std::memory_order_relaxed)) return true;
  if (samples_[1] < kWarmup) return true;
  if (samples_[0] < kWarmup) return false;
  const bool faster = mean_ns_[1] < mean_ns_[0];
  if (faster != faster_ || interval_ == 0) {
    faster_ = faster;
    interval_ = countdown_ = kMinExplore;
  }
  if (--countdown_ > 0) {
    timed_ = ++tick_ % kTimeEvery == 0;
    return faster;
  }
  exploring_ = true;
  return !faster;
}

void SplitPolicy::count(bool split) { (split ? split_calls : single_calls).fetch_add(1, std::memory_order_relaxed); }

void SplitPolicy::record(bool split, int64_t ns) {
  count(split);
  if (exploring_) {
    if (split == faster_) {
      countdown_ = 1;  // the pool declined to split (its workers were asleep: now woken): try the next call
    } else {
      interval_ = std::min(2 * interval_, kMaxExplore);
      countdown_ = interval_;
    }
  }
  uint32_t& samples = samples_[split];
  double& mean = mean_ns_[split];
  if (samples == 1) {
    mean = static_cast<double>(ns);
  } else if (samples > 1) {
    const double weight = split == faster_ ? kWeight : kExploreWeight;
    mean += (std::min(static_cast<double>(ns), kMaxOverMean * mean) - mean) * weight;
  }
  if (samples < kWarmup) ++samples;
}

void SplitPolicy::set_always(bool always) { always_split.store(always); }

SplitPolicy::Stats SplitPolicy::stats() { return {split_calls.load(), single_calls.load()}; }

}  // namespace normnet

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
// Now and then every kind runs the way that is slower now, to see whether it still is: a window of kWindowCalls
// calls on the thread (two of the MLP's steps), kMinGapNs after any kind's faster way changed, then twice as long
// after each window that changed none, up to kMaxGapNs. All kinds at once, not each on its own count: a kind's
// lone split among one-thread calls found the worker asleep and woke it to poll beside the caller, and the
// kinds' counts (16 to 1024 calls each) added up to a split every few steps. Measured on the MLP with 2 threads,
// paired against 1 in one process (72 pairs; Zen 5, a spell where splitting its products cost 1.4x): per-kind
// exploring 0.978x, windows 0.98-1.00x, never exploring 0.99-1.00x. A window costs ~0.3 ms there.
constexpr uint32_t kWindowCalls = 32;
constexpr int64_t kMinGapNs = 50'000'000;
constexpr int64_t kMaxGapNs = 2'000'000'000;
// Each kind runs the slower way once a window, and at most once in kExploreCost times that way's mean call: a
// 1024^3 product (12 ms on one thread) would otherwise spend a tenth of its time exploring in the first second.
constexpr double kExploreCost = 64;
// A call's weight in its way's mean (the slower way's few calls weigh more, so it is current after a window),
// and how far above the mean one call counts. This VM's noise only ever slows a call (an interrupt, a cold
// cache, a preemption), so one slow call moves the mean up by at most kWeight * 25%, while a lasting change
// moves it in a few calls: at 8x (the first version) one slow call could raise the mean by ~40% and, with the
// 100^3 products' two ways within 10% of each other, changed the faster way several times a second.
constexpr double kWeight = 1.0 / 8;
constexpr double kExploreWeight = 1.0 / 2;
constexpr double kMaxOverMean = 1.25;
// The other way must be this much faster to take over: a kind near break-even would otherwise change ways on
// noise, and each change brings the windows back to kMinGapNs; keeping the slower way costs it at most this much.
// (The MLP's 2T run above, 3.6 s: 36 changes and 32 windows with neither this nor kMaxOverMean's bound, 22 and
// 28 with this margin alone, 1 and 8 with both.)
constexpr double kSwitchMargin = 1.05;
// One call in kTimeEvery of the faster way is timed (its mean needs few: the calls come by the thousand).
constexpr uint32_t kTimeEvery = 8;
// Kinds of call a thread keeps apart (a training step has a few dozen), each in the first slot that holds it or
// is free among the kProbe from its hash's. Two kinds that shared one slot reset each other's record at every
// call, both then forever in their warm-up and so split: the keys hash call sites' addresses, which ASLR moves,
// and two of the MLP's ~6 kinds met in 1 of 8 processes, ~8000 resets in 6 epochs. A kind finding all kProbe
// slots taken by others takes the one used least lately (kinds of an earlier model, say).
constexpr size_t kSlots = 256;
constexpr size_t kProbe = 8;

std::atomic<int64_t> split_calls{0};
std::atomic<int64_t> single_calls{0};
std::atomic<bool> always_split{false};

// The calling thread's exploring windows (see kWindowCalls).
struct Windows {
  int64_t next_ns = 0;  // the next window opens at the first timed call from then (0: not scheduled yet)
  int64_t gap_ns = kMinGapNs;
  uint32_t calls_left = 0;  // in the open window
  uint32_t serial = 0;      // of the last window opened
};
thread_local Windows windows;

// The serial of the exploring window this call is in, or 0, opening one when it is due (checked on timed calls
// only: the others read no clock).
uint32_t open_window(bool timed) {
  Windows& w = windows;
  if (w.calls_left > 0) {
    if (--w.calls_left == 0) {
      w.next_ns = monotonic_ns() + w.gap_ns;
      w.gap_ns = std::min(2 * w.gap_ns, kMaxGapNs);
    }
    return w.serial;
  }
  if (!timed) return 0;
  const int64_t now = monotonic_ns();
  if (w.next_ns == 0) w.next_ns = now + w.gap_ns;
  if (now < w.next_ns) return 0;
  w.calls_left = kWindowCalls - 1;
  w.serial = w.serial == UINT32_MAX ? 1 : w.serial + 1;
  return w.serial;
}

// A kind's faster way changed: explore again soon.
void faster_way_changed() {
  Windows& w = windows;
  w.gap_ns = kMinGapNs;
  if (w.calls_left == 0) w.next_ns = std::min(w.next_ns, monotonic_ns() + kMinGapNs);
}

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
  thread_local uint64_t calls = 0;
  const size_t home = key % kSlots;
  SplitPolicy* oldest = &slots[home];
  for (size_t i = 0; i < kProbe; ++i) {
    SplitPolicy& slot = slots[(home + i) % kSlots];
    if (slot.key_ == key || slot.key_ == 0) {
      slot.key_ = key;
      slot.used_ = ++calls;
      return slot;
    }
    if (slot.used_ < oldest->used_) oldest = &slot;
  }
  *oldest = SplitPolicy{};
  oldest->key_ = key;
  oldest->used_ = ++calls;
  return *oldest;
}

bool SplitPolicy::choose() {
  exploring_ = false;
  timed_ = true;
  if (always_split.load(std::memory_order_relaxed)) return true;
  if (samples_[1] < kWarmup) return true;
  if (samples_[0] < kWarmup) return false;
  const bool faster =
      faster_ ? !(mean_ns_[0] * kSwitchMargin < mean_ns_[1]) : mean_ns_[1] * kSwitchMargin < mean_ns_[0];
  if (faster != faster_ || !compared_) {  // a new kind, its means from a few calls: explore soon, as after a change
    faster_ = faster;
    compared_ = true;
    faster_way_changed();
  }
  timed_ = ++tick_ % kTimeEvery == 0;
  const uint32_t window = open_window(timed_);
  if (window == 0 || window == window_) return faster;
  const int64_t now = monotonic_ns();
  if (now < next_explore_ns_) return faster;
  window_ = window;
  next_explore_ns_ = now + static_cast<int64_t>(kExploreCost * mean_ns_[!faster]);
  exploring_ = timed_ = true;
  return !faster;
}

void SplitPolicy::count(bool split) { (split ? split_calls : single_calls).fetch_add(1, std::memory_order_relaxed); }

void SplitPolicy::record(bool split, int64_t ns) {
  count(split);
  // The pool declined to split (its workers were asleep: now woken): the next call of the window explores.
  if (exploring_ && split == faster_) {
    window_ = 0;
    next_explore_ns_ = 0;
  }
  uint32_t& samples = samples_[split];
  double& mean = mean_ns_[split];
  if (samples == 1) {
    mean = static_cast<double>(ns);
  } else if (samples < kWarmup) {
    // The fastest of the warm-up calls: a preempted first call (a scheduler slice, 50x a 100 us product) would
    // otherwise hold this way's mean up for several windows, seconds apart.
    mean = std::min(mean, static_cast<double>(ns));
  } else if (samples > 1) {
    const double weight = split == faster_ ? kWeight : kExploreWeight;
    mean += (std::min(static_cast<double>(ns), kMaxOverMean * mean) - mean) * weight;
  }
  if (samples < kWarmup) ++samples;
}

void SplitPolicy::set_always(bool always) { always_split.store(always); }

SplitPolicy::Stats SplitPolicy::stats() { return {split_calls.load(), single_calls.load()}; }

}  // namespace normnet

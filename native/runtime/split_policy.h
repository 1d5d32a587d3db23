// Whether a parallel call should use the pool's other threads, learned from the calls' own timings.
//
// Whether a second core pays changes with the machine and the moment: on these shared VMs a worker polling on
// a core of its own can still run at half speed (the hypervisor lends that core out), and a product that took
// 1.3x less time split on a quiet spell took 1.45x more in a busy one, with no stall for the pool to see. So
// each kind of call (a GEMM shape, a kernel's call site and size) keeps the mean time of its recent calls run
// split and run on one thread and takes the faster. Now and then every kind runs the other way at once, for a
// short window, to see whether it still is slower (split_policy.cc). Either way gives the same bits: every
// kernel's task partition and every product's summation order are independent of how many threads run them.
#pragma once

#include <cstdint>

namespace normnet {

class SplitPolicy {
 public:
  // Whether the next call of this kind should split.
  bool choose();
  // Whether that call is to be timed: while learning, when it runs the slower way, and one in kTimeEvery of the
  // rest (two clock reads cost ~55 ns on this VM's kvm-clock: 1-2% of a 100^3 product).
  bool timed() const { return timed_; }
  // The time of a timed call of this kind, and whether it did split.
  void record(bool split, int64_t ns);
  // An untimed call, and whether it did split.
  static void count(bool split);

  // The record of calls of kind `key` on the calling thread (each thread learns alone: no locks, no sharing).
  static SplitPolicy& of(uint64_t key);

  struct Stats {
    int64_t split;   // calls the policy split
    int64_t single;  // calls it kept on one thread
  };
  static Stats stats();
  // Every call that may split does (the pool's warmth and size permitting): for measuring what the policy saves.
  static void set_always(bool always);

 private:
  uint64_t key_ = 0;
  uint64_t used_ = 0;  // when of() last returned it, in the thread's calls of of()
  uint32_t samples_[2] = {0, 0};  // [one thread, split]
  double mean_ns_[2] = {0, 0};
  bool faster_ = false;     // the faster way at the last choice: split or not
  bool compared_ = false;   // the warm-up is over and the two ways were compared
  bool exploring_ = false;  // the last choice was the slower way
  uint32_t window_ = 0;     // the exploring window it last ran the slower way in
  int64_t next_explore_ns_ = 0;
  bool timed_ = true;
  uint32_t tick_ = 0;
};

int64_t monotonic_ns();

// A key for SplitPolicy::of from a call site's address and up to three sizes.
uint64_t split_key(const void* site, int64_t a, int64_t b = 0, int64_t c = 0);

// Runs run(split) -> bool (whether it did split, which may differ when the pool declines), choosing split by the
// policy of calls of kind `key`, and records the time it took.
template <class Run>
void run_adaptively(uint64_t key, Run&& run) {
  SplitPolicy& policy = SplitPolicy::of(key);
  const bool choice = policy.choose();
  if (!policy.timed()) {
    SplitPolicy::count(run(choice));
    return;
  }
  const int64_t start = monotonic_ns();
  const bool split = run(choice);
  policy.record(split, monotonic_ns() - start);
}

}  // namespace normnet

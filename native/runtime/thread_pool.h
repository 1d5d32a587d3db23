// One persistent thread pool for all kernels.
// parallel_for(n, fn) runs fn(0..n-1) on the pool's threads, the caller included, and returns when all are done.
// Tasks are claimed dynamically, so a worker that is slow to wake only means the caller runs more tasks itself:
// a parallel call is never much slower than the same work on one thread.
// Dispatch allocates nothing: the callable is passed as a function pointer plus its address.
#pragma once

#include "runtime/split_policy.h"

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace normnet {

class ThreadPool {
 public:
  static ThreadPool& global();

  // Threads that work on a parallel_for, the caller included. Default: std::thread::hardware_concurrency().
  int size() const;
  // n >= 1. Workers are (re)created lazily on the next parallel call.
  void resize(int n);
  // Whether a small job would pay now: every worker is polling for work on a core of its own, and no job has
  // stalled on a preempted worker lately (a back-off, thread_pool.cc). Otherwise false, and sleeping workers are
  // woken to poll (so a later call may find them warm). A worker preempted in the middle of a task makes the
  // caller wait for the scheduler; for work of a few microseconds that costs more than the second thread saves.
  bool warm();
  // Counts since the process started, and the current back-off of warm() (0 when it is not backing off).
  struct Stats {
    int64_t warm;       // warm() answered yes
    int64_t stalls;     // jobs stalled on a worker preempted mid-task
    int64_t backoff_ns;
    int64_t pokes;      // sleeping workers woken by warm() to poll
  };
  Stats stats() const;

  // Runs fn(task) for every task in [0, n_tasks). Inline on the caller when n_tasks <= 1, size() == 1,
  // n_tasks > 2^20 - 1, or the pool is already running a job (re-entrant call, or a concurrent one from another
  // thread).
  template <class F>
  void parallel_for(int n_tasks, F&& fn) {
    using Fn = std::remove_reference_t<F>;
    if (n_tasks <= 1 || size() == 1 ||
        !run(n_tasks, [](void* ctx, int task) { (*static_cast<Fn*>(ctx))(task); },
             const_cast<void*>(static_cast<const void*>(&fn)))) {
      for (int task = 0; task < n_tasks; ++task) fn(task);
    }
  }

 private:
  using TaskFn = void (*)(void* ctx, int task);
  ThreadPool();
  // Returns false, running nothing, if the pool is busy or n_tasks is too large.
  bool run(int n_tasks, TaskFn fn, void* ctx);
  struct Impl;
  Impl* impl_;
};

// Runs body(task, begin, end) over [0, n) in at most max_tasks balanced ranges of at least `grain` items
// each, on the global pool when there is more than one range and splitting has been the faster way for this
// call site and size lately (split_policy.h); returns the number of ranges. For kernels whose
// work splits into independent items (planes, rows); `task` indexes per-range partial results.
template <class Body>
int64_t parallel_tasks(int64_t n, int64_t grain, int64_t max_tasks, const Body& body) {
  const int64_t tasks = std::min<int64_t>(n / std::max<int64_t>(grain, 1), max_tasks);
  if (tasks <= 1) {
    if (n > 0) body(0, int64_t{0}, n);
    return 1;
  }
  const auto range = [&](int task) { body(task, n * task / tasks, n * (task + 1) / tasks); };
  ThreadPool& pool = ThreadPool::global();
  if (pool.size() == 1) {
    for (int task = 0; task < tasks; ++task) range(task);
    return tasks;
  }
  // Split or not as this call site's recent calls of this size ran faster (runtime/split_policy.h).
  static const char site = 0;
  run_adaptively(split_key(&site, n, tasks), [&](bool split) {
    if (split) {
      pool.parallel_for(static_cast<int>(tasks), range);
      return true;
    }
    for (int task = 0; task < tasks; ++task) range(task);
    return false;
  });
  return tasks;
}

// parallel_tasks for bodies that need no task index: body(begin, end).
template <class Body>
void parallel_ranges(int64_t n, int64_t grain, const Body& body) {
  parallel_tasks(n, grain, 1024, [&](int, int64_t begin, int64_t end) { body(begin, end); });
}

// Items per task when each item holds `work` units and a task should hold about `grain` of them.
inline int64_t items_per_task(int64_t grain, int64_t work) {
  return std::max<int64_t>(1, grain / std::max<int64_t>(1, work));
}

}  // namespace normnet

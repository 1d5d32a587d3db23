// Thread pool: workers wait for a new job on a generation counter, spinning briefly before sleeping on a
// condition variable, because training issues many GEMMs of ~50 us each and a futex wake-up per call would
// cost as much as the work.
//
// Job state is one 64-bit atomic: generation (24 bits), task count (20) and next unclaimed task (20). A thread
// claims a task with a compare-exchange on the whole word, so the claim checks generation and count from the
// same snapshot, and it reads the job's function only after claiming: job g cannot end (and its function be
// replaced) while one of its tasks is claimed and not done. A worker late for job g can thus never run a task
// that does not exist, nor one of job g+1 with job g's function.
#include "runtime/thread_pool.h"

#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace normnet {

namespace {

// How long an idle worker polls for the next job before sleeping.
constexpr auto kSpin = std::chrono::microseconds(200);

constexpr int kTaskBits = 20;
constexpr uint64_t kTaskMask = (uint64_t{1} << kTaskBits) - 1;
uint32_t generation_of(uint64_t state) { return static_cast<uint32_t>(state >> (2 * kTaskBits)); }
int count_of(uint64_t state) { return static_cast<int>((state >> kTaskBits) & kTaskMask); }
int next_of(uint64_t state) { return static_cast<int>(state & kTaskMask); }

}  // namespace

struct ThreadPool::Impl {
  std::atomic<uint64_t> state{0};
  std::atomic<TaskFn> fn{nullptr};
  std::atomic<void*> ctx{nullptr};
  std::atomic<int> done{0};

  std::atomic<bool> busy{false};   // held by the thread running a job, or by resize()
  std::atomic<int> size{1};
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;

  std::mutex mutex;                // guards sleeping only
  std::condition_variable wake;
  std::atomic<int> sleepers{0};

  // Claims and runs tasks of generation gen until none is left. Used by the caller and by workers.
  void work(uint32_t gen) {
    uint64_t s = state.load();
    while (generation_of(s) == gen && next_of(s) < count_of(s)) {
      if (state.compare_exchange_weak(s, s + 1)) {
        fn.load()(ctx.load(), next_of(s));
        done.fetch_add(1);
        s = state.load();
      }
    }
  }

  // seen: the generation when the worker was created, so a job published before it starts is still run.
  void worker_loop(uint32_t seen) {
    for (;;) {
      uint32_t gen = generation_of(state.load());
      const auto spin_end = std::chrono::steady_clock::now() + kSpin;
      while (gen == seen && !stop.load()) {
        for (int i = 0; i < 64; ++i) _mm_pause();
        gen = generation_of(state.load());
        if (gen == seen && std::chrono::steady_clock::now() > spin_end) {
          std::unique_lock<std::mutex> lock(mutex);
          sleepers.fetch_add(1);
          wake.wait(lock, [&] { return generation_of(state.load()) != seen || stop.load(); });
          sleepers.fetch_sub(1);
          gen = generation_of(state.load());
        }
      }
      if (stop.load()) return;
      seen = gen;
      work(gen);
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop.store(true);
    }
    wake.notify_all();
    for (std::thread& t : workers) t.join();
    workers.clear();
    stop.store(false);
  }
};

ThreadPool::ThreadPool() : impl_(new Impl) {
  const unsigned hc = std::thread::hardware_concurrency();
  impl_->size.store(hc > 0 ? static_cast<int>(hc) : 1);
}

// Leaked on purpose: no destructor runs at process exit, when Node unloads addons while workers may be asleep.
ThreadPool& ThreadPool::global() {
  static ThreadPool* pool = new ThreadPool;
  return *pool;
}

int ThreadPool::size() const { return impl_->size.load(std::memory_order_relaxed); }

void ThreadPool::resize(int n) {
  if (n < 1) n = 1;
  Impl& p = *impl_;
  bool expected = false;
  while (!p.busy.compare_exchange_weak(expected, true)) {
    expected = false;
    std::this_thread::yield();
  }
  if (static_cast<int>(p.workers.size()) != n - 1) p.stop_workers();
  p.size.store(n);
  p.busy.store(false);
}

bool ThreadPool::run(int n_tasks, TaskFn fn, void* ctx) {
  Impl& p = *impl_;
  bool expected = false;
  if (n_tasks > static_cast<int>(kTaskMask) || !p.busy.compare_exchange_strong(expected, true)) return false;
  const int n_workers = p.size.load() - 1;
  const uint32_t current = generation_of(p.state.load());
  try {
    while (static_cast<int>(p.workers.size()) < n_workers) {
      p.workers.emplace_back([&p, current] { p.worker_loop(current); });
    }
  } catch (const std::system_error&) {
    // No more threads from the OS: run with the workers there are (the caller alone, at worst).
  }

  p.fn.store(fn);
  p.ctx.store(ctx);
  p.done.store(0);
  const uint32_t gen = (current + 1) & ((uint32_t{1} << (64 - 2 * kTaskBits)) - 1);
  p.state.store(static_cast<uint64_t>(gen) << (2 * kTaskBits) | static_cast<uint64_t>(n_tasks) << kTaskBits);
  if (p.sleepers.load() > 0) {
    std::lock_guard<std::mutex> lock(p.mutex);
    p.wake.notify_all();
  }
  p.work(gen);
  // Tasks claimed by workers are still running; yield after a while in case a worker was preempted.
  for (int spins = 0; p.done.load() < n_tasks; ++spins) {
    if (spins < 4096) {
      _mm_pause();
    } else {
      std::this_thread::yield();
    }
  }
  p.busy.store(false);
  return true;
}

}  // namespace normnet

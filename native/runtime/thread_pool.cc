// Thread pool: workers wait for a new job on a generation counter, spinning briefly before sleeping on a
// condition variable, because training issues many GEMMs of ~50 us each and a futex wake-up per call would
// cost as much as the work.
//
// Job state is one 64-bit atomic: generation in the high 32 bits, next unclaimed task in the low 32. A worker
// claims a task with a compare-exchange that also checks the generation, so a worker late for job g can never
// take a task of job g+1 with job g's function.
#include "runtime/thread_pool.h"

#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace normnet {

namespace {

// How long an idle worker polls for the next job before sleeping.
constexpr auto kSpin = std::chrono::microseconds(200);

uint32_t generation_of(uint64_t state) { return static_cast<uint32_t>(state >> 32); }

}  // namespace

struct ThreadPool::Impl {
  std::atomic<uint64_t> state{0};
  std::atomic<TaskFn> fn{nullptr};
  std::atomic<void*> ctx{nullptr};
  std::atomic<int> n_tasks{0};
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
    const TaskFn f = fn.load();
    void* const c = ctx.load();
    const int n = n_tasks.load();
    uint64_t s = state.load();
    while (generation_of(s) == gen && static_cast<int>(s & 0xffffffffu) < n) {
      if (state.compare_exchange_weak(s, s + 1)) {
        f(c, static_cast<int>(s & 0xffffffffu));
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
  if (!p.busy.compare_exchange_strong(expected, true)) return false;
  const int n_workers = p.size.load() - 1;
  const uint32_t current = generation_of(p.state.load());
  while (static_cast<int>(p.workers.size()) < n_workers) {
    p.workers.emplace_back([&p, current] { p.worker_loop(current); });
  }

  p.fn.store(fn);
  p.ctx.store(ctx);
  p.n_tasks.store(n_tasks);
  p.done.store(0);
  const uint32_t gen = current + 1;
  p.state.store(static_cast<uint64_t>(gen) << 32);
  if (p.sleepers.load() > 0) {
    std::lock_guard<std::mutex> lock(p.mutex);
    p.wake.notify_all();
  }
  p.work(gen);
  while (p.done.load() < n_tasks) _mm_pause();
  p.busy.store(false);
  return true;
}

}  // namespace normnet

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

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace normnet {

namespace {

// The spin-wait hint between polls: PAUSE on x86-64; on AArch64 an ISB, as Rust's std::hint::spin_loop emits,
// since YIELD is a no-op on most cores and the poll would run flat out.
inline void spin_pause() {
#if defined(__x86_64__)
  _mm_pause();
#elif defined(__aarch64__)
  __asm__ volatile("isb" ::: "memory");
#endif
}

// How long an idle worker polls for the next job before sleeping.
constexpr auto kSpin = std::chrono::microseconds(200);
// warm() says no while a polling worker's last poll is older than kStaleNs (it is off its core), and for a
// back-off after a job stalled: the caller, done with its own tasks, waited longer than kStallNs plus twice its
// own work for the workers' (one task, normally): a worker was preempted in the middle of one, which costs the
// caller a scheduler slice. The back-off grows fourfold when the stall came within kQuickNs of the last
// back-off's end (a process holds the other core: a few stalls a second would cost more than splitting saves)
// and halves otherwise (this VM's occasional preemptions), between kMinBackoffNs and kMaxBackoffNs.
constexpr int64_t kStallNs = 500'000;
constexpr int64_t kStaleNs = 500'000;
constexpr int64_t kQuickNs = 100'000'000;
constexpr int64_t kMinBackoffNs = 10'000'000;
constexpr int64_t kMaxBackoffNs = 2'000'000'000;
// warm() wakes sleeping workers (a poke) at most every kMinPokeNs: a caller whose products come further apart than
// the workers' kSpin would otherwise pay a futex wake on each for nothing. A poke after which the worker ran fewer
// than kPaidJobs jobs before sleeping again doubles that wait, up to kMaxPokeNs; one after which it ran more
// brings it back. A poked worker polls kSpin beside the caller, which slows the caller where the two vCPUs share
// a core: measured on the MLP at 2T in a spell where splitting its products cost 1.4x, its two 784 -> 100
// products still measured 5% faster split, and pokes every 10 ms to split one of them now and then made 2T
// 0.973-0.992x of 1T; with pokes 1 s apart, 0.997-0.998x, as a build that never splits (1.001x).
constexpr int64_t kMinPokeNs = 10'000'000;
constexpr int64_t kMaxPokeNs = 1'000'000'000;
constexpr int kPaidJobs = 4;
// Worker heartbeat values while it sleeps and while it runs tasks.
constexpr int64_t kAsleep = -1;
constexpr int64_t kWorking = INT64_MAX;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

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
  std::atomic<uint32_t> pokes{0};  // wakes sleepers without a job (warm()); also its count in stats()
  int64_t poked_ns = INT64_MIN / 2;  // the last poke (under busy)
  std::atomic<int64_t> poke_gap_ns{kMinPokeNs};  // the least time between pokes now

  // Per worker: when it last polled for a job (now_ns), or kAsleep. Sized with the workers.
  std::unique_ptr<std::atomic<int64_t>[]> polled;
  // The last stalled job and the back-off it started (written under busy).
  std::atomic<int64_t> stalled_ns{INT64_MIN / 2};
  std::atomic<int64_t> backoff_ns{kMinBackoffNs};

  std::atomic<int64_t> warm_count{0};
  std::atomic<int64_t> stall_count{0};

  // A worker woken by a poke ran `jobs` jobs before sleeping again: did the poke pay (kMinPokeNs)?
  void judge_poke(int jobs) {
    const int64_t gap = poke_gap_ns.load(std::memory_order_relaxed);
    poke_gap_ns.store(jobs >= kPaidJobs ? kMinPokeNs : std::min(2 * gap, kMaxPokeNs), std::memory_order_relaxed);
  }

  void stalled(int64_t now) {
    stall_count.fetch_add(1, std::memory_order_relaxed);
    const int64_t backoff = backoff_ns.load();
    const bool quick = now - (stalled_ns.load() + backoff) < kQuickNs;
    backoff_ns.store(quick ? std::min(4 * backoff, kMaxBackoffNs) : std::max(backoff / 2, kMinBackoffNs));
    stalled_ns.store(now);
  }

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
  void worker_loop(int index, uint32_t seen) {
    std::atomic<int64_t>& heartbeat = polled[index];
    bool by_poke = false;  // polling since a poke woke it, having run `jobs` jobs since
    int jobs = 0;
    for (;;) {
      uint32_t gen = generation_of(state.load());
      int64_t now = now_ns();
      const int64_t spin_end = now + std::chrono::nanoseconds(kSpin).count();
      while (gen == seen && !stop.load()) {
        heartbeat.store(now, std::memory_order_relaxed);
        for (int i = 0; i < 64; ++i) spin_pause();
        gen = generation_of(state.load());
        now = now_ns();
        if (gen == seen && now > spin_end) {
          if (by_poke) judge_poke(jobs);
          std::unique_lock<std::mutex> lock(mutex);
          heartbeat.store(kAsleep, std::memory_order_relaxed);
          sleepers.fetch_add(1);
          const uint32_t poked = pokes.load();
          wake.wait(lock, [&] { return generation_of(state.load()) != seen || stop.load() || pokes.load() != poked; });
          sleepers.fetch_sub(1);
          gen = generation_of(state.load());
          now = now_ns();
          heartbeat.store(now, std::memory_order_relaxed);
          by_poke = gen == seen;
          jobs = 0;
          if (by_poke) break;  // poll afresh for another kSpin
        }
      }
      if (stop.load()) return;
      if (gen == seen) continue;
      seen = gen;
      ++jobs;
      // Not polling, but not off its core either: the caller may ask warm() the moment this job's last task
      // is done, before this thread polls again.
      heartbeat.store(kWorking, std::memory_order_relaxed);
      work(gen);
    }
  }

  // Creates the missing workers (the caller holds busy). Returns false if none can be made.
  bool ensure_workers() {
    const int n_workers = size.load() - 1;
    if (static_cast<int>(workers.size()) >= n_workers) return true;
    if (workers.empty()) {
      polled.reset(new std::atomic<int64_t>[n_workers]);
      for (int i = 0; i < n_workers; ++i) polled[i].store(kAsleep);  // until it polls: not warm yet
    }
    const uint32_t current = generation_of(state.load());
    try {
      while (static_cast<int>(workers.size()) < n_workers) {
        const int index = static_cast<int>(workers.size());
        workers.emplace_back([this, index, current] { worker_loop(index, current); });
      }
    } catch (const std::system_error&) {
      // No more threads from the OS: run with the workers there are (the caller alone, at worst).
    }
    return !workers.empty();
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
  // Going down to one thread keeps the workers, asleep (size() == 1 runs no job), so toggling 1 <-> 2 threads
  // does not pay for new threads each time.
  if (n > 1 && static_cast<int>(p.workers.size()) != n - 1) p.stop_workers();
  p.size.store(n);
  p.busy.store(false);
}

bool ThreadPool::run(int n_tasks, TaskFn fn, void* ctx) {
  Impl& p = *impl_;
  bool expected = false;
  if (n_tasks > static_cast<int>(kTaskMask) || !p.busy.compare_exchange_strong(expected, true)) return false;
  p.ensure_workers();
  const uint32_t current = generation_of(p.state.load());

  const int64_t start = now_ns();
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
  if (p.done.load() < n_tasks) {
    const int64_t waiting = now_ns();
    for (int spins = 0; p.done.load() < n_tasks; ++spins) {
      if (spins < 4096) {
        spin_pause();
      } else {
        std::this_thread::yield();
      }
    }
    const int64_t now = now_ns();
    if (now - waiting > kStallNs + 2 * (waiting - start)) p.stalled(now);
  }
  p.busy.store(false);
  return true;
}

bool ThreadPool::warm() {
  Impl& p = *impl_;
  if (p.size.load() == 1) return false;
  bool expected = false;
  if (!p.busy.compare_exchange_strong(expected, true)) return false;
  const int64_t now = now_ns();
  if (now - p.stalled_ns.load() < p.backoff_ns.load()) {
    p.busy.store(false);
    return false;
  }
  bool warm = p.ensure_workers(), asleep = false;
  for (size_t i = 0; warm && i < p.workers.size(); ++i) {
    const int64_t polled = p.polled[i].load(std::memory_order_relaxed);
    if (polled == kAsleep) {
      asleep = true;
    } else if (now - polled > kStaleNs) {
      warm = false;  // off its core right now: no back-off, since declining costs nothing
    }
  }
  if (warm && asleep && now - p.poked_ns > p.poke_gap_ns.load(std::memory_order_relaxed)) {
    p.poked_ns = now;
    std::lock_guard<std::mutex> lock(p.mutex);
    p.pokes.fetch_add(1);
    p.wake.notify_all();
  }
  p.busy.store(false);
  if (warm && !asleep) p.warm_count.fetch_add(1, std::memory_order_relaxed);
  return warm && !asleep;
}

ThreadPool::Stats ThreadPool::stats() const {
  const Impl& p = *impl_;
  const int64_t left = p.stalled_ns.load() + p.backoff_ns.load() - now_ns();
  return {p.warm_count.load(), p.stall_count.load(), left > 0 ? left : 0, p.pokes.load()};
}

}  // namespace normnet

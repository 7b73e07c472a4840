//===- ThreadPool.cpp - the CPU device's workers --------------------------===//

#include "lib/runtime/ThreadPool.h"

#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KILN_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define KILN_PAUSE() __asm__ __volatile__("yield")
#else
#define KILN_PAUSE() ((void)0)
#endif

namespace kiln::runtime {

ThreadPool::ThreadPool(unsigned threads) {
  for (unsigned i = 1; i < threads; ++i)
    workers.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  wake.notify_all();
  for (std::thread &t : workers)
    t.join();
}

void ThreadPool::runChunks() {
  for (;;) {
    uint64_t first = next.fetch_add(chunk, std::memory_order_relaxed);
    if (first >= total)
      return;
    uint64_t last = first + chunk < total ? first + chunk : total;
    fn(ctx, first, last);
  }
}

/// About 50 microseconds of pause instructions: longer than the gap
/// between two dispatches of one run, far shorter than a run.
static constexpr int kSpins = 1 << 12;

void ThreadPool::workerLoop() {
  uint64_t seen = 0;
  for (;;) {
    // A new job is published with release order after its fields, so a
    // spinner that sees it reads them without the mutex.
    bool ready = false;
    for (int i = 0; i < kSpins && !ready; ++i) {
      ready = published.load(std::memory_order_acquire) != seen;
      if (!ready)
        KILN_PAUSE();
    }
    {
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait(lock, [&] { return stopping || generation != seen; });
      if (stopping)
        return;
      seen = generation;
    }
    runChunks();
    if (busy.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex);
      finished.notify_one();
    }
  }
}

void ThreadPool::parallelFor(uint64_t n, RangeFn f, void *c) {
  if (n == 0)
    return;
  if (workers.empty() || n == 1) {
    f(c, 0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    fn = f;
    ctx = c;
    total = n;
    // A few chunks per thread: balance without a counter hit per workgroup.
    uint64_t parts = 4 * (uint64_t)size();
    chunk = n / parts ? n / parts : 1;
    next.store(0, std::memory_order_relaxed);
    busy.store((unsigned)workers.size(), std::memory_order_relaxed);
    ++generation;
    published.store(generation, std::memory_order_release);
  }
  wake.notify_all();
  runChunks();
  for (int i = 0; i < kSpins && busy.load(std::memory_order_acquire) != 0; ++i)
    KILN_PAUSE();
  std::unique_lock<std::mutex> lock(mutex);
  finished.wait(lock, [&] { return busy.load(std::memory_order_acquire) == 0; });
}

unsigned threadCountFromEnvironment(std::string &error) {
  if (const char *env = std::getenv("KILN_NUM_THREADS")) {
    char *end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v > 0 && v <= 1024)
      return (unsigned)v;
    error = std::string("KILN_NUM_THREADS must be a number of threads from 1 to 1024, got '") +
            env + "'";
    return 0;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n ? n : 1;
}

} // namespace kiln::runtime

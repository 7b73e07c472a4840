//===- ThreadPool.cpp - the CPU device's workers --------------------------===//

#include "lib/runtime/ThreadPool.h"

#include <cstdlib>

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

void ThreadPool::workerLoop() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait(lock, [&] { return stopping || generation != seen; });
      if (stopping)
        return;
      seen = generation;
    }
    runChunks();
    std::lock_guard<std::mutex> lock(mutex);
    if (--busy == 0)
      finished.notify_one();
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
    busy = (unsigned)workers.size();
    ++generation;
  }
  wake.notify_all();
  runChunks();
  std::unique_lock<std::mutex> lock(mutex);
  finished.wait(lock, [&] { return busy == 0; });
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

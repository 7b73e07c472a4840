//===- ThreadPool.h - the CPU device's workers --------------------*- C++ -*-===//
//
// A fixed set of threads that split a dispatch's workgroup range. The caller
// works too, so a pool of N threads starts N - 1. Chunks are handed out from
// an atomic counter (dynamic scheduling), so uneven workgroups balance.
// Between dispatches (microseconds apart) workers and the caller spin for a
// short while before sleeping on a condition variable, so a plan of many
// small dispatches does not pay a futex wake-up per dispatch.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_RUNTIME_THREADPOOL_H
#define KILN_LIB_RUNTIME_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kiln::runtime {

class ThreadPool {
public:
  using RangeFn = void (*)(void *ctx, uint64_t first, uint64_t last);

  explicit ThreadPool(unsigned threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  unsigned size() const { return (unsigned)workers.size() + 1; }

  /// Calls fn(ctx, first, last) over disjoint ranges covering [0, n) on all
  /// threads; returns when every range is done.
  void parallelFor(uint64_t n, RangeFn fn, void *ctx);

private:
  void workerLoop();
  void runChunks();

  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable wake, finished;
  uint64_t generation = 0;           // under `mutex`, for sleepers
  std::atomic<uint64_t> published{0}; // the same, for spinners
  bool stopping = false;
  std::atomic<unsigned> busy{0}; // workers still on the current job

  // The current job.
  RangeFn fn = nullptr;
  void *ctx = nullptr;
  uint64_t total = 0, chunk = 1;
  std::atomic<uint64_t> next{0};
};

/// KILN_NUM_THREADS when set, else the core count; 0 with `error` set when
/// the variable is not a number in [1, 1024].
unsigned threadCountFromEnvironment(std::string &error);

} // namespace kiln::runtime

#endif // KILN_LIB_RUNTIME_THREADPOOL_H

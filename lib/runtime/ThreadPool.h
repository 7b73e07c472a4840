//===- ThreadPool.h - the CPU device's workers --------------------*- C++ -*-===//
//
// A fixed set of threads that split a dispatch's workgroup range. The caller
// works too, so a pool of N threads starts N - 1. Work is claimed chunk by
// chunk from one atomic word (the job's generation and its next chunk), so
// whoever runs takes whatever is left: on a busy machine a worker the OS
// has not scheduled yet claims nothing, and the caller waits only for
// chunks a running thread has claimed, never for a worker to wake up.
// Between dispatches (microseconds apart) workers spin for a bounded while
// before sleeping on a condition variable, so a plan of many small
// dispatches does not pay a futex wake-up per dispatch.
//
// Two rules keep a busy machine from costing more threads than they give:
// a job too small to be worth sharing (its items' time, learned on the
// caller, under ~16 us), or a short one (under ~200 us) whose last shared
// run was no faster than the caller alone would have been, runs on the
// caller alone for a while (2 ms, doubling while it repeats, up to 32 ms);
// and when the caller has to wait for a chunk a preempted worker holds (a
// straggler: the machine is busy), the pool runs everything on the caller
// for a while (2 ms, doubling with each straggler up to 256 ms, shrinking
// by a tenth with each shared job that goes well).
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

/// What the pool learns about one recurring job (a dispatch of a plan):
/// nanoseconds per item, measured on the calling thread (negative: not
/// measured yet).
struct WorkEstimate {
  double nsPerItem = -1.0;
  /// Sharing this job did not pay lately: it runs inline until then.
  int64_t inlineUntilNs = 0, backoffNs = 0;
};

class ThreadPool {
public:
  using RangeFn = void (*)(void *ctx, uint64_t first, uint64_t last);

  explicit ThreadPool(unsigned threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  unsigned size() const { return (unsigned)workers.size() + 1; }

  /// Calls fn(ctx, first, last) over disjoint ranges covering [0, n) on all
  /// threads; returns when every range is done. `estimate` (kept by the
  /// caller per recurring job) lets the pool run small jobs inline.
  void parallelFor(uint64_t n, RangeFn fn, void *ctx, WorkEstimate *estimate = nullptr);

private:
  /// One dispatch. Two slots alternate by generation: a late worker still
  /// reading the previous job's slot never sees the next job's fields
  /// change under it, and its claims fail on the generation anyway.
  /// (Atomic only so that a late worker's discarded read is not a race.)
  struct Job {
    std::atomic<RangeFn> fn{nullptr};
    std::atomic<void *> ctx{nullptr};
    std::atomic<uint64_t> total{0}, chunk{1};
    std::atomic<uint32_t> chunks{0};
  };

  void workerLoop();
  /// Claims and runs chunks of job `generation` until none is left; returns
  /// how many items this thread ran.
  uint64_t runChunks(uint32_t generation);

  std::vector<std::thread> workers;
  Job jobs[2];
  /// (generation << 32) | next chunk: a claim is a compare-exchange that
  /// only succeeds within the job its claimer read.
  std::atomic<uint64_t> claim{0};
  /// Claimed chunks of the current job not finished yet.
  std::atomic<uint32_t> pending{0};

  std::mutex mutex;
  std::condition_variable wake, finished;
  std::atomic<unsigned> sleepers{0}; // workers that may be waiting on `wake`
  std::atomic<bool> callerWaits{false};
  bool stopping = false;

  // Straggler back-off (caller only).
  int64_t inlineUntilNs = 0, backoffNs = 0;
};

/// The default thread count: the CPUs this process may run on (its
/// affinity mask) capped by its cgroup's CPU quota (containers), at least 1.
unsigned availableCpus();

/// KILN_NUM_THREADS when set, else availableCpus(); 0 with `error` set when
/// the variable is not a number in [1, 1024].
unsigned threadCountFromEnvironment(std::string &error);

} // namespace kiln::runtime

#endif // KILN_LIB_RUNTIME_THREADPOOL_H

//===- ThreadPool.cpp - the CPU device's workers --------------------------===//

#include "lib/runtime/ThreadPool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sched.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KILN_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define KILN_PAUSE() __asm__ __volatile__("yield")
#else
#define KILN_PAUSE() ((void)0)
#endif

namespace kiln::runtime {

namespace {
uint32_t generationOf(uint64_t word) { return (uint32_t)(word >> 32); }
uint32_t indexOf(uint64_t word) { return (uint32_t)word; }

/// About 50 microseconds of pause instructions: longer than the gap
/// between two dispatches of one run, far shorter than a run.
constexpr int kSpins = 1 << 12;

/// A job shorter than this runs on the caller: sharing it costs more.
constexpr double kInlineNs = 16'000;
/// The caller waited this long for chunks others still held (and much
/// longer than a chunk takes): a worker was preempted.
constexpr int64_t kStragglerNs = 50'000;
constexpr int64_t kFirstBackoffNs = 2'000'000, kMaxBackoffNs = 256'000'000;
/// Jobs shorter than this may find sharing not worth it on their own.
constexpr double kShortJobNs = 200'000;
constexpr int64_t kMaxJobBackoffNs = 32'000'000;

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
} // namespace

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

uint64_t ThreadPool::runChunks(uint32_t generation) {
  // The job's fields were written before its generation was published
  // (release), and stay until a later job reuses the slot, which needs
  // this one finished: every claim below re-checks the generation.
  const Job &job = jobs[generation & 1];
  constexpr auto relaxed = std::memory_order_relaxed;
  RangeFn fn = job.fn.load(relaxed);
  void *ctx = job.ctx.load(relaxed);
  uint64_t total = job.total.load(relaxed), chunk = job.chunk.load(relaxed);
  uint32_t chunks = job.chunks.load(relaxed);
  uint64_t word = claim.load(std::memory_order_acquire), ran = 0;
  for (;;) {
    if (generationOf(word) != generation || indexOf(word) >= chunks)
      return ran;
    if (!claim.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel,
                                     std::memory_order_acquire))
      continue;
    uint64_t first = indexOf(word) * chunk;
    uint64_t last = first + chunk < total ? first + chunk : total;
    fn(ctx, first, last);
    ran += last - first;
    if (pending.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        callerWaits.load(std::memory_order_seq_cst)) {
      std::lock_guard<std::mutex> lock(mutex);
      finished.notify_one();
    }
    word = claim.load(std::memory_order_acquire);
  }
}

void ThreadPool::workerLoop() {
  uint32_t seen = 0;
  for (;;) {
    uint64_t word = claim.load(std::memory_order_acquire);
    for (int i = 0; i < kSpins && generationOf(word) == seen; ++i) {
      KILN_PAUSE();
      word = claim.load(std::memory_order_acquire);
    }
    if (generationOf(word) == seen) {
      std::unique_lock<std::mutex> lock(mutex);
      sleepers.fetch_add(1, std::memory_order_seq_cst);
      wake.wait(lock, [&] {
        return stopping || generationOf(claim.load(std::memory_order_seq_cst)) != seen;
      });
      sleepers.fetch_sub(1, std::memory_order_relaxed);
      if (stopping)
        return;
      word = claim.load(std::memory_order_acquire);
    }
    seen = generationOf(word);
    runChunks(seen);
  }
}

void ThreadPool::parallelFor(uint64_t n, RangeFn f, void *c, WorkEstimate *estimate) {
  if (n == 0)
    return;
  int64_t start = nowNs();
  bool small = estimate && estimate->nsPerItem >= 0 && estimate->nsPerItem * n < kInlineNs;
  if (workers.empty() || n == 1 || small || start < inlineUntilNs ||
      (estimate && start < estimate->inlineUntilNs)) {
    f(c, 0, n);
    if (estimate)
      estimate->nsPerItem = double(nowNs() - start) / double(n);
    return;
  }
  // Only this thread publishes jobs, so it knows the current generation.
  uint32_t generation = generationOf(claim.load(std::memory_order_relaxed)) + 1;
  Job &job = jobs[generation & 1];
  // Several chunks per thread: whoever is running takes the next one, so a
  // thread the OS runs late (or never) leaves its share to the others.
  uint64_t parts = 8 * (uint64_t)size();
  uint64_t chunk = n > parts ? (n + parts - 1) / parts : 1;
  uint32_t chunks = (uint32_t)((n + chunk - 1) / chunk);
  constexpr auto relaxed = std::memory_order_relaxed;
  job.fn.store(f, relaxed);
  job.ctx.store(c, relaxed);
  job.total.store(n, relaxed);
  job.chunk.store(chunk, relaxed);
  job.chunks.store(chunks, relaxed);
  pending.store(chunks, relaxed);
  claim.store((uint64_t)generation << 32, std::memory_order_seq_cst);
  if (sleepers.load(std::memory_order_seq_cst) != 0) {
    { std::lock_guard<std::mutex> lock(mutex); }
    wake.notify_all();
  }
  uint64_t mine = runChunks(generation);
  int64_t ownDone = nowNs();
  if (estimate && mine)
    estimate->nsPerItem = double(ownDone - start) / double(mine);
  // Every chunk is claimed: wait only for the ones still running.
  for (int i = 0; i < kSpins && pending.load(std::memory_order_acquire) != 0; ++i)
    KILN_PAUSE();
  if (pending.load(std::memory_order_acquire) != 0) {
    callerWaits.store(true, std::memory_order_seq_cst);
    {
      std::unique_lock<std::mutex> lock(mutex);
      finished.wait(lock, [&] { return pending.load(std::memory_order_seq_cst) == 0; });
    }
    callerWaits.store(false, std::memory_order_relaxed);
  }
  // A long wait for others' chunks: a worker lost its core, the machine
  // is busy. Run everything on the caller for a while.
  int64_t end = nowNs(), waited = end - ownDone;
  double chunkNs = estimate && estimate->nsPerItem > 0 ? estimate->nsPerItem * chunk : 0;
  // The machine-wide back-off doubles with each straggler and decays by a
  // tenth with each shared job that goes well: on a machine that stays
  // busy, the lucky runs between stragglers must not bring them back every
  // few milliseconds; on an idle one it is gone within a run or two.
  if (waited > kStragglerNs && waited > 4 * chunkNs) {
    backoffNs = std::clamp<int64_t>(2 * backoffNs, kFirstBackoffNs, kMaxBackoffNs);
    inlineUntilNs = end + backoffNs;
  } else {
    backoffNs = backoffNs < kFirstBackoffNs ? 0 : backoffNs * 9 / 10;
  }
  // A short job whose sharing was no faster than the caller alone (the
  // hand-off costs what it saves): inline for a while, briefly, since a
  // busy moment of the machine looks the same.
  if (estimate) {
    double alone = estimate->nsPerItem > 0 ? estimate->nsPerItem * n : 0;
    if (alone > 0 && alone < kShortJobNs && double(end - start) > 0.9 * alone) {
      estimate->backoffNs =
          std::clamp<int64_t>(2 * estimate->backoffNs, kFirstBackoffNs, kMaxJobBackoffNs);
      estimate->inlineUntilNs = end + estimate->backoffNs;
    } else {
      estimate->backoffNs = 0;
    }
  }
}

/// The cgroup's CPU quota in CPUs (rounded up), or 0 when unlimited/unknown:
/// cgroup v2 `cpu.max` ("max 100000" or "200000 100000"), else v1's
/// cfs quota and period.
static unsigned cgroupCpuQuota() {
  // Reads up to `count` numbers; "max" (no limit) reads none.
  auto numbers = [](const char *path, long long *out, int count) {
    FILE *f = std::fopen(path, "r");
    if (!f)
      return 0;
    int got = 0;
    while (got < count && std::fscanf(f, "%lld", &out[got]) == 1)
      ++got;
    std::fclose(f);
    return got;
  };
  long long v2[2], quota[1], period[1];
  if (numbers("/sys/fs/cgroup/cpu.max", v2, 2) == 2 && v2[0] > 0 && v2[1] > 0)
    return (unsigned)((v2[0] + v2[1] - 1) / v2[1]);
  if (numbers("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", quota, 1) == 1 &&
      numbers("/sys/fs/cgroup/cpu/cpu.cfs_period_us", period, 1) == 1 && quota[0] > 0 &&
      period[0] > 0)
    return (unsigned)((quota[0] + period[0] - 1) / period[0]);
  return 0;
}

unsigned availableCpus() {
  unsigned n = 0;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    n = (unsigned)CPU_COUNT(&set);
  if (n == 0)
    n = std::thread::hardware_concurrency();
  if (unsigned quota = cgroupCpuQuota(); quota && quota < n)
    n = quota;
  return n ? n : 1;
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
  return availableCpus();
}

} // namespace kiln::runtime

//===- ThreadPoolTest.cpp - the CPU device's workers -----------------------===//
//
// Every item runs exactly once whatever the workers do: more threads than
// cores (workers the OS runs late claim nothing or claim from the right
// job only), jobs back to back, and the small-job and back-off paths.

#include "lib/runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

using kiln::runtime::ThreadPool;
using kiln::runtime::WorkEstimate;

namespace {

struct Counts {
  std::vector<std::atomic<int>> hits;
  explicit Counts(size_t n) : hits(n) {}
  static void run(void *ctx, uint64_t first, uint64_t last) {
    auto *c = static_cast<Counts *>(ctx);
    for (uint64_t i = first; i < last; ++i)
      c->hits[i].fetch_add(1, std::memory_order_relaxed);
  }
};

TEST(ThreadPool, EveryItemOnceUnderOversubscription) {
  ThreadPool pool(8); // more threads than this machine's cores
  for (uint64_t n : {1u, 2u, 3u, 7u, 64u, 1000u, 4097u}) {
    for (int round = 0; round < 200; ++round) {
      Counts c(n);
      pool.parallelFor(n, &Counts::run, &c);
      for (uint64_t i = 0; i < n; ++i)
        ASSERT_EQ(c.hits[i].load(), 1) << "n=" << n << " item " << i << " round " << round;
    }
  }
}

TEST(ThreadPool, EstimatesKeepSmallJobsInline) {
  ThreadPool pool(4);
  WorkEstimate tiny, big;
  std::atomic<uint64_t> sum{0};
  struct Sum {
    std::atomic<uint64_t> *sum;
    int spin;
    static void run(void *ctx, uint64_t first, uint64_t last) {
      auto *s = static_cast<Sum *>(ctx);
      for (uint64_t i = first; i < last; ++i) {
        volatile int x = 0;
        for (int k = 0; k < s->spin; ++k)
          x = x + k;
        s->sum->fetch_add(i, std::memory_order_relaxed);
      }
    }
  };
  Sum small{&sum, 0}, large{&sum, 20000};
  for (int round = 0; round < 50; ++round) {
    sum = 0;
    pool.parallelFor(16, &Sum::run, &small, &tiny);
    EXPECT_EQ(sum.load(), 120u);
    sum = 0;
    pool.parallelFor(64, &Sum::run, &large, &big);
    EXPECT_EQ(sum.load(), 64u * 63u / 2);
  }
  // The tiny job's items were timed (on the caller) and found small.
  EXPECT_GE(tiny.nsPerItem, 0.0);
  EXPECT_LT(tiny.nsPerItem * 16, 16'000.0);
  EXPECT_GT(big.nsPerItem, 0.0);
}

TEST(ThreadPool, DefaultThreadsFollowAffinity) {
  unsigned n = kiln::runtime::availableCpus();
  EXPECT_GE(n, 1u);
  EXPECT_LE(n, std::thread::hardware_concurrency() ? std::thread::hardware_concurrency() : n);
}

} // namespace

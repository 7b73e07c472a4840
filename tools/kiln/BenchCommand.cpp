//===- BenchCommand.cpp - kiln bench --------------------------------------===//
//
// Times kiln_session_run: warm-up runs, then timed iterations; prints min /
// median / p90 latency and, when the artifact knows its FLOP count, GFLOP/s
// at the median. Inputs come from files or are synthesized from the
// model's signature (the timing does not depend on values for these
// kernels). --json prints one machine-readable line for bench/ scripts.
//
//===----------------------------------------------------------------------===//

#include "tools/kiln/Commands.h"
#include "tools/kiln/Inputs.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>

namespace cl = llvm::cl;

namespace kiln::cli {

cl::SubCommand benchCommand("bench", "Time a compiled .kiln artifact");

static cl::opt<std::string> artifactPath(cl::Positional, cl::desc("ART.kiln"),
                                         cl::Required, cl::sub(benchCommand));
static cl::list<std::string> inputFiles(
    "input", cl::desc("[NAME=]FILE.npy|FILE.pb (default: synthetic inputs)"),
    cl::sub(benchCommand));
static cl::opt<unsigned> warmup("warmup", cl::desc("Untimed runs first"), cl::init(3),
                                cl::sub(benchCommand));
static cl::opt<unsigned> iterations("iterations", cl::desc("Timed runs"), cl::init(20),
                                    cl::sub(benchCommand));
static cl::opt<bool> json("json", cl::desc("Print one JSON line"), cl::sub(benchCommand));
static cl::opt<std::string> device("device", cl::desc("cpu or cuda"), cl::init("cpu"),
                                   cl::sub(benchCommand));
static cl::list<std::string>
    dimSpecs("dim",
             cl::desc("Size of a named dynamic dim in the synthetic inputs (repeatable)"),
             cl::value_desc("NAME=N"), cl::sub(benchCommand));

int runBench() {
  if (iterations == 0) {
    llvm::errs() << "kiln: error: --iterations must be at least 1\n";
    return kUsage;
  }
  std::map<std::string, int64_t> dims;
  for (const std::string &spec : dimSpecs) {
    size_t eq = spec.find('=');
    long long n = 0;
    if (eq == std::string::npos || eq == 0 ||
        llvm::StringRef(spec).substr(eq + 1).getAsInteger(10, n) || n < 0) {
      llvm::errs() << "kiln: error: --dim takes NAME=N with N >= 0, got '" << spec << "'\n";
      return kUsage;
    }
    dims[spec.substr(0, eq)] = n;
  }
  HostSession host;
  if (int code = host.open(artifactPath, inputFiles, device, /*synthesize=*/true, dims))
    return code;
  auto runOnce = [&] { return host.run(); };
  std::vector<double> ms;
  for (unsigned i = 0; i < warmup + iterations; ++i) {
    auto start = std::chrono::steady_clock::now();
    if (runOnce() != KILN_OK) {
      llvm::errs() << "kiln: error: " << kiln_last_error() << "\n";
      return kBadInput;
    }
    if (i >= warmup)
      ms.push_back(std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - start)
                       .count());
  }
  std::sort(ms.begin(), ms.end());
  double min = ms.front(), median = ms[ms.size() / 2],
         p90 = ms[std::min(ms.size() - 1, (size_t)(0.9 * ms.size()))];
  uint64_t flops = kiln_model_flops(host.model);
  double gflops = flops ? flops / (median * 1e6) : 0;
  auto &os = llvm::outs();
  if (json) {
    os << llvm::format("{\"iterations\": %u, \"min_ms\": %.4f, \"median_ms\": %.4f, "
                       "\"p90_ms\": %.4f, \"flops\": %llu, \"gflops\": %.2f}\n",
                       (unsigned)iterations, min, median, p90, (unsigned long long)flops,
                       gflops);
    return kOk;
  }
  os << llvm::format("%s: %u iterations (%u warm-up)\n", artifactPath.c_str(),
                     (unsigned)iterations, (unsigned)warmup);
  os << llvm::format("  min %.3f ms   median %.3f ms   p90 %.3f ms\n", min, median, p90);
  if (flops)
    os << llvm::format("  %.1f GFLOP/s at the median (%.3g FLOP per run)\n", gflops,
                       (double)flops);
  return kOk;
}

} // namespace kiln::cli

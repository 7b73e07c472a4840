//===- CpuPipeline.cpp - kiln tensors to the LLVM dialect on the CPU -------===//
//
// The generic CPU code-generation path, all upstream MLIR after
// kiln-to-linalg: elementwise fusion, one-shot bufferization, loops, and
// the LLVM conversions. Tiling, vectorization and the matmul micro-kernel
// strategy are the next steps of targets/cpu; this pipeline is the
// reference they are checked against.
//
//===----------------------------------------------------------------------===//

#include "passes/Pipelines/Pipelines.h"

#include "passes/Conversion/Passes.h"
#include "passes/Fusion/Passes.h"

#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

/// Textual pipelines, so `kiln-opt --pass-pipeline` replays them verbatim.
/// kiln on tensors to bufferized linalg; shared with the GPU targets.
static constexpr llvm::StringLiteral kToLinalg =
    "kiln-to-linalg{strict},kiln-fuse-elementwise),";
static constexpr llvm::StringLiteral kBufferize =
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},";

/// The kernel ABI: results become out-parameters (one each, even for a
/// value returned twice) and every (static) memref is passed as a bare
/// pointer, so the entry is `main(T *in..., T *out...)`.
static constexpr llvm::StringLiteral kOutParams =
    "func.func(kiln-distinct-results),"
    "buffer-results-to-out-params{hoist-static-allocs modify-public-functions},";

static constexpr llvm::StringLiteral kDeallocate =
    "func.func(buffer-deallocation-pipeline,kiln-copies-to-linalg,kiln-approximate-math,";

static constexpr llvm::StringLiteral kLoopsToLLVM =
    "func.func(kiln-expand-bf16),"
    "expand-strided-metadata,lower-affine,convert-scf-to-cf,convert-vector-to-llvm,"
    "convert-math-to-funcs,convert-math-to-llvm,convert-math-to-libm,convert-arith-to-llvm,"
    "convert-cf-to-llvm,convert-index-to-llvm,finalize-memref-to-llvm,";

void kiln::registerPassesForTextualPipelines() {
  // Every process that parses a textual pipeline (kiln, not only kiln-opt)
  // needs the passes it names registered; once is enough.
  static bool registered = [] {
    registerAllPasses();
    registerKilnConversionPasses();
    registerKilnFusionPasses();
    return true;
  }();
  (void)registered;
}

std::string kiln::tensorsToBuffersPipeline(bool outParams, llvm::StringRef tensorPasses) {
  // The kernel ABI's out-parameters hide result shapes: dynamic ones are
  // returned as sizes first (kiln-return-result-dims).
  return ("func.func(" + tensorPasses + kToLinalg +
          (outParams ? "func.func(kiln-return-result-dims)," : "") + kBufferize +
          (outParams ? kOutParams : ""))
      .str();
}

LogicalResult kiln::buildCpuLoweringPipeline(OpPassManager &pm,
                                             const CpuLoweringOptions &options) {
  registerPassesForTextualPipelines();
  bool kernelAbi = options.kernelAbi;
  std::string pipeline =
      tensorsToBuffersPipeline(kernelAbi, options.tensorPasses) + kDeallocate.str() + options.bufferPasses +
      (options.loopPasses.empty() ? "convert-linalg-to-loops)," : "convert-linalg-to-parallel-loops),") +
      options.loopPasses + kLoopsToLLVM.str() +
      (kernelAbi ? "convert-func-to-llvm{use-bare-ptr-memref-call-conv},"
                 : "convert-func-to-llvm,") +
      "reconcile-unrealized-casts";
  return parsePassPipeline(pipeline, pm);
}

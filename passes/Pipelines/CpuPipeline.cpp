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

#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

/// Kept as one textual pipeline so `kiln-opt --pass-pipeline` replays it
/// verbatim.
static constexpr llvm::StringLiteral kCpuLowering =
    "func.func(kiln-to-linalg{strict},linalg-fuse-elementwise-ops),"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "func.func(buffer-deallocation-pipeline,kiln-copies-to-linalg,convert-linalg-to-loops),"
    "lower-affine,expand-strided-metadata,convert-scf-to-cf,"
    "convert-math-to-funcs,convert-math-to-llvm,convert-math-to-libm,convert-arith-to-llvm,"
    "convert-cf-to-llvm,convert-index-to-llvm,finalize-memref-to-llvm,"
    "convert-func-to-llvm,reconcile-unrealized-casts";

/// The kernel ABI: results become out-parameters and every (static) memref
/// is passed as a bare pointer, so the entry is `main(T *in..., T *out...)`.
static constexpr llvm::StringLiteral kCpuKernelAbi =
    "func.func(kiln-to-linalg{strict},linalg-fuse-elementwise-ops),"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-results-to-out-params{hoist-static-allocs modify-public-functions},"
    "func.func(buffer-deallocation-pipeline,kiln-copies-to-linalg,convert-linalg-to-loops),"
    "lower-affine,expand-strided-metadata,convert-scf-to-cf,"
    "convert-math-to-funcs,convert-math-to-llvm,convert-math-to-libm,convert-arith-to-llvm,"
    "convert-cf-to-llvm,convert-index-to-llvm,finalize-memref-to-llvm,"
    "convert-func-to-llvm{use-bare-ptr-memref-call-conv},"
    "reconcile-unrealized-casts";

LogicalResult kiln::buildCpuLoweringPipeline(OpPassManager &pm, bool kernelAbi) {
  // The textual pipeline names passes; make sure every process that builds
  // it (kiln, not only kiln-opt) has them registered.
  static bool registered = [] {
    registerAllPasses();
    registerKilnConversionPasses();
    return true;
  }();
  (void)registered;
  return parsePassPipeline(kernelAbi ? kCpuKernelAbi : kCpuLowering, pm);
}

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

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

/// Kept as one textual pipeline so `kiln-opt --pass-pipeline` replays it
/// verbatim.
static constexpr llvm::StringLiteral kCpuLowering =
    "func.func(kiln-to-linalg{strict},linalg-fuse-elementwise-ops),"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "func.func(buffer-deallocation-pipeline,convert-linalg-to-loops),"
    "lower-affine,expand-strided-metadata,convert-scf-to-cf,"
    "convert-math-to-llvm,convert-math-to-libm,convert-arith-to-llvm,"
    "convert-cf-to-llvm,convert-index-to-llvm,finalize-memref-to-llvm,"
    "convert-func-to-llvm,reconcile-unrealized-casts";

LogicalResult kiln::buildCpuLoweringPipeline(OpPassManager &pm) {
  return parsePassPipeline(kCpuLowering, pm);
}

//===- Pipelines.h - named pass pipelines -------------------------*- C++ -*-===//
//
// The CLI and kiln-opt build the same pipelines through these functions, so
// any `kiln compile` can be replayed with `kiln-opt --pass-pipeline=...`.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_PIPELINES_PIPELINES_H
#define KILN_PASSES_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <string>

namespace kiln {

struct GraphPipelineOptions
    : public mlir::PassPipelineOptions<GraphPipelineOptions> {
  ListOption<std::string> inputShapes{
      *this, "input-shapes",
      llvm::cl::desc("NAME=D0xD1x... to specialize dynamic input dims")};
  Option<bool> fusion{
      *this, "fusion",
      llvm::cl::desc("Raise attention, MoE, norms, ... into fused ops (kiln-fuse)"),
      llvm::cl::init(true)};
  Option<bool> fusionReport{
      *this, "fusion-report",
      llvm::cl::desc("Remark on each fusion and each near miss (kiln compile --verbose)"),
      llvm::cl::init(false)};
  Option<int64_t> quantizeBits{
      *this, "quantize-bits",
      llvm::cl::desc("Block-quantize the weights of products to 8 or 4 bits (0: off)"),
      llvm::cl::init(0)};
  Option<bool> quantizeFloat8{
      *this, "quantize-float8",
      llvm::cl::desc("With quantize-bits=8: FP8 e4m3 codes, square block scales"),
      llvm::cl::init(false)};
  Option<int64_t> quantizeGroupSize{
      *this, "quantize-group-size",
      llvm::cl::desc("Rows of K sharing one scale when quantizing weights"),
      llvm::cl::init(128)};
  Option<int64_t> maxContext{
      *this, "max-context",
      llvm::cl::desc("Keep KV caches in the session, this many entries each (0: off)"),
      llvm::cl::init(0)};
};

/// Graph-level passes on imported kiln IR: input specialization, sequence
/// resolution, shape inference, canonicalization, CSE, then fusion (raising
/// exporter subgraphs into fused ops) and another cleanup, then, when asked,
/// weight quantization.
void buildGraphPipeline(mlir::OpPassManager &pm,
                        const GraphPipelineOptions &options);

struct CpuLoweringOptions {
  /// Results become out-parameters and static memrefs bare pointers:
  /// @main(T *inputs..., T *outputs...) as a kernel entry is called.
  bool kernelAbi = false;
  /// Function passes (comma-terminated) a target runs on kiln tensors
  /// before the generic kiln-to-linalg: its fused kernels (the CPU
  /// target's flash attention), say.
  std::string tensorPasses;
  /// Function passes (comma-terminated, registered by the caller) a target
  /// runs on bufferized linalg before the generic loops: the CPU target's
  /// matmul micro-kernel, say.
  std::string bufferPasses;
  /// Module passes (comma-terminated) run on the loops before the LLVM
  /// conversions; when set, parallel linalg dimensions become scf.parallel
  /// (the CPU target's dispatch partitioning reads them as grids).
  std::string loopPasses;
};

/// Lowers kiln ops on tensors to the LLVM dialect for the host CPU
/// (kiln-to-linalg, bufferization, loops, LLVM conversions).
llvm::LogicalResult buildCpuLoweringPipeline(mlir::OpPassManager &pm,
                                             const CpuLoweringOptions &options = {});

/// Registers every pass a textual pipeline may name (idempotent).
void registerPassesForTextualPipelines();

/// The textual pipeline from kiln ops on tensors to bufferized linalg
/// (with `outParams`, results become out-parameters), ending in a comma:
/// the common front of every target's lowering. `tensorPasses`
/// (comma-terminated function passes) run first, on kiln tensors.
std::string tensorsToBuffersPipeline(bool outParams, llvm::StringRef tensorPasses = "");

/// Registers `kiln-graph-pipeline` and `kiln-cpu-lowering-pipeline`.
void registerPipelines();

} // namespace kiln

#endif // KILN_PASSES_PIPELINES_PIPELINES_H

//===- Compiler.h - from graph IR to kernels, weights and a signature -*- C++ -*-===//
//
// The step between the graph passes and the targets: the model's @main is
// checked for what the kernel ABI supports (static shapes), its kiln.weight
// ops become extra arguments (after the inputs) bound to weight bytes the
// artifact will carry, and every requested target compiles a copy.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_COMPILER_COMPILER_H
#define KILN_LIB_COMPILER_COMPILER_H

#include "lib/compiler/BlockQuantization.h"
#include "lib/compiler/HostSteps.h"
#include "lib/compiler/WeightViews.h"
#include "targets/Target.h"

#include "mlir/IR/BuiltinOps.h"

#include <optional>
#include <string>
#include <vector>

namespace kiln::compiler {

struct TensorSignature {
  std::string name;
  mlir::Type elementType;
  std::vector<int64_t> shape; // -1: dynamic
  /// Dynamic dims: per dim, the dims-vector entry holding its size (-1:
  /// static) and its name (ONNX dim_param; "" when unnamed). Inputs that
  /// share a name share an entry. Empty when the shape is static.
  std::vector<int64_t> dims;
  std::vector<std::string> dimNames;
  /// Inputs: the largest size each dim may take at run time (--max-shape;
  /// -1: unbounded). Empty when none is declared.
  std::vector<int64_t> maxShape;
};

/// Weight argument `name` is the bytes of `slices` back to back: one slice
/// of a model file, or several when code generation packed weights the
/// graph concatenates (a MoE layer's stacked experts).
struct WeightBinding {
  struct Slice {
    std::string file;
    uint64_t offset = 0, size = 0;
  };
  std::string name;
  std::vector<Slice> slices;
  /// When set, the argument is this strided view of the slices' elements
  /// (a transpose or slice of a weight done at compile time).
  std::optional<WeightView> view;
  /// When set, the argument is the codes or scales of the view (an f32
  /// [K, N] weight) block-quantized.
  std::optional<BlockQuantization> quantize;
};

/// A KV cache the session keeps (kiln-session-state): input `cache` is its
/// buffer (capacity: its dim `axis`), input `lengthInput` carries the
/// entries it holds in that dim, output `lengthOutput` returns the count
/// after a run. `name` is the past input's, `present` the output's the
/// cache replaced.
struct SessionState {
  uint32_t cache, lengthInput, lengthOutput, axis;
  std::string name, present;
};

struct CompiledModel {
  std::vector<TensorSignature> inputs, outputs;
  std::vector<SessionState> states;
  /// Dims-vector entries the inputs' dynamic dims fill (0: static model).
  int64_t symbols = 0;
  std::vector<WeightBinding> weights;
  std::vector<target::KernelBlob> kernels;
  /// String ops the runtime runs itself, and which inputs/outputs the
  /// kernels' arguments/results are.
  HostPlan host;
  /// Multiply-adds x 2 of the contractions and convolutions (what `kiln
  /// bench` divides by time); other ops are not counted.
  uint64_t flops = 0;
};

/// Freezes inputs of @main to values: each named argument becomes a
/// constant (and disappears from the signature), so shapes computed from it
/// become static. The value's type must equal the argument's, except that a
/// dynamic dimension takes the value's extent. Errors name the input.
mlir::LogicalResult
bindInputValues(mlir::ModuleOp module,
                llvm::ArrayRef<std::pair<std::string, mlir::DenseElementsAttr>> values);

struct PrepareOptions {
  /// Run f16/bf16 kiln.attention and kiln.moe in f32 (some target's fused
  /// kernels take f32 only): activations are cast around the op, weights
  /// converted when the artifact is written.
  bool widenHalfFusedOps = false;
};

/// Rewrites @main for code generation (string ops out to host steps,
/// weights to arguments) and records its signature. Errors are diagnostics at the argument or op.
mlir::LogicalResult prepareForCodegen(mlir::ModuleOp module, CompiledModel &model,
                                      const PrepareOptions &options = {});

/// Compiles a copy of `module` for each target into `model.kernels` (none
/// when @main has nothing left to compute: a model of host steps only).
mlir::LogicalResult compileKernels(mlir::ModuleOp module,
                                   llvm::ArrayRef<target::Target *> targets,
                                   CompiledModel &model,
                                   const target::CompileOptions &options = {});

} // namespace kiln::compiler

#endif // KILN_LIB_COMPILER_COMPILER_H

//===- Target.h - the interface every code-generation target implements --*- C++ -*-===//
//
// A target turns the codegen-ready module (kiln ops on static tensors, entry
// @main taking inputs then weights, returning outputs) into one kernel blob
// the runtime can load, and says how to call it. Targets describe what they
// can do as data (TargetCapabilities) so shared code never asks "is this
// CUDA?". The registry maps a --target spec ("cpu", "cpu:x86-64-v3",
// "cuda:sm_90") to a target.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TARGETS_TARGET_H
#define KILN_TARGETS_TARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace kiln::target {

/// What a target offers, as data.
struct TargetCapabilities {
  std::string arch;        // "x86_64", "sm_90"
  std::string cpu;         // LLVM CPU name ("znver3", "x86-64-v3")
  unsigned vectorBits = 0; // widest SIMD register
  unsigned vectorRegisters = 0; // architectural SIMD registers of that width
  bool hasFma = false;
  /// GPUs: threads that run in lockstep (a warp), and the most threads one
  /// workgroup (block) may have. 0 on CPUs.
  unsigned subgroupSize = 0;
  unsigned maxWorkgroupThreads = 0;
  /// Whether the fused kernels (attention, MoE) take f16/bf16 operands. When
  /// a target does not, the compiler runs those ops in f32 for it: half
  /// activations are widened on the fly, half weights once, when the
  /// artifact is written, except a MoE's expert weights, which stay half
  /// (the CPU's expert products widen them as they read them).
  bool fusedHalfPrecision = false;
};

/// A buffer a dispatch is given: argument `value` of the model's entry
/// (inputs, then weights, then outputs), the arena at byte offset `value`,
/// arena slot `value` (placed at run time: dynamic dims) or the dims vector.
struct DispatchBinding {
  enum Kind { Argument, Arena, Slot, Dims } kind;
  uint64_t value;
  /// Bytes the kernel may touch through it (checked on load).
  uint64_t bytes = 0;
};

/// One step of the host plan: `entry(void **bindings, int64_t first,
/// int64_t last)` runs workgroups [first, last) of `workgroups`; the
/// runtime splits the range over its threads.
struct DispatchInfo {
  std::string entry;
  uint64_t workgroups = 1;
  /// Dynamic dims: the dims-vector entry holding the workgroup count (-1:
  /// `workgroups`).
  int64_t workgroupsEntry = -1;
  std::vector<DispatchBinding> bindings;
};

/// One parameter of a GPU launch: a scalar (its bits) or a buffer of static
/// row-major `shape`, passed as a bare pointer (16-byte aligned).
struct LaunchArg {
  enum Kind { Scalar, Buffer } kind = Scalar;
  uint64_t bits = 0;
  unsigned bytes = 0;
  DispatchBinding buffer{DispatchBinding::Argument, 0};
  std::vector<int64_t> shape;
};

/// One step of a GPU target's own plan: kernel `entry` on grid x block.
struct GpuLaunch {
  std::string entry;
  uint32_t grid[3] = {1, 1, 1}, block[3] = {1, 1, 1};
  std::vector<LaunchArg> args;
};

/// One compiled kernel: the bytes, how to call them, and (for targets that
/// plan) the dispatches in order with the arena they share; a GPU target
/// plans launches instead.
struct KernelBlob {
  std::string target; // the spec it was compiled for, e.g. "cpu:znver3"
  std::string format; // "elf-shared-object", "ptx"
  std::string entry;  // the first entry symbol
  std::vector<char> data;
  std::vector<DispatchInfo> dispatches;
  std::vector<GpuLaunch> launches;
  uint64_t arenaBytes = 0;        // intermediates placed by liveness
  uint64_t intermediateBytes = 0; // what they would take unshared
  /// Dynamic dims (empty `shapeEntry`: static): `void shapeEntry(int64_t
  /// *dims)` fills a dims vector of `dimsLength` entries from the input
  /// dims in front; `outputDims` give each kernel output's dim entries (-1:
  /// static); `slots` the arena's intermediates, placed per run; `checks`
  /// what the inputs' dims must satisfy.
  struct Slot {
    int64_t bytesEntry, first, last;
  };
  std::string shapeEntry;
  int64_t dimsLength = 0;
  std::vector<std::vector<int64_t>> outputDims;
  std::vector<Slot> slots;
  /// Checks the shape function makes (manifest ShapeCheck).
  struct ShapeCheck {
    int64_t ok, lhs, rhs;
    std::string message;
    std::vector<int64_t> dataEntries; // the data dims it depends on
  };
  std::vector<ShapeCheck> checks;
  /// Inputs whose values the runtime copies into the dims vector before
  /// the shape function runs (kernel argument, first entry, count).
  struct InputValues {
    int64_t arg, entry, count;
  };
  std::vector<InputValues> inputValues;
  /// Sizes only the data decides: the dims-vector entry and the dispatch
  /// that stores it (manifest DataDim).
  struct DataDim {
    int64_t entry, dispatch;
  };
  std::vector<DataDim> dataDims;
};

enum class Emit { Blob, LLVMIR, Assembly };

struct CompileOptions {
  Emit emit = Emit::Blob;
  /// Textual LLVM IR or assembly when `emit` asks for it.
  std::string *text = nullptr;
  /// Explain code-generation decisions on stderr (kiln compile --verbose).
  bool verbose = false;
};

class Target {
public:
  virtual ~Target() = default;
  virtual llvm::StringRef spec() const = 0;
  virtual const TargetCapabilities &capabilities() const = 0;
  /// Lowers `module` (consumed) and serializes it; errors are emitted as
  /// MLIR diagnostics at the offending op.
  virtual mlir::FailureOr<KernelBlob> compile(mlir::ModuleOp module,
                                              const CompileOptions &options) = 0;
};

using TargetFactory = std::function<std::unique_ptr<Target>(
    llvm::StringRef variant, std::string &error)>;

/// Registers a target kind ("cpu") with a factory taking the variant after
/// the colon ("" or "x86-64-v3").
void registerTarget(llvm::StringRef kind, TargetFactory factory);
/// The target for `spec`, or null with `error` set.
std::unique_ptr<Target> createTarget(llvm::StringRef spec, std::string &error);
/// Registers the built-in targets (idempotent).
void registerBuiltinTargets();

} // namespace kiln::target

#endif // KILN_TARGETS_TARGET_H

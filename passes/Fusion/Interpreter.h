//===- Interpreter.h - kiln ops evaluated on concrete tensors ----*- C++ -*-===//
//
// A reference interpreter for the kiln ops exporters build MoE layers and
// masks from (matmuls, gathers and scatters, NonZero, TopK, elementwise
// math, views) and for the fused ops themselves. Fusion uses it to prove a
// candidate fused op equal to the subgraph it replaces by evaluating both
// on random inputs at compile time (MoeByEvaluation.cpp): a form no pattern
// was written for can still be raised, and a look-alike cannot.
//
// Values are doubles (integers and bools exact up to 2^53); casts between
// float types are exact math (no rounding), so the two sides of a proof
// agree to ~1e-12 when they compute the same function. Shapes are concrete:
// data-dependent ops (NonZero) produce whatever the data gives.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_FUSION_INTERPRETER_H
#define KILN_PASSES_FUSION_INTERPRETER_H

#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kiln::fusion {

/// A concrete row-major tensor.
struct HostTensor {
  llvm::SmallVector<int64_t, 4> shape;
  std::vector<double> data;

  HostTensor() = default;
  explicit HostTensor(llvm::ArrayRef<int64_t> shape, double fill = 0.0);
  int64_t rank() const { return (int64_t)shape.size(); }
  int64_t numElements() const { return (int64_t)data.size(); }
};

/// One element of a weight file or constant as a double: `p` points at its
/// little-endian bytes (`elt` is any int/float kiln stores; an i1 is a byte).
double decodeElement(mlir::Type elt, const char *p);

/// The options and operands of a kiln.moe, as concrete tensors.
struct MoeReference {
  ScoreFunc scoring = ScoreFunc::softmax;
  int64_t topK = 1, nGroup = 1, topkGroup = 1;
  bool normalize = false;
  double routedScaling = 1.0;
  Activation activation = Activation::silu;
  const HostTensor *router = nullptr;           // [H, E]
  const HostTensor *gate = nullptr, *up = nullptr; // [E, H, I]
  const HostTensor *down = nullptr;             // [E, I, H]
  const HostTensor *bias = nullptr;             // [E] or null
  const HostTensor *sharedGate = nullptr, *sharedUp = nullptr, *sharedDown = nullptr;
  const HostTensor *sharedExpertGate = nullptr; // [H, 1] or null
};
/// kiln.moe's semantics (the op's description) on `hidden` [..., H].
HostTensor evaluateMoe(const MoeReference &moe, const HostTensor &hidden);

/// Evaluates values on demand, memoized. Leaves must be bound values,
/// constants or weights; anything else (a model input not bound, an op it
/// does not know) fails with a reason.
class Interpreter {
public:
  /// Gives up once about this many multiply-adds / elements were computed.
  explicit Interpreter(uint64_t budget = 2'000'000'000ull) : budget(budget) {}

  void bind(mlir::Value v, HostTensor t) { values[v] = std::move(t); }
  /// Sizes of dims the bound values do not decide (a reshape target read
  /// from another model input's shape): `kiln.shape` of a model input not
  /// bound is taken from it, the dims it does not name unknown (an integer
  /// computed from one is an error).
  using DimResolver = std::function<std::optional<int64_t>(mlir::Value, int64_t)>;
  void setDimResolver(DimResolver r) { resolveDim = std::move(r); }
  /// The value of `v`, or null with `error()` saying why.
  const HostTensor *evaluate(mlir::Value v);
  const std::string &error() const { return why; }

private:
  mlir::LogicalResult evaluateOp(mlir::Operation *op);
  mlir::LogicalResult fail(mlir::Operation *op, const llvm::Twine &reason);
  const HostTensor &operand(mlir::Operation *op, unsigned i) {
    return values.find(op->getOperand(i))->second;
  }
  bool charge(uint64_t work);

  /// The shape of `v` from resolveDim, when it names every dim.
  std::optional<HostTensor> resolvedShape(mlir::Value v);

  llvm::DenseMap<mlir::Value, HostTensor> values;
  DimResolver resolveDim;
  bool unknownDims = false; // a resolved shape left a dim unknown (NaN)
  std::string why;
  uint64_t budget, spent = 0;
};

} // namespace kiln::fusion

#endif // KILN_PASSES_FUSION_INTERPRETER_H

//===- NodeImporter.h - what an op converter sees -----------------*- C++ -*-===//
//
// One ONNX node being converted: its inputs as MLIR values, typed attribute
// accessors with defaults, constant-value queries (for shape inputs), and
// the location every created op gets ("node_name"("OpType")).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_FRONTEND_ONNX_NODEIMPORTER_H
#define KILN_LIB_FRONTEND_ONNX_NODEIMPORTER_H

#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"
#include <optional>

namespace onnx {
class NodeProto;
class AttributeProto;
class TensorProto;
} // namespace onnx

namespace kiln::onnx_frontend {

class GraphImporter;

class NodeImporter {
public:
  NodeImporter(GraphImporter &graph, const onnx::NodeProto &node,
               int64_t opset, mlir::Location loc);

  const onnx::NodeProto &node;
  int64_t opset;
  mlir::Location loc;
  mlir::OpBuilder &b;

  llvm::StringRef opType() const;

  //===--- inputs and outputs ----------------------------------------------===//
  size_t numInputs() const;
  size_t numOutputs() const;
  /// Input `i`, or a null Value when it is absent or named "".
  mlir::Value input(size_t i) const;
  /// Input `i`, or an error that names it when it is missing.
  mlir::FailureOr<mlir::Value> required(size_t i) const;
  mlir::RankedTensorType inputType(size_t i) const;
  bool hasOutput(size_t i) const;
  /// The value an earlier node (or the graph) named `name`, or null.
  mlir::Value lookup(llvm::StringRef name) const;
  void setOutput(size_t i, mlir::Value v);
  /// The output type ONNX shape inference (or the file) gives, if any.
  mlir::RankedTensorType declaredOutputType(size_t i) const;

  //===--- attributes ------------------------------------------------------===//
  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  bool hasAttr(llvm::StringRef name) const { return attr(name) != nullptr; }
  int64_t attrInt(llvm::StringRef name, int64_t dflt) const;
  float attrFloat(llvm::StringRef name, float dflt) const;
  std::string attrString(llvm::StringRef name, llvm::StringRef dflt) const;
  std::optional<llvm::SmallVector<int64_t>> attrInts(llvm::StringRef name) const;
  std::optional<llvm::SmallVector<float>> attrFloats(llvm::StringRef name) const;
  std::optional<llvm::SmallVector<std::string>>
  attrStrings(llvm::StringRef name) const;
  /// A tensor attribute as a constant (inline data or external reference).
  mlir::FailureOr<mlir::Value> attrTensor(llvm::StringRef name);

  /// Imports the graph attribute `name` (an If branch, a Loop body) inline;
  /// see GraphImporter::importSubgraph.
  mlir::FailureOr<llvm::SmallVector<mlir::Value>>
  importSubgraph(llvm::StringRef name, mlir::ValueRange inputs);

  //===--- constants -------------------------------------------------------===//
  /// The integer values of `v` if it is a known constant.
  std::optional<llvm::SmallVector<int64_t>> constInts(mlir::Value v) const;
  std::optional<llvm::SmallVector<double>> constFloats(mlir::Value v) const;
  /// A constant of `type` holding `values` (converted to its element type).
  mlir::Value constant(mlir::RankedTensorType type, llvm::ArrayRef<double> values);
  mlir::Value splat(mlir::Type elementType, double value,
                    llvm::ArrayRef<int64_t> shape = {});
  mlir::Value i64s(llvm::ArrayRef<int64_t> values);

  //===--- helpers ---------------------------------------------------------===//
  /// Casts `v` to `elementType` unless it already has it.
  mlir::Value castTo(mlir::Value v, mlir::Type elementType);
  /// A reduction over constant axes.
  mlir::Value reduce(ReduceKind kind, mlir::Value v, llvm::ArrayRef<int64_t> axes,
                     bool keepdims);
  /// A slice with constant (start, end, step) per dimension.
  mlir::Value slice(mlir::Value v, llvm::ArrayRef<int64_t> starts,
                    llvm::ArrayRef<int64_t> ends, llvm::ArrayRef<int64_t> steps);
  /// Reshapes `v` to a static shape (folds when possible).
  mlir::Value reshape(mlir::Value v, llvm::ArrayRef<int64_t> shape);
  /// Emits an error at the node; always returns failure.
  mlir::LogicalResult error(const llvm::Twine &msg) const;
  /// An error naming a feature of this op that kiln does not handle yet.
  mlir::LogicalResult unsupported(const llvm::Twine &what) const;

  /// Creates a kiln op (without folding it); null when it failed. Result
  /// types are inferred here rather than in the ODS builder, which aborts
  /// the process on a shape error: an error is reported at the node
  /// instead, the node is marked failed and every later create() of this
  /// node returns null.
  template <typename OpTy, typename... Args>
  OpTy createOp(Args &&...args) {
    if (failedNode)
      return {};
    mlir::Operation *op;
    if constexpr (OpTy::template hasTrait<
                      mlir::InferTypeOpInterface::Trait>()) {
      mlir::OperationState state(loc, OpTy::getOperationName());
      OpTy::build(b, state, mlir::TypeRange{b.getNoneType()},
                  std::forward<Args>(args)...);
      llvm::SmallVector<mlir::Type> types;
      if (mlir::failed(OpTy::inferReturnTypes(
              b.getContext(), loc, state.operands,
              state.attributes.getDictionary(b.getContext()),
              state.getRawProperties(), state.regions, types))) {
        failedNode = true;
        return {};
      }
      state.types.assign(types.begin(), types.end());
      // Inference does not check ODS operand constraints; the verifier does.
      op = b.create(state);
    } else {
      op = OpTy::create(b, loc, std::forward<Args>(args)...);
    }
    if (mlir::failed(mlir::verify(op)) || !withinLimits(op)) {
      op->erase();
      failedNode = true;
      return {};
    }
    return llvm::cast<OpTy>(op);
  }
  /// createOp, then folds; returns the (possibly folded) first result.
  template <typename OpTy, typename... Args>
  mlir::Value create(Args &&...args) {
    OpTy op = createOp<OpTy>(std::forward<Args>(args)...);
    return op ? finish(op) : mlir::Value();
  }
  GraphImporter &graphImporter() const { return graph; }
  /// Whether a create() of this node failed (the error is already reported).
  bool failed() const { return failedNode; }

private:
  /// Whether `op`'s results stay within kiln's limits (rank 64, 2^48 bytes);
  /// reports the node otherwise. Hostile graphs reach absurd ranks and
  /// sizes through ops whose inputs are all valid (Unsqueeze by a long axes
  /// list, Expand to a huge target).
  bool withinLimits(mlir::Operation *op);
  /// Folds a just-created op, returning its (possibly folded) first result.
  mlir::Value finish(mlir::Operation *op);

  GraphImporter &graph;
  bool failedNode = false;
};

/// A converter for one op type from some opset version on.
using ConvertFn = mlir::LogicalResult (*)(NodeImporter &);

/// Op converters by (domain, op type), each with the opset it applies from.
class OpRegistry {
public:
  void add(llvm::StringRef domain, llvm::StringRef opType, int sinceVersion,
           ConvertFn fn);
  void add(llvm::StringRef opType, int sinceVersion, ConvertFn fn) {
    add("", opType, sinceVersion, fn);
  }
  /// The converter for the newest version <= opset, or null.
  ConvertFn lookup(llvm::StringRef domain, llvm::StringRef opType,
                   int64_t opset) const;
  /// Whether any version of the op is known.
  bool knows(llvm::StringRef domain, llvm::StringRef opType) const;

  static const OpRegistry &get();

private:
  llvm::StringMap<std::vector<std::pair<int, ConvertFn>>> table;
};

// Each family file registers its converters.
void registerElementwiseOps(OpRegistry &registry);
void registerMathOps(OpRegistry &registry);
void registerTensorOps(OpRegistry &registry);
void registerNNOps(OpRegistry &registry);
void registerConvOps(OpRegistry &registry);
void registerIndexingOps(OpRegistry &registry);
void registerTransformerOps(OpRegistry &registry);
void registerContribOps(OpRegistry &registry);

// Shared by the attention importers (ops/Transformer.cpp).
/// [B, S, H*D] -> [B, H, S, D] (static H*D needed to know D); 4-D passes.
mlir::FailureOr<mlir::Value> splitHeads(NodeImporter &n, mlir::Value x, int64_t heads,
                                        llvm::StringRef what);
/// [B, H, S, D] -> [B, S, H*D].
mlir::Value mergeHeads(NodeImporter &n, mlir::Value y);
/// cos/sin caches [.., R/2] -> the [.., R] layout kiln.rope takes: both
/// halves repeated (rotate-half) or each angle twice in a row (interleaved).
mlir::Value fullRotary(NodeImporter &n, mlir::Value half, bool interleaved);
void registerControlFlowOps(OpRegistry &registry);
void registerQuantizationOps(OpRegistry &registry);
void registerSpecialOps(OpRegistry &registry);
void registerSequenceOps(OpRegistry &registry);
void registerTrainingOps(OpRegistry &registry);

// Pieces one op family builds and another reuses.
/// A uniform [0, 1) draw shaped like `like` (seeded by the node's `seed`).
mlir::Value randomUniformLike(NodeImporter &n, mlir::Value like);
/// Conv with the node's window attributes (kernel_shape, strides, pads,
/// dilations, auto_pad, group) on the given operands.
mlir::Value importConv(NodeImporter &n, mlir::Value x, mlir::Value w,
                       mlir::Value bias);

} // namespace kiln::onnx_frontend

#endif // KILN_LIB_FRONTEND_ONNX_NODEIMPORTER_H

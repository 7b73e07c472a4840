//===- InferShapes.cpp - refine result types through a function -----------===//

#include "dialects/kiln/IR/ConstantFolding.h"
#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/IR/TypeInference.h"
#include "dialects/kiln/Transforms/Passes.h"
#include "dialects/kiln/Transforms/SymbolicShapes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

namespace kiln {
#define GEN_PASS_DEF_KILNINFERSHAPES
#include "dialects/kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using kiln::constfold::constantInts;

/// Fills the dims `result` (the op's declared type) leaves dynamic with
/// those of `shape`, what `op`'s constant target gives; an error at `op`
/// when a static dim contradicts the target.
static LogicalResult fillFromTarget(Operation *op, ArrayRef<int64_t> shape, Type &result) {
  auto type = cast<RankedTensorType>(result);
  if ((int64_t)shape.size() != type.getRank())
    return op->emitOpError("constant target has ")
           << shape.size() << " dims but the result " << type << " has rank " << type.getRank();
  SmallVector<int64_t> dims(type.getShape());
  for (auto [i, d, s] : llvm::enumerate(dims, shape)) {
    if (!dimsCompatible(d, s))
      return op->emitOpError("constant target gives dim ")
             << i << " = " << s << " but the result type " << type << " says " << d;
    if (ShapedType::isDynamic(d))
      d = s;
  }
  result = RankedTensorType::get(dims, type.getElementType());
  return success();
}

/// The types `op` should have now that its operands may have changed, for the
/// ops whose result type is not fully inferred by InferTypeOpInterface.
static LogicalResult refinedTypes(Operation *op, SmallVectorImpl<Type> &types) {
  if (auto iface = dyn_cast<InferTypeOpInterface>(op))
    return iface.inferReturnTypes(op->getContext(), op->getLoc(),
                                  op->getOperands(), op->getAttrDictionary(),
                                  op->getPropertiesStorage(), op->getRegions(),
                                  types);
  types.assign(op->result_type_begin(), op->result_type_end());
  if (auto attn = dyn_cast<AttentionOp>(op)) {
    SmallVector<RankedTensorType> inferred = attn.inferResultTypes();
    types.assign(inferred.begin(), inferred.end());
    return success();
  }
  // A cast keeps the input's shape.
  if (auto cast = dyn_cast<CastOp>(op)) {
    auto in = cast.getInput().getType();
    types[0] = RankedTensorType::get(in.getShape(), cast.getType().getElementType());
    return success();
  }
  // A shape operand that folded to a constant gives the result's dims
  // (ONNX Reshape and Expand rules).
  ShapeDiag diag{op->getLoc(), op->getName().getStringRef()};
  if (auto reshape = dyn_cast<ReshapeOp>(op)) {
    if (std::optional<SmallVector<int64_t>> target = constantInts(reshape.getShape())) {
      SmallVector<int64_t> dims;
      if (failed(onnxReshapeDims(diag, reshape.getInput().getType().getShape(), *target,
                                 reshape.getAllowzero(), dims)))
        return failure();
      return fillFromTarget(op, dims, types[0]);
    }
  }
  // A computed target (from shapes) gives the dims its constant entries
  // fix: a reshape's positive ones; an expand's larger than 1, or the
  // input's static dim where the entry is 1 or the input's dim is larger.
  if (auto reshape = dyn_cast<ReshapeOp>(op); reshape && reshape.getShape()) {
    auto e = symbolicElements(reshape.getShape());
    auto type = cast<RankedTensorType>(types[0]);
    if (e && (int64_t)e->size() == type.getRank()) {
      SmallVector<int64_t> dims;
      for (const SymbolicDim &d : *e)
        dims.push_back(d.isConstant() && d.constant > 0 ? d.constant : ShapedType::kDynamic);
      return fillFromTarget(op, dims, types[0]);
    }
  }
  if (auto expand = dyn_cast<ExpandOp>(op)) {
    std::optional<SmallVector<int64_t>> target = constantInts(expand.getShape());
    if (!target && expand.getShape()) {
      auto e = symbolicElements(expand.getShape());
      auto type = cast<RankedTensorType>(types[0]);
      auto in = expand.getInput().getType();
      if (!e || (int64_t)e->size() != type.getRank() || in.getRank() > type.getRank())
        return success();
      SmallVector<int64_t> dims;
      for (auto [i, d] : llvm::enumerate(*e)) {
        int64_t j = (int64_t)i - (type.getRank() - in.getRank());
        int64_t inDim = j >= 0 ? in.getDimSize(j) : 1;
        if (d.isConstant() && d.constant > 1)
          dims.push_back(d.constant);
        else if (!ShapedType::isDynamic(inDim) && (inDim > 1 || (d.isConstant() && d.constant == 1)))
          dims.push_back(inDim);
        else
          dims.push_back(ShapedType::kDynamic);
      }
      return fillFromTarget(op, dims, types[0]);
    }
    if (!target)
      return success();
    if (llvm::any_of(*target, [](int64_t d) { return d < 0; }))
      return op->emitOpError("constant target has a negative dim");
    SmallVector<int64_t> dims;
    if (failed(broadcastShapes(diag, {expand.getInput().getType().getShape(), *target}, dims)))
      return failure();
    return fillFromTarget(op, dims, types[0]);
  }
  // A reshape with one dynamic result dimension and a static input can
  // compute that dimension from the element count.
  if (auto reshape = dyn_cast<ReshapeOp>(op)) {
    auto in = reshape.getInput().getType();
    auto out = reshape.getType();
    if (reshape.getShape() || !in.hasStaticShape() || out.getNumDynamicDims() != 1)
      return success();
    int64_t known = 1;
    for (int64_t d : out.getShape())
      if (!ShapedType::isDynamic(d))
        known *= d;
    if (known == 0 || in.getNumElements() % known)
      return reshape.emitOpError("cannot reshape ")
             << in << " into " << out << ": element counts do not divide";
    SmallVector<int64_t> shape(out.getShape());
    for (int64_t &d : shape)
      if (ShapedType::isDynamic(d))
        d = in.getNumElements() / known;
    types[0] = RankedTensorType::get(shape, out.getElementType());
  }
  return success();
}

LogicalResult kiln::inferShapes(func::FuncOp func, bool *changed) {
  if (func.isExternal())
    return success();
  OpBuilder builder(func.getContext());
  WalkResult walk = func.walk([&](Operation *op) {
    if (!isa<KilnDialect>(op->getDialect()))
      return WalkResult::advance();
    SmallVector<Type> types;
    if (failed(refinedTypes(op, types)))
      return WalkResult::interrupt();
    for (auto [result, type] : llvm::zip(op->getResults(), types)) {
      Type old = result.getType();
      if (old == type)
        continue;
      result.setType(type);
      if (changed)
        *changed = true;
      // Upstream users keep the type they were built with.
      for (OpOperand &use : llvm::make_early_inc_range(result.getUses())) {
        Operation *user = use.getOwner();
        if (isa<KilnDialect>(user->getDialect()) || isa<func::ReturnOp>(user))
          continue;
        builder.setInsertionPoint(user);
        use.set(tensor::CastOp::create(builder, op->getLoc(), old, result));
      }
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  // The function's results follow its return.
  func.walk([&](func::ReturnOp ret) {
    func.setType(FunctionType::get(func.getContext(),
                                   func.getFunctionType().getInputs(),
                                   ret.getOperandTypes()));
  });
  return success();
}

namespace {
struct KilnInferShapesPass
    : kiln::impl::KilnInferShapesBase<KilnInferShapesPass> {
  void runOnOperation() override {
    if (failed(inferShapes(getOperation())))
      signalPassFailure();
  }
};
} // namespace

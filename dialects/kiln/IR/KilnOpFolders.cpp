//===- KilnOpFolders.cpp - folders and canonicalizations ------------------===//
//
// Only rewrites that are cheap and exact: identities that return an operand
// unchanged, splat constant arithmetic, and merging chains of the same
// data-movement op. Anything that changes rounding stays out.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/IR/ConstantFolding.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace kiln;

/// A splat constant's value as an APFloat or APInt, if `attr` is one.
static std::optional<APFloat> splatFloat(Attribute attr) {
  if (auto s = dyn_cast_if_present<SplatElementsAttr>(attr))
    if (isa<FloatType>(s.getElementType()))
      return s.getSplatValue<APFloat>();
  return std::nullopt;
}
static std::optional<APInt> splatInt(Attribute attr) {
  if (auto s = dyn_cast_if_present<SplatElementsAttr>(attr))
    if (isa<IntegerType>(s.getElementType()))
      return s.getSplatValue<APInt>();
  return std::nullopt;
}

static bool isSplatOf(Attribute attr, int64_t v) {
  if (std::optional<APFloat> f = splatFloat(attr))
    return f->compare(APFloat(f->getSemantics(), std::to_string(v))) ==
           APFloat::cmpEqual;
  if (std::optional<APInt> i = splatInt(attr))
    return i->getSExtValue() == v;
  return false;
}

OpFoldResult UnaryOp::fold(FoldAdaptor adaptor) {
  // neg(neg(x)) = x and not(not(x)) = x, exactly.
  if (getKind() == UnaryKind::neg || getKind() == UnaryKind::Not)
    if (auto inner = getInput().getDefiningOp<UnaryOp>())
      if (inner.getKind() == getKind())
        return inner.getInput();
  return constfold::unary(getKind(), adaptor.getInput(),
                          cast<RankedTensorType>(getType()));
}

OpFoldResult CompareOp::fold(FoldAdaptor adaptor) {
  return constfold::compare(getKind(), adaptor.getLhs(), adaptor.getRhs(),
                            cast<RankedTensorType>(getType()));
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  return constfold::gather(adaptor.getData(), adaptor.getIndices(),
                           (int64_t)getAxis(), cast<RankedTensorType>(getType()));
}

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  auto in = cast<RankedTensorType>(getInput().getType());
  if (!in.hasStaticShape())
    return {};
  return DenseElementsAttr::get(cast<RankedTensorType>(getType()),
                                in.getShape());
}

OpFoldResult BinaryOp::fold(FoldAdaptor adaptor) {
  auto type = cast<RankedTensorType>(getType());
  BinaryKind k = getKind();
  // Identities that return lhs unchanged (only when no broadcasting happens).
  if (getLhs().getType() == type) {
    Attribute rhs = adaptor.getRhs();
    if ((k == BinaryKind::mul || k == BinaryKind::div) && isSplatOf(rhs, 1))
      return getLhs();
    if (k == BinaryKind::sub && isSplatOf(rhs, 0))
      return getLhs();
    // x + 0 is not exact for floats (-0.0 + 0.0 = +0.0).
    if (k == BinaryKind::add && splatInt(rhs) && isSplatOf(rhs, 0))
      return getLhs();
  }
  if (!type.hasStaticShape())
    return {};
  if (Attribute r = constfold::binary(k, adaptor.getLhs(), adaptor.getRhs(), type))
    return r;
  // Splat arithmetic on the four basic operations.
  if (auto a = splatFloat(adaptor.getLhs())) {
    auto b = splatFloat(adaptor.getRhs());
    if (!b)
      return {};
    APFloat r = *a;
    switch (k) {
    case BinaryKind::add: r.add(*b, APFloat::rmNearestTiesToEven); break;
    case BinaryKind::sub: r.subtract(*b, APFloat::rmNearestTiesToEven); break;
    case BinaryKind::mul: r.multiply(*b, APFloat::rmNearestTiesToEven); break;
    case BinaryKind::div: r.divide(*b, APFloat::rmNearestTiesToEven); break;
    default: return {};
    }
    return SplatElementsAttr::get(type, r);
  }
  if (auto a = splatInt(adaptor.getLhs())) {
    auto b = splatInt(adaptor.getRhs());
    if (!b || type.getElementType().isInteger(1))
      return {};
    switch (k) {
    case BinaryKind::add: return SplatElementsAttr::get(type, *a + *b);
    case BinaryKind::sub: return SplatElementsAttr::get(type, *a - *b);
    case BinaryKind::mul: return SplatElementsAttr::get(type, *a * *b);
    default: return {};
    }
  }
  return {};
}

OpFoldResult WhereOp::fold(FoldAdaptor adaptor) {
  Type type = getType();
  if (auto c = dyn_cast_if_present<SplatElementsAttr>(adaptor.getCondition())) {
    Value picked = c.getSplatValue<bool>() ? getTrueValue() : getFalseValue();
    if (picked.getType() == type)
      return picked;
  }
  if (getTrueValue() == getFalseValue() && getTrueValue().getType() == type)
    return getTrueValue();
  return constfold::select(adaptor.getCondition(), adaptor.getTrueValue(),
                           adaptor.getFalseValue(), cast<RankedTensorType>(type));
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return constfold::convert(adaptor.getInput(), getType());
}

OpFoldResult ReduceOp::fold(FoldAdaptor adaptor) {
  // No axes: the identity (ONNX's noop_with_empty_axes).
  if (getRuntimeAxes())
    return {};
  if (getAxes().empty() && getInput().getType() == getType())
    return getInput();
  return constfold::reduce(getKind(), adaptor.getInput(), getAxes(),
                           cast<RankedTensorType>(getType()));
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> perm = getPerm();
  for (auto [i, p] : llvm::enumerate(perm))
    if ((int64_t)i != p)
      return constfold::transpose(adaptor.getInput(), perm,
                                  cast<RankedTensorType>(getType()));
  return getInput();
}

namespace {
/// transpose(transpose(x, p1), p2) -> transpose(x, p1 o p2).
struct ComposeTransposes : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<TransposeOp>();
    if (!inner)
      return rewriter.notifyMatchFailure(op, "input is not a transpose");
    SmallVector<int64_t> perm;
    for (int64_t p : op.getPerm())
      perm.push_back(inner.getPerm()[p]);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, inner.getInput(), perm);
    return success();
  }
};

/// reshape(reshape(x)) -> reshape(x) when neither needs a shape operand.
struct ComposeReshapes : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<ReshapeOp>();
    if (!inner || inner.getShape() || op.getShape())
      return rewriter.notifyMatchFailure(op, "input is not a static reshape");
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), inner.getInput(),
                                           Value());
    return success();
  }
};
/// A shape operand is redundant once the result type implies the shape.
struct DropRedundantShapeOperand : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getShape() || op.getType().getNumDynamicDims() > 1)
      return rewriter.notifyMatchFailure(op, "the shape operand is needed");
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), op.getInput(),
                                           Value());
    return success();
  }
};
/// An expand target is redundant once the result type is static.
struct DropStaticExpandShape : OpRewritePattern<ExpandOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ExpandOp op, PatternRewriter &rewriter) const override {
    if (!op.getShape() || !op.getType().hasStaticShape())
      return rewriter.notifyMatchFailure(op, "the shape operand is needed");
    rewriter.replaceOpWithNewOp<ExpandOp>(op, op.getType(), op.getInput(), Value());
    return success();
  }
};
} // namespace

void ExpandOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<DropStaticExpandShape>(context);
}

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<ComposeTransposes>(context);
}

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *context) {
  results.add<ComposeReshapes, DropRedundantShapeOperand>(context);
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType() && getType().hasStaticShape())
    return getInput();
  // Same elements, new shape: valid for any dense constant.
  if (auto dense = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput()))
    if (getType().hasStaticShape())
      return dense.reshape(getType());
  return {};
}

OpFoldResult ExpandOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType() && getType().hasStaticShape())
    return getInput();
  if (auto splat = dyn_cast_if_present<SplatElementsAttr>(adaptor.getInput()))
    if (getType().hasStaticShape())
      return SplatElementsAttr::get(getType(), splat.getSplatValue<Attribute>());
  return constfold::broadcast(adaptor.getInput(), getType());
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  if (getRuntimeStarts())
    return {};
  auto in = getInput().getType();
  if (Attribute r = constfold::slice(adaptor.getInput(), getStarts(), getSteps(),
                                     cast<RankedTensorType>(getType())))
    return r;
  if (in != getType() || !in.hasStaticShape())
    return {};
  for (int64_t i = 0; i < in.getRank(); ++i)
    if (getSteps()[i] != 1 || getStarts()[i] != 0)
      return {};
  return getInput();
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  return constfold::concat(adaptor.getInputs(), (int64_t)getAxis(),
                           cast<RankedTensorType>(getType()));
}

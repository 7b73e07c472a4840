//===- KilnOpFolders.cpp - folders and canonicalizations ------------------===//
//
// Only rewrites that are cheap and exact: identities that return an operand
// unchanged, splat constant arithmetic, and merging chains of the same
// data-movement op. Anything that changes rounding stays out.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/IR/KilnOps.h"

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

OpFoldResult UnaryOp::fold(FoldAdaptor) {
  // neg(neg(x)) = x and not(not(x)) = x, exactly.
  if (getKind() == UnaryKind::neg || getKind() == UnaryKind::Not)
    if (auto inner = getInput().getDefiningOp<UnaryOp>())
      if (inner.getKind() == getKind())
        return inner.getInput();
  return {};
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
  return {};
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

OpFoldResult ReduceOp::fold(FoldAdaptor) {
  // No axes: the identity (ONNX's noop_with_empty_axes).
  if (getAxes().empty() && getInput().getType() == getType())
    return getInput();
  return {};
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  ArrayRef<int64_t> perm = getPerm();
  for (auto [i, p] : llvm::enumerate(perm))
    if ((int64_t)i != p)
      return {};
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
} // namespace

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<ComposeTransposes>(context);
}

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *context) {
  results.add<ComposeReshapes>(context);
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType() && getType().hasStaticShape())
    return getInput();
  if (auto splat = dyn_cast_if_present<SplatElementsAttr>(adaptor.getInput()))
    if (getType().hasStaticShape())
      return splat.reshape(getType());
  return {};
}

OpFoldResult ExpandOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType() && getType().hasStaticShape())
    return getInput();
  if (auto splat = dyn_cast_if_present<SplatElementsAttr>(adaptor.getInput()))
    if (getType().hasStaticShape())
      return SplatElementsAttr::get(getType(), splat.getSplatValue<Attribute>());
  return {};
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  auto in = getInput().getType();
  if (in != getType() || !in.hasStaticShape())
    return {};
  for (int64_t i = 0; i < in.getRank(); ++i)
    if (getSteps()[i] != 1 || getStarts()[i] != 0)
      return {};
  return getInput();
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  return {};
}

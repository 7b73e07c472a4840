//===- Decompositions.cpp - kiln ops rewritten into simpler kiln ops ------===//
//
// Ops whose math is a short composition of other kiln ops are rewritten
// into them here (and lowered by the other patterns in the same greedy
// run): gemm = transposes, matmul, scale and bias; layer_norm and rms_norm
// = reductions and elementwise math. Fused CPU kernels for the norms replace
// these when they exist; the composition stays the reference.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

namespace kiln::conversion {
namespace {

Value scalar(PatternRewriter &rewriter, Location loc, Type elt, double v) {
  auto t = RankedTensorType::get({}, elt);
  return arith::ConstantOp::create(
      rewriter, loc, DenseElementsAttr::get(t, rewriter.getFloatAttr(elt, v)));
}

/// The dimensions [axis, rank) a norm normalizes over.
SmallVector<int64_t> trailingAxes(int64_t axis, int64_t rank) {
  if (axis < 0)
    axis += rank;
  SmallVector<int64_t> axes;
  for (int64_t i = axis; i < rank; ++i)
    axes.push_back(i);
  return axes;
}

/// rsqrt(meanSquare + eps)
Value inverseRms(PatternRewriter &rewriter, Location loc, Value meanSquare, Type elt,
                 double eps) {
  return UnaryOp::create(rewriter, loc, UnaryKind::rsqrt,
                         BinaryOp::create(rewriter, loc, BinaryKind::add, meanSquare,
                                          scalar(rewriter, loc, elt, eps)));
}

Value swapLast(PatternRewriter &rewriter, Location loc, Value v) {
  return TransposeOp::create(rewriter, loc, v, ArrayRef<int64_t>{1, 0});
}

struct GemmDecomposition : OpRewritePattern<GemmOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GemmOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type elt = cast<RankedTensorType>(op.getType()).getElementType();
    if (!isa<FloatType>(elt))
      return rewriter.notifyMatchFailure(op, "integer gemm");
    Value a = op.getTransA() ? swapLast(rewriter, loc, op.getA()) : op.getA();
    Value b = op.getTransB() ? swapLast(rewriter, loc, op.getB()) : op.getB();
    Value y = MatmulOp::create(rewriter, loc, a, b);
    if (op.getAlpha().convertToDouble() != 1.0)
      y = BinaryOp::create(rewriter, loc, BinaryKind::mul, y,
                           scalar(rewriter, loc, elt, op.getAlpha().convertToDouble()));
    if (Value c = op.getC()) {
      double beta = op.getBeta().convertToDouble();
      if (beta != 1.0)
        c = BinaryOp::create(rewriter, loc, BinaryKind::mul, c, scalar(rewriter, loc, elt, beta));
      y = BinaryOp::create(rewriter, loc, BinaryKind::add, y, c);
    }
    if (y.getType() != op.getType())
      return rewriter.notifyMatchFailure(op, "decomposition changes the result type");
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// (x - mean) / sqrt(var + eps) * scale + bias over dims [axis, rank).
struct LayerNormDecomposition : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto t = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> axes = trailingAxes(static_cast<int64_t>(op.getAxis()), t.getRank());
    Value mean = ReduceOp::create(rewriter, loc, ReduceKind::mean, x, axes, Value(), true);
    Value centered = BinaryOp::create(rewriter, loc, BinaryKind::sub, x, mean);
    Value sq = BinaryOp::create(rewriter, loc, BinaryKind::mul, centered, centered);
    Value var = ReduceOp::create(rewriter, loc, ReduceKind::mean, sq, axes, Value(), true);
    Value denom = inverseRms(rewriter, loc, var, t.getElementType(),
                             op.getEpsilon().convertToDouble());
    Value y = BinaryOp::create(rewriter, loc, BinaryKind::mul, centered, denom);
    y = BinaryOp::create(rewriter, loc, BinaryKind::mul, y, op.getScale());
    if (Value bias = op.getBias())
      y = BinaryOp::create(rewriter, loc, BinaryKind::add, y, bias);
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// x * rsqrt(mean(x^2) + eps) * weight over dims [axis, rank).
struct RmsNormDecomposition : OpRewritePattern<RmsNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RmsNormOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto t = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> axes = trailingAxes(static_cast<int64_t>(op.getAxis()), t.getRank());
    Value sq = BinaryOp::create(rewriter, loc, BinaryKind::mul, x, x);
    Value ms = ReduceOp::create(rewriter, loc, ReduceKind::mean, sq, axes, Value(), true);
    Value inv = inverseRms(rewriter, loc, ms, t.getElementType(),
                           op.getEpsilon().convertToDouble());
    Value y = BinaryOp::create(rewriter, loc, BinaryKind::mul, x, inv);
    rewriter.replaceOp(op, BinaryOp::create(rewriter, loc, BinaryKind::mul, y, op.getWeight()));
    return success();
  }
};

} // namespace

void populateDecompositionPatterns(RewritePatternSet &patterns) {
  patterns.add<GemmDecomposition, LayerNormDecomposition, RmsNormDecomposition>(
      patterns.getContext());
}

} // namespace kiln::conversion

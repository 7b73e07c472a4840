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

#include <limits>

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

/// Features [from, to) (step `step`) of the last dimension.
Value lastDimSlice(PatternRewriter &rewriter, Location loc, Value x, int64_t from, int64_t to,
                   int64_t step = 1) {
  auto t = cast<RankedTensorType>(x.getType());
  int64_t rank = t.getRank();
  SmallVector<int64_t> starts(rank, 0), ends(t.getShape()), steps(rank, 1);
  for (int64_t &e : ends) // a dynamic dim whole
    if (ShapedType::isDynamic(e))
      e = std::numeric_limits<int64_t>::max();
  starts.back() = from;
  ends.back() = to;
  steps.back() = step;
  return SliceOp::create(rewriter, loc, x, Value(), Value(), Value(), Value(),
                         rewriter.getDenseI64ArrayAttr(starts), rewriter.getDenseI64ArrayAttr(ends),
                         rewriter.getDenseI64ArrayAttr(steps));
}

/// x * cos + rotate(x) * sin on the first R features (R = cos's last dim),
/// the rest passed through. rotate: (-x2, x1) of the halves, or of each
/// adjacent pair when interleaved.
struct RopeDecomposition : OpRewritePattern<RopeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RopeOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto t = cast<RankedTensorType>(x.getType());
    auto ct = cast<RankedTensorType>(op.getCos().getType());
    int64_t d = t.getShape().back(), r = ct.getShape().back();
    if (ShapedType::isDynamic(d) || ShapedType::isDynamic(r) || r % 2 || r > d ||
        (op.getInterleaved() && !t.hasStaticShape()))
      return rewriter.notifyMatchFailure(op, "rope needs a static head dim, an even rotary size "
                                             "and (interleaved) static shapes");
    Value xr = r == d ? x : lastDimSlice(rewriter, loc, x, 0, r);
    Value rotated;
    if (!op.getInterleaved()) {
      Value x1 = lastDimSlice(rewriter, loc, xr, 0, r / 2);
      Value x2 = lastDimSlice(rewriter, loc, xr, r / 2, r);
      Value neg = UnaryOp::create(rewriter, loc, UnaryKind::neg, x2);
      rotated = ConcatOp::create(rewriter, loc, ValueRange{neg, x1},
                                 rewriter.getI64IntegerAttr(t.getRank() - 1));
    } else {
      // Pairs (x_2i, x_2i+1) -> (-x_2i+1, x_2i): [.., R/2, 1] halves side
      // by side, then back to [.., R].
      auto rt = cast<RankedTensorType>(xr.getType());
      SmallVector<int64_t> pairShape(rt.getShape());
      pairShape.back() = r / 2;
      pairShape.push_back(1);
      auto pairType = RankedTensorType::get(pairShape, rt.getElementType());
      Value even = ReshapeOp::create(rewriter, loc, pairType,
                                     lastDimSlice(rewriter, loc, xr, 0, r, 2), Value(), false);
      Value odd = ReshapeOp::create(rewriter, loc, pairType,
                                    lastDimSlice(rewriter, loc, xr, 1, r, 2), Value(), false);
      Value neg = UnaryOp::create(rewriter, loc, UnaryKind::neg, odd);
      Value pairs = ConcatOp::create(rewriter, loc, ValueRange{neg, even},
                                     rewriter.getI64IntegerAttr(rt.getRank()));
      rotated = ReshapeOp::create(rewriter, loc, rt, pairs, Value(), false);
    }
    Value y = BinaryOp::create(
        rewriter, loc, BinaryKind::add,
        BinaryOp::create(rewriter, loc, BinaryKind::mul, xr, op.getCos()),
        BinaryOp::create(rewriter, loc, BinaryKind::mul, rotated, op.getSin()));
    if (r != d)
      y = ConcatOp::create(rewriter, loc, ValueRange{y, lastDimSlice(rewriter, loc, x, r, d)},
                           rewriter.getI64IntegerAttr(t.getRank() - 1));
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// down(act(x · gate) * (x · up)).
struct GatedMlpDecomposition : OpRewritePattern<GatedMlpOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatedMlpOp op, PatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, op.buildDecomposition(rewriter));
    return success();
  }
};

} // namespace

void populateDecompositionPatterns(RewritePatternSet &patterns) {
  patterns.add<GemmDecomposition, LayerNormDecomposition, RmsNormDecomposition,
               RopeDecomposition, GatedMlpDecomposition>(patterns.getContext());
}

} // namespace kiln::conversion

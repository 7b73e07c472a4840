//===- RmsNorm.cpp - x * (mean(x^2) + eps)^-1/2 [* w] -> kiln.rms_norm ----===//
//
// Anchored on the reduce-mean of a square, which nothing else exporters
// write looks like; from there the pattern walks the single-use chain
// forward: + eps, then sqrt and a division (1 / s, or x / s) or a
// reciprocal, or rsqrt; x times that; optionally times a weight that
// broadcasts over the normalized dimensions.
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/Patterns.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

namespace kiln::fusion {
namespace {

/// The single user of `v`, if it has exactly one.
Operation *onlyUser(Value v) {
  return v.hasOneUse() ? *v.getUsers().begin() : nullptr;
}

/// For a commutative binary `op` with `known` as one operand: the other.
Value otherOperand(BinaryOp op, Value known) {
  if (op.getLhs() == known)
    return op.getRhs();
  if (op.getRhs() == known)
    return op.getLhs();
  return {};
}

struct RaiseRmsNorm : OpRewritePattern<ReduceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ReduceOp mean, PatternRewriter &rewriter) const override {
    if (mean.getKind() != ReduceKind::mean)
      return failure();
    // The square: pow(x, 2) or x * x.
    Value x;
    if (BinaryOp pow = binaryOf(mean.getInput(), BinaryKind::pow)) {
      if (scalarConstant(pow.getRhs()) != 2.0)
        return failure();
      x = pow.getLhs();
    } else if (BinaryOp sq = binaryOf(mean.getInput(), BinaryKind::mul)) {
      if (sq.getLhs() != sq.getRhs())
        return failure();
      x = sq.getLhs();
    } else {
      return failure();
    }
    // From here on it looks like an RMS norm: explain every miss.
    auto xType = dyn_cast<RankedTensorType>(x.getType());
    if (!xType || !isa<FloatType>(xType.getElementType()))
      return rewriter.notifyMatchFailure(mean, "rms_norm: the squared value is not a float tensor");
    int64_t rank = xType.getRank();
    if (mean.getRuntimeAxes() || !mean.getKeepdims())
      return rewriter.notifyMatchFailure(mean, "rms_norm: the mean must keep its dimensions and "
                                               "have constant axes");
    SmallVector<int64_t> axes;
    for (int64_t a : mean.getAxes())
      axes.push_back(a < 0 ? a + rank : a);
    llvm::sort(axes);
    if (axes.empty() || axes.back() != rank - 1 ||
        axes.back() - axes.front() + 1 != (int64_t)axes.size())
      return rewriter.notifyMatchFailure(mean, "rms_norm: the mean is not over trailing dimensions");
    int64_t axis = axes.front();
    // The square may be shared (CSE merges equal squares); the chain after
    // the mean is followed through single users.

    SmallVector<Location> matched = {mean.getInput().getDefiningOp()->getLoc(), mean.getLoc()};
    // + eps
    auto add = dyn_cast_or_null<BinaryOp>(onlyUser(mean.getResult()));
    if (!add || add.getKind() != BinaryKind::add)
      return rewriter.notifyMatchFailure(mean, "rms_norm: the mean is not followed by + epsilon");
    std::optional<double> eps = scalarConstant(otherOperand(add, mean.getResult()));
    if (!eps)
      return rewriter.notifyMatchFailure(add, "rms_norm: epsilon is not a constant scalar");
    matched.push_back(add.getLoc());
    // The inverse square root: rsqrt(a), 1 / sqrt(a), reciprocal(sqrt(a)),
    // or x / sqrt(a) (which is already the normalized value).
    Value inv, normalized;
    Operation *next = onlyUser(add.getResult());
    if (auto u = dyn_cast_or_null<UnaryOp>(next); u && u.getKind() == UnaryKind::rsqrt) {
      inv = u.getResult();
      matched.push_back(u.getLoc());
    } else if (auto s = dyn_cast_or_null<UnaryOp>(next); s && s.getKind() == UnaryKind::sqrt) {
      matched.push_back(s.getLoc());
      Operation *after = onlyUser(s.getResult());
      if (auto r = dyn_cast_or_null<UnaryOp>(after); r && r.getKind() == UnaryKind::reciprocal) {
        inv = r.getResult();
        matched.push_back(r.getLoc());
      } else if (auto d = dyn_cast_or_null<BinaryOp>(after);
                 d && d.getKind() == BinaryKind::div && d.getRhs() == s.getResult()) {
        matched.push_back(d.getLoc());
        if (scalarConstant(d.getLhs()) == 1.0)
          inv = d.getResult();
        else if (d.getLhs() == x)
          normalized = d.getResult();
        else
          return rewriter.notifyMatchFailure(d, "rms_norm: the division is not 1 / sqrt or x / sqrt");
      } else {
        return rewriter.notifyMatchFailure(s, "rms_norm: the square root is not inverted");
      }
    } else {
      return rewriter.notifyMatchFailure(add, "rms_norm: mean + epsilon is not followed by a "
                                              "square root");
    }
    if (!normalized) {
      auto mul = dyn_cast_or_null<BinaryOp>(onlyUser(inv));
      if (!mul || mul.getKind() != BinaryKind::mul || otherOperand(mul, inv) != x)
        return rewriter.notifyMatchFailure(inv.getDefiningOp(),
                                           "rms_norm: the inverse root does not scale the squared "
                                           "input");
      normalized = mul.getResult();
      matched.push_back(mul.getLoc());
    }
    // The weight: a multiply by a tensor that broadcasts over [axis, rank).
    Value weight, result = normalized;
    if (auto mul = dyn_cast_or_null<BinaryOp>(onlyUser(normalized));
        mul && mul.getKind() == BinaryKind::mul) {
      Value w = otherOperand(mul, normalized);
      auto wt = dyn_cast<RankedTensorType>(w.getType());
      if (wt && wt.getRank() <= rank - axis && wt.getElementType() == xType.getElementType() &&
          mul.getType() == normalized.getType()) {
        weight = w;
        result = mul.getResult();
        matched.push_back(mul.getLoc());
      }
    }
    if (result.getType() != x.getType())
      return rewriter.notifyMatchFailure(mean, "rms_norm: the result is broadcast beyond the "
                                               "input's shape");
    SmallVector<int64_t> shape(xType.getShape().drop_front(axis));
    if (!weight && llvm::any_of(shape, ShapedType::isDynamic))
      return rewriter.notifyMatchFailure(mean, "rms_norm: no weight and a dynamic normalized "
                                               "shape");
    // Matched: only now create IR.
    Location loc = rewriter.getFusedLoc(matched);
    rewriter.setInsertionPointAfterValue(result);
    if (!weight) {
      // No weight: a constant 1 of the normalized shape.
      auto wt = RankedTensorType::get(shape, xType.getElementType());
      weight = arith::ConstantOp::create(
          rewriter, loc, DenseElementsAttr::get(wt, rewriter.getFloatAttr(xType.getElementType(), 1.0)));
    }
    auto norm = RmsNormOp::create(rewriter, loc, x, weight, rewriter.getI64IntegerAttr(axis - rank),
                                  rewriter.getF32FloatAttr((float)*eps));
    rewriter.replaceAllUsesWith(result, norm.getResult());
    return success();
  }
};

} // namespace

void populateRmsNormPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseRmsNorm>(patterns.getContext());
}

} // namespace kiln::fusion

//===- DeterminantToLinalg.cpp - kiln.det -> linalg.generic ---------------===//
//
// One generic over the batch; its body reads the M x M matrix and runs
// Gaussian elimination with partial pivoting unrolled (M is static and at
// most kMaxSide: the determinants models take are of small matrices -- 2x2,
// 3x3 transforms), in f64: the determinant is the product of the pivots,
// negated per row swap. Pivot choice and swaps are selects, so the body
// has no branches. A zero pivot column gives 0.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"

#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace kiln::conversion {
namespace {

constexpr int64_t kMaxSide = 8;

/// The determinant of `a` (M x M f64 scalars, consumed).
Value eliminate(OpBuilder &b, Location loc, SmallVector<SmallVector<Value>> a) {
  int64_t m = a.size();
  auto f = [&](double v) { return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(v)).getResult(); };
  auto select = [&](Value c, Value p, Value q) {
    return arith::SelectOp::create(b, loc, c, p, q).getResult();
  };
  auto absOf = [&](Value v) { return math::AbsFOp::create(b, loc, v).getResult(); };
  Value det = f(1);
  for (int64_t k = 0; k < m; ++k) {
    // The row (k or below) with the largest |a[i][k]|.
    Value best = absOf(a[k][k]);
    SmallVector<Value> chosen(m); // chosen[i]: row i is the pivot row
    Value none = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
    for (int64_t i = k + 1; i < m; ++i) {
      Value larger = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, absOf(a[i][k]), best);
      for (int64_t j = k + 1; j < i; ++j)
        chosen[j] = select(larger, none, chosen[j]);
      chosen[i] = larger;
      best = select(larger, absOf(a[i][k]), best);
    }
    // Swap the pivot row into row k (each swap negates the determinant).
    for (int64_t i = k + 1; i < m; ++i) {
      for (int64_t j = k; j < m; ++j) {
        Value pivotRow = select(chosen[i], a[i][j], a[k][j]);
        a[i][j] = select(chosen[i], a[k][j], a[i][j]);
        a[k][j] = pivotRow;
      }
      det = select(chosen[i], arith::NegFOp::create(b, loc, det), det);
    }
    Value pivot = a[k][k];
    det = arith::MulFOp::create(b, loc, det, pivot);
    Value zero = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, pivot, f(0));
    for (int64_t i = k + 1; i < m; ++i) {
      // (A zero pivot means the column is zero below too: nothing to remove.)
      Value factor = select(zero, f(0), arith::DivFOp::create(b, loc, a[i][k], pivot));
      for (int64_t j = k + 1; j < m; ++j)
        a[i][j] = arith::SubFOp::create(b, loc, a[i][j],
                                        arith::MulFOp::create(b, loc, factor, a[k][j]));
    }
  }
  return det;
}

struct DetLowering : OpRewritePattern<DetOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DetOp op, PatternRewriter &rewriter) const override {
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto out = cast<RankedTensorType>(op.getType());
    int64_t rank = in.getRank(), m = in.getDimSize(rank - 1);
    Type elt = in.getElementType();
    if (!isa<FloatType>(elt) || ShapedType::isDynamic(m) || m != in.getDimSize(rank - 2) ||
        m > kMaxSide)
      return rewriter.notifyMatchFailure(op, "a dynamic or large matrix (the unrolled "
                                             "elimination takes M <= 8)");
    Location loc = op.getLoc();
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < out.getRank(); ++d)
      if (out.isDynamicDim(d))
        sizes.push_back(tensor::DimOp::create(rewriter, loc, op.getInput(), d));
    Value init = tensor::EmptyOp::create(rewriter, loc, out.getShape(), elt, sizes);
    Value input = op.getInput();
    int64_t batch = out.getRank();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{AffineMap::getMultiDimIdentityMap(batch, op.getContext())},
        SmallVector<utils::IteratorType>(batch, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> at;
          for (int64_t d = 0; d < batch; ++d)
            at.push_back(linalg::IndexOp::create(b, l, d));
          SmallVector<SmallVector<Value>> a(m, SmallVector<Value>(m));
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < m; ++j) {
              SmallVector<Value> ij = at;
              ij.push_back(arith::ConstantIndexOp::create(b, l, i));
              ij.push_back(arith::ConstantIndexOp::create(b, l, j));
              Value v = tensor::ExtractOp::create(b, l, input, ij);
              a[i][j] = elt.isF64() ? v : arith::ExtFOp::create(b, l, b.getF64Type(), v);
            }
          Value det = eliminate(b, l, std::move(a));
          if (!elt.isF64())
            det = arith::TruncFOp::create(b, l, elt, det);
          linalg::YieldOp::create(b, l, det);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void populateDeterminantPatterns(RewritePatternSet &patterns) {
  patterns.add<DetLowering>(patterns.getContext());
}

} // namespace kiln::conversion

//===- ShapeValuesToTensor.cpp - shape computations as scalars -----------===//
//
// With dynamic dims, exporters' shape computations (Shape -> Gather ->
// Unsqueeze -> Concat, Range(0, seq)) stay in the program. Lowered as
// tensors of a few elements they would become buffers, and a size read from
// a buffer is data to the CPU plan. Lowered here as tensor.from_elements of
// scalars, tensor.extract folds them back to the tensor.dim they come from,
// so every size stays a function of the inputs' dims.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"

#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace kiln::conversion {
namespace {

constexpr int64_t kMaxElements = 16;

/// A small static integer tensor: a shape vector or a scalar.
bool isShapeValue(Type t) {
  auto type = dyn_cast<RankedTensorType>(t);
  return type && type.hasStaticShape() && type.getRank() <= 1 &&
         type.getNumElements() <= kMaxElements && type.getElementType().isSignlessInteger();
}

/// The elements of a shape value as scalars of its element type.
SmallVector<Value> scalars(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<Value> out;
  for (int64_t i = 0; i < type.getNumElements(); ++i) {
    SmallVector<Value> at;
    if (type.getRank() == 1)
      at.push_back(arith::ConstantIndexOp::create(b, loc, i));
    out.push_back(tensor::ExtractOp::create(b, loc, v, at));
  }
  return out;
}

Value castScalar(OpBuilder &b, Location loc, Value v, Type to) {
  unsigned from = v.getType().getIntOrFloatBitWidth(), bits = to.getIntOrFloatBitWidth();
  if (from == bits)
    return v;
  if (from < bits)
    return arith::ExtSIOp::create(b, loc, to, v);
  return arith::TruncIOp::create(b, loc, to, v);
}

/// Gather with constant indices, reshape, cast and concat of shape values.
struct ShapeValueOps : RewritePattern {
  ShapeValueOps(MLIRContext *ctx) : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/2, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    if (op->getNumResults() != 1 || !isShapeValue(op->getResult(0).getType()) ||
        !isa<GatherOp, ReshapeOp, CastOp, ConcatOp, BinaryOp, CompareOp, WhereOp, SliceOp>(op))
      return failure();
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    Type elt = type.getElementType();
    Location loc = op->getLoc();
    SmallVector<Value> out;
    if (auto g = dyn_cast<GatherOp>(op)) {
      DenseIntElementsAttr at;
      if (!isShapeValue(g.getData().getType()) || g.getData().getType().getRank() != 1 ||
          !matchPattern(g.getIndices(), m_Constant(&at)))
        return failure();
      SmallVector<Value> data = scalars(rewriter, loc, g.getData());
      for (const APInt &i : at.getValues<APInt>()) {
        int64_t k = i.getSExtValue();
        if (k < 0)
          k += data.size();
        if (k < 0 || k >= (int64_t)data.size())
          return failure();
        out.push_back(data[k]);
      }
    } else if (isa<ReshapeOp, CastOp>(op)) {
      if (!isShapeValue(op->getOperand(0).getType()))
        return failure();
      for (Value v : scalars(rewriter, loc, op->getOperand(0)))
        out.push_back(castScalar(rewriter, loc, v, elt));
    } else if (auto c = dyn_cast<ConcatOp>(op)) {
      for (Value in : c.getInputs()) {
        if (!isShapeValue(in.getType()))
          return failure();
        llvm::append_range(out, scalars(rewriter, loc, in));
      }
    } else if (auto bin = dyn_cast<BinaryOp>(op)) {
      if (!isShapeValue(bin.getLhs().getType()) || !isShapeValue(bin.getRhs().getType()))
        return failure();
      SmallVector<Value> x = scalars(rewriter, loc, bin.getLhs());
      SmallVector<Value> y = scalars(rewriter, loc, bin.getRhs());
      int64_t n = type.getNumElements();
      if (((int64_t)x.size() != n && x.size() != 1) || ((int64_t)y.size() != n && y.size() != 1))
        return failure();
      for (int64_t i = 0; i < n; ++i) {
        Value a = x[x.size() == 1 ? 0 : i], c = y[y.size() == 1 ? 0 : i];
        switch (bin.getKind()) {
        case BinaryKind::add: out.push_back(arith::AddIOp::create(rewriter, loc, a, c)); break;
        case BinaryKind::sub: out.push_back(arith::SubIOp::create(rewriter, loc, a, c)); break;
        case BinaryKind::mul: out.push_back(arith::MulIOp::create(rewriter, loc, a, c)); break;
        case BinaryKind::div: out.push_back(arith::DivSIOp::create(rewriter, loc, a, c)); break;
        case BinaryKind::max: out.push_back(arith::MaxSIOp::create(rewriter, loc, a, c)); break;
        case BinaryKind::min: out.push_back(arith::MinSIOp::create(rewriter, loc, a, c)); break;
        default: return failure();
        }
      }
    }
    if (auto sl = dyn_cast<SliceOp>(op)) {
      if (!isShapeValue(sl.getInput().getType()) || sl.getRuntimeStarts() ||
          sl.getInput().getType().getRank() != 1)
        return failure();
      SmallVector<Value> data = scalars(rewriter, loc, sl.getInput());
      int64_t n = data.size(), step = sl.getSteps()[0];
      int64_t start = sl.getStarts()[0];
      if (start < 0)
        start += n;
      start = step > 0 ? std::clamp<int64_t>(start, 0, n) : std::clamp<int64_t>(start, -1, n - 1);
      for (int64_t i = 0; i < type.getNumElements(); ++i) {
        int64_t k = start + i * step;
        if (k < 0 || k >= n)
          return failure();
        out.push_back(data[k]);
      }
    }
    if (auto cmp = dyn_cast<CompareOp>(op)) {
      if (!isShapeValue(cmp.getLhs().getType()) || !isShapeValue(cmp.getRhs().getType()))
        return failure();
      arith::CmpIPredicate pred;
      switch (cmp.getKind()) {
      case CompareKind::eq: pred = arith::CmpIPredicate::eq; break;
      case CompareKind::ne: pred = arith::CmpIPredicate::ne; break;
      case CompareKind::lt: pred = arith::CmpIPredicate::slt; break;
      case CompareKind::le: pred = arith::CmpIPredicate::sle; break;
      case CompareKind::gt: pred = arith::CmpIPredicate::sgt; break;
      case CompareKind::ge: pred = arith::CmpIPredicate::sge; break;
      }
      SmallVector<Value> x = scalars(rewriter, loc, cmp.getLhs());
      SmallVector<Value> y = scalars(rewriter, loc, cmp.getRhs());
      int64_t n = type.getNumElements();
      if (((int64_t)x.size() != n && x.size() != 1) || ((int64_t)y.size() != n && y.size() != 1))
        return failure();
      for (int64_t i = 0; i < n; ++i)
        out.push_back(arith::CmpIOp::create(rewriter, loc, pred, x[x.size() == 1 ? 0 : i],
                                            y[y.size() == 1 ? 0 : i]));
    } else if (auto w = dyn_cast<WhereOp>(op)) {
      if (!isShapeValue(w.getCondition().getType()) || !isShapeValue(w.getTrueValue().getType()) ||
          !isShapeValue(w.getFalseValue().getType()))
        return failure();
      SmallVector<Value> c = scalars(rewriter, loc, w.getCondition());
      SmallVector<Value> x = scalars(rewriter, loc, w.getTrueValue());
      SmallVector<Value> y = scalars(rewriter, loc, w.getFalseValue());
      int64_t n = type.getNumElements();
      auto at = [&](SmallVector<Value> &v, int64_t i) { return v[v.size() == 1 ? 0 : i]; };
      for (SmallVector<Value> *v : {&c, &x, &y})
        if ((int64_t)v->size() != n && v->size() != 1)
          return failure();
      for (int64_t i = 0; i < n; ++i)
        out.push_back(arith::SelectOp::create(rewriter, loc, at(c, i), at(x, i), at(y, i)));
    }
    if ((int64_t)out.size() != type.getNumElements())
      return failure();
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, type, out);
    return success();
  }
};

/// Range(start, limit, delta): ceil((limit - start) / delta) elements,
/// element i = start + i * delta.
struct RangeLowering : OpRewritePattern<RangeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RangeOp op, PatternRewriter &rewriter) const override {
    auto out = cast<RankedTensorType>(op.getType());
    Type elt = out.getElementType();
    if (out.getRank() != 1 || !(elt.isSignlessInteger() || isa<FloatType>(elt)))
      return rewriter.notifyMatchFailure(op, "element type not lowered yet");
    Location loc = op.getLoc();
    auto scalar = [&](Value v) {
      return tensor::ExtractOp::create(rewriter, loc, v, ValueRange{}).getResult();
    };
    Value start = scalar(op.getStart()), limit = scalar(op.getLimit()),
          delta = scalar(op.getDelta());
    Type index = rewriter.getIndexType();
    Value count;
    if (isa<FloatType>(elt)) {
      Value n = arith::DivFOp::create(rewriter, loc,
                                      arith::SubFOp::create(rewriter, loc, limit, start), delta);
      n = math::CeilOp::create(rewriter, loc, n);
      count = arith::FPToSIOp::create(rewriter, loc, rewriter.getI64Type(), n);
      count = arith::IndexCastOp::create(rewriter, loc, index, count);
    } else {
      Value span = arith::SubIOp::create(rewriter, loc, limit, start);
      count = arith::IndexCastOp::create(rewriter, loc, index,
                                         arith::CeilDivSIOp::create(rewriter, loc, span, delta));
    }
    count = arith::MaxSIOp::create(rewriter, loc, count,
                                   arith::ConstantIndexOp::create(rewriter, loc, 0));
    Value init = tensor::EmptyOp::create(rewriter, loc, out.getShape(), elt, ValueRange{count});
    SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(1, rewriter.getContext())};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out}, ValueRange{}, ValueRange{init}, maps,
        SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange) {
          Value i = linalg::IndexOp::create(b, l, 0);
          Value step;
          if (isa<FloatType>(elt)) {
            Value fi = arith::UIToFPOp::create(
                b, l, elt, arith::IndexCastOp::create(b, l, b.getI64Type(), i));
            step = arith::MulFOp::create(b, l, fi, delta);
            linalg::YieldOp::create(b, l, ValueRange{arith::AddFOp::create(b, l, start, step)});
          } else {
            step = arith::MulIOp::create(b, l, arith::IndexCastOp::create(b, l, elt, i), delta);
            linalg::YieldOp::create(b, l, ValueRange{arith::AddIOp::create(b, l, start, step)});
          }
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void populateShapeValuePatterns(RewritePatternSet &patterns) {
  patterns.add<ShapeValueOps, RangeLowering>(patterns.getContext());
}

} // namespace kiln::conversion

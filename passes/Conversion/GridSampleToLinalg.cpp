//===- GridSampleToLinalg.cpp - kiln.grid_sample -> linalg.generic --------===//
//
// One generic over the result [N, C, O1..Ok]. Per spatial dimension the
// body reads its normalized coordinate from the grid (x, the last spatial
// dim, first), maps it to the input (align_corners or not), applies the
// padding mode to a coordinate outside the borders (border: clamp;
// reflection: reflect between the borders), picks the taps of the mode
// (nearest: 1, linear: 2, cubic: 4 with Keys' a = -0.75) and sums their
// separable product, reading the input with tensor.extract. A tap outside
// the input reads 0 (zeros), the edge (border) or its reflection. Follows
// onnx/reference/ops/op_grid_sample.py, in f64.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"
#include "passes/Conversion/F64Math.h"

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/IR/NodeLocation.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace kiln::conversion {
namespace {

/// One input position along a dimension and its weight (f64; null: 1).
struct Tap {
  Value index;  // index type, in [0, extent)
  Value weight;
  Value inside; // i1, zeros padding: false reads 0 (not the clamped element)
};

class GridSampleBody : F64Math {
public:
  GridSampleBody(OpBuilder &b, Location loc, GridSampleOp op) : F64Math(b, loc), op(op) {}

  /// The taps along one spatial dimension of `extent` (f64) for the
  /// normalized coordinate `g` (f64).
  SmallVector<Tap> taps(Value g, Value extent) {
    bool align = op.getAlignCorners();
    // The borders a coordinate is reflected between (and, outside them,
    // padded): pixel edges, or centers with align_corners.
    Value lo = f(align ? 0.0 : -0.5);
    Value hi = align ? sub(extent, f(1)) : sub(extent, f(0.5));
    Value x = align ? mul(div(add(g, f(1)), f(2)), sub(extent, f(1)))
                    : div(sub(mul(add(g, f(1)), extent), f(1)), f(2));
    if (op.getMode() == ResizeMode::nearest)
      x = math::RoundEvenOp::create(b, loc, x); // as PyTorch: halves to even
    Value outside = arith::OrIOp::create(b, loc, cmp(arith::CmpFPredicate::OLT, x, lo),
                                         cmp(arith::CmpFPredicate::OGT, x, hi));
    if (op.getPadding() == GridPadding::border)
      x = select(outside, clamp(x, f(0), sub(extent, f(1))), x);
    else if (op.getPadding() == GridPadding::reflection)
      x = select(outside, reflect(x, lo, hi), x);
    switch (op.getMode()) {
    case ResizeMode::nearest:
      return {pixel(x, extent, lo, hi, Value())};
    case ResizeMode::linear: {
      Value x0 = math::FloorOp::create(b, loc, x);
      Value r = sub(x, x0);
      return {pixel(x0, extent, lo, hi, sub(f(1), r)),
              pixel(add(x0, f(1)), extent, lo, hi, r)};
    }
    case ResizeMode::cubic: {
      Value x0 = math::FloorOp::create(b, loc, x);
      std::array<Value, 4> w = cubicWeights(sub(x, x0), /*a=*/-0.75);
      SmallVector<Tap> out;
      for (int64_t k = 0; k < 4; ++k)
        out.push_back(pixel(add(x0, f(k - 1)), extent, lo, hi, w[k]));
      return out;
    }
    }
    return {};
  }

private:
  GridSampleOp op;

  Value clamp(Value v, Value lo, Value hi) {
    return arith::MaximumFOp::create(b, loc, arith::MinimumFOp::create(b, loc, v, hi), lo);
  }

  /// Reflects `x` by the near border until it lies in [lo, hi] (an empty
  /// range gives lo).
  Value reflect(Value x, Value lo, Value hi) {
    Value range = sub(hi, lo);
    Value below = cmp(arith::CmpFPredicate::OLT, x, lo);
    Value dx = select(below, sub(lo, x), sub(x, hi));
    Value n = math::FloorOp::create(b, loc, div(dx, range));
    Value r = sub(dx, mul(n, range));
    Value even = cmp(arith::CmpFPredicate::OEQ, mul(math::FloorOp::create(b, loc, div(n, f(2))), f(2)), n);
    // Below: an even count of reflections ends at lo + r; above, at hi - r.
    Value nearLo = add(lo, r), nearHi = sub(hi, r);
    Value v = select(below, select(even, nearLo, nearHi), select(even, nearHi, nearLo));
    return select(cmp(arith::CmpFPredicate::OGT, range, f(0)), v, lo);
  }

  /// The input position a tap at integer coordinate `i` (f64) reads, by the
  /// padding mode; with zeros one outside is 0 (whatever the clamped
  /// element holds: inf times a zero weight would be NaN). Always clamped
  /// into the input for the read.
  Tap pixel(Value i, Value extent, Value lo, Value hi, Value weight) {
    Value last = sub(extent, f(1));
    Value inside;
    if (op.getPadding() == GridPadding::zeros) {
      inside = arith::AndIOp::create(b, loc, cmp(arith::CmpFPredicate::OGE, i, f(0)),
                                     cmp(arith::CmpFPredicate::OLE, i, last));
    } else if (op.getPadding() == GridPadding::reflection) {
      Value inside = arith::AndIOp::create(b, loc, cmp(arith::CmpFPredicate::OGE, i, lo),
                                           cmp(arith::CmpFPredicate::OLE, i, hi));
      // (The reference truncates the reflected coordinate toward zero.)
      Value reflected = reflect(i, lo, hi);
      Value truncated = select(cmp(arith::CmpFPredicate::OLT, reflected, f(0)),
                               math::CeilOp::create(b, loc, reflected),
                               math::FloorOp::create(b, loc, reflected));
      i = select(inside, i, truncated);
    }
    // (minnum/maxnum: a NaN coordinate, from the grid's data, reads
    // element 0 instead of converting NaN to an index.)
    Value at = arith::MaxNumFOp::create(b, loc, arith::MinNumFOp::create(b, loc, i, last), f(0));
    Value index = arith::IndexCastOp::create(
        b, loc, b.getIndexType(), arith::FPToSIOp::create(b, loc, b.getI64Type(), at));
    return {index, weight, inside};
  }
};

struct GridSampleLowering : OpRewritePattern<GridSampleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GridSampleOp op, PatternRewriter &rewriter) const override {
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto grid = cast<RankedTensorType>(op.getGrid().getType());
    auto out = cast<RankedTensorType>(op.getType());
    Type elt = in.getElementType(), gridElt = grid.getElementType();
    int64_t rank = in.getRank(), k = rank - 2;
    if (!isLowerableElement(elt) || !isLowerableElement(gridElt) || k < 1)
      return rewriter.notifyMatchFailure(op, "element type or rank not lowered yet");
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Type f64 = rewriter.getF64Type();
    // Result [N, C, O1..Ok]: N and C from the input, O from the grid.
    SmallVector<Value> outSizes;
    for (int64_t d = 0; d < rank; ++d)
      if (out.isDynamicDim(d))
        outSizes.push_back(d < 2 ? tensor::DimOp::create(rewriter, loc, op.getInput(), d)
                                 : tensor::DimOp::create(rewriter, loc, op.getGrid(), d - 1));
    // Checked per run (the body reads the grid at the input's batch
    // positions and every input extent at some position).
    std::string node = describeNode(op);
    auto check = [&](Value ok, const std::string &what) {
      cf::AssertOp::create(rewriter, loc, ok, node + ": " + what);
    };
    auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(rewriter, loc, v).getResult(); };
    check(arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq,
                                tensor::DimOp::create(rewriter, loc, op.getInput(), 0),
                                tensor::DimOp::create(rewriter, loc, op.getGrid(), 0)),
          "the grid's batch {1} differs from the input's {0}");
    check(arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq,
                                tensor::DimOp::create(rewriter, loc, op.getGrid(), rank - 1), idx(k)),
          "the grid's last dim must hold one coordinate per spatial dim");
    SmallVector<Value> extents;
    for (int64_t d = 2; d < rank; ++d) {
      Value dim = tensor::DimOp::create(rewriter, loc, op.getInput(), d);
      check(arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sgt, dim, idx(0)),
            "an empty input dim cannot be sampled");
      extents.push_back(arith::SIToFPOp::create(
          rewriter, loc, f64,
          arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), dim)));
    }
    Value init = tensor::EmptyOp::create(rewriter, loc, out.getShape(), elt, outSizes);
    Value input = op.getInput(), gridValue = op.getGrid();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, ctx)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange) {
          GridSampleBody body(b, l, op);
          SmallVector<Value> o;
          for (int64_t d = 0; d < rank; ++d)
            o.push_back(linalg::IndexOp::create(b, l, d));
          SmallVector<SmallVector<Tap>> perDim;
          for (int64_t d = 0; d < k; ++d) {
            // grid[n, o1..ok, k - 1 - d]: the last spatial dim's coordinate first.
            SmallVector<Value> at = {o[0]};
            at.append(o.begin() + 2, o.end());
            at.push_back(arith::ConstantIndexOp::create(b, l, k - 1 - d));
            Value g = tensor::ExtractOp::create(b, l, gridValue, at);
            if (gridElt != f64)
              g = arith::ExtFOp::create(b, l, f64, g);
            perDim.push_back(body.taps(g, extents[d]));
          }
          // Sum over the cartesian product of the taps.
          Value acc = arith::ConstantOp::create(b, l, b.getF64FloatAttr(0.0));
          SmallVector<int64_t> pick(k, 0);
          while (true) {
            SmallVector<Value> at = {o[0], o[1]};
            Value w, inside;
            for (int64_t d = 0; d < k; ++d) {
              const Tap &t = perDim[d][pick[d]];
              at.push_back(t.index);
              if (t.weight)
                w = w ? Value(arith::MulFOp::create(b, l, w, t.weight)) : t.weight;
              if (t.inside)
                inside = inside ? Value(arith::AndIOp::create(b, l, inside, t.inside)) : t.inside;
            }
            Value v = tensor::ExtractOp::create(b, l, input, at);
            if (elt != f64)
              v = arith::ExtFOp::create(b, l, f64, v);
            if (w)
              v = arith::MulFOp::create(b, l, v, w);
            if (inside)
              v = arith::SelectOp::create(b, l, inside, v,
                                          arith::ConstantOp::create(b, l, b.getF64FloatAttr(0.0)));
            acc = arith::AddFOp::create(b, l, acc, v);
            int64_t d = k - 1;
            while (d >= 0 && ++pick[d] == (int64_t)perDim[d].size())
              pick[d--] = 0;
            if (d < 0)
              break;
          }
          if (elt != f64)
            acc = arith::TruncFOp::create(b, l, elt, acc);
          linalg::YieldOp::create(b, l, acc);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void populateGridSamplePatterns(RewritePatternSet &patterns) {
  patterns.add<GridSampleLowering>(patterns.getContext());
}

} // namespace kiln::conversion

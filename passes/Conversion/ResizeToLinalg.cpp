//===- ResizeToLinalg.cpp - kiln.resize -> linalg.generic -----------------===//
//
// One generic over the result. Per resized dimension the body maps the
// output coordinate to the input (the ONNX coordinate transformation, in
// f64 like the reference), picks the taps of the mode (nearest: 1, linear:
// 2, cubic: 4, clamped to the edge) with their weights, and sums the
// separable product over all resized dimensions, reading the input with
// tensor.extract. Follows onnx/reference/ops/op_resize.py.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace kiln::conversion {
namespace {

/// One input position and its weight (f64).
struct Tap {
  Value index;  // index type, in [0, extent)
  Value weight; // null: weight 1
};

class ResizeBody {
public:
  ResizeBody(OpBuilder &b, Location loc, ResizeOp op) : b(b), loc(loc), op(op) {}

  /// Taps along one dimension for output coordinate `o` (index).
  SmallVector<Tap> taps(Value o, int64_t inExtent, int64_t outExtent, double scale) {
    Value x = sourceCoordinate(o, inExtent, outExtent, scale);
    switch (op.getMode()) {
    case ResizeMode::nearest:
      return {{clampIndex(nearest(x), inExtent), Value()}};
    case ResizeMode::linear: {
      Value i0 = math::FloorOp::create(b, loc, x);
      Value r = arith::SubFOp::create(b, loc, x, i0);
      return {{clampIndex(i0, inExtent), arith::SubFOp::create(b, loc, f(1), r)},
              {clampIndex(arith::AddFOp::create(b, loc, i0, f(1)), inExtent), r}};
    }
    case ResizeMode::cubic:
      return cubic(x, inExtent);
    }
    return {};
  }

private:
  OpBuilder &b;
  Location loc;
  ResizeOp op;

  Value f(double v) { return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(v)); }

  Value sourceCoordinate(Value o, int64_t inExtent, int64_t outExtent, double scale) {
    Value x = arith::SIToFPOp::create(
        b, loc, b.getF64Type(), arith::IndexCastOp::create(b, loc, b.getI64Type(), o));
    StringRef mode = op.getCoordinateTransformationMode();
    double outWidth = scale * inExtent; // the reference's output_width
    if (mode == "align_corners") {
      if (outWidth == 1)
        return f(0);
      return arith::MulFOp::create(b, loc, x, f((inExtent - 1) / (outWidth - 1)));
    }
    if (mode == "asymmetric")
      return arith::DivFOp::create(b, loc, x, f(scale));
    if (mode == "pytorch_half_pixel" && outExtent == 1)
      return f(-0.5);
    if (mode == "half_pixel_symmetric") {
      double adjustment = outExtent / outWidth;
      double center = inExtent / 2.0, offset = center * (1 - adjustment);
      Value t = arith::SubFOp::create(
          b, loc, arith::DivFOp::create(b, loc, arith::AddFOp::create(b, loc, x, f(0.5)), f(scale)),
          f(0.5));
      return arith::AddFOp::create(b, loc, f(offset), t);
    }
    // half_pixel, pytorch_half_pixel
    return arith::SubFOp::create(
        b, loc, arith::DivFOp::create(b, loc, arith::AddFOp::create(b, loc, x, f(0.5)), f(scale)),
        f(0.5));
  }

  Value nearest(Value x) {
    StringRef mode = op.getNearestMode();
    if (mode == "floor")
      return math::FloorOp::create(b, loc, x);
    if (mode == "ceil")
      return math::CeilOp::create(b, loc, x);
    if (mode == "round_prefer_ceil")
      return math::FloorOp::create(b, loc, arith::AddFOp::create(b, loc, x, f(0.5)));
    // round_prefer_floor: halves go down.
    return math::CeilOp::create(b, loc, arith::SubFOp::create(b, loc, x, f(0.5)));
  }

  /// An f64 holding an integer, clamped into [0, extent) as an index.
  Value clampIndex(Value v, int64_t extent) {
    Value lo = arith::MaximumFOp::create(b, loc, v, f(0));
    Value hi = arith::MinimumFOp::create(b, loc, lo, f(extent - 1));
    return arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                      arith::FPToSIOp::create(b, loc, b.getI64Type(), hi));
  }

  SmallVector<Tap> cubic(Value x, int64_t inExtent) {
    double a = op.getCubicCoeffA().convertToDouble();
    Value i0 = math::FloorOp::create(b, loc, x);
    Value r = arith::SubFOp::create(b, loc, x, i0);
    Value s = arith::SubFOp::create(b, loc, f(1), r);
    auto mul = [&](Value p, Value q) -> Value { return arith::MulFOp::create(b, loc, p, q); };
    auto add = [&](Value p, Value q) -> Value { return arith::AddFOp::create(b, loc, p, q); };
    // Keys' kernel: outer taps at distance t in (1, 2), inner at t in [0, 1].
    auto outer = [&](Value t) { // ((a t - 5a) t + 8a) t - 4a
      return add(mul(add(mul(add(mul(f(a), t), f(-5 * a)), t), f(8 * a)), t), f(-4 * a));
    };
    auto inner = [&](Value t) { // ((a + 2) t - (a + 3)) t t + 1
      return add(mul(mul(add(mul(f(a + 2), t), f(-(a + 3))), t), t), f(1));
    };
    SmallVector<Value> w = {outer(add(r, f(1))), inner(r), inner(s), outer(add(s, f(1)))};
    SmallVector<Value> pos;
    for (int64_t k = -1; k <= 2; ++k)
      pos.push_back(add(i0, f(k)));
    if (op.getExcludeOutside()) {
      // Taps outside the input weigh nothing; the rest are renormalized.
      Value sum = f(0);
      for (int64_t k = 0; k < 4; ++k) {
        Value inside = arith::AndIOp::create(
            b, loc, arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE, pos[k], f(0)),
            arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, pos[k], f(inExtent - 1)));
        w[k] = arith::SelectOp::create(b, loc, inside, w[k], f(0));
        sum = add(sum, w[k]);
      }
      for (Value &v : w)
        v = arith::DivFOp::create(b, loc, v, sum);
    }
    SmallVector<Tap> taps;
    for (int64_t k = 0; k < 4; ++k)
      taps.push_back({clampIndex(pos[k], inExtent), w[k]});
    return taps;
  }
};

struct ResizeLowering : OpRewritePattern<ResizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ResizeOp op, PatternRewriter &rewriter) const override {
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto out = cast<RankedTensorType>(op.getType());
    Type elt = in.getElementType();
    if (op.getRuntimeScales() || op.getRuntimeSizes() || !in.hasStaticShape() ||
        !out.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "run-time scales or sizes not lowered yet");
    if (!isLowerableElement(elt) || (op.getMode() != ResizeMode::nearest && !isa<FloatType>(elt)))
      return rewriter.notifyMatchFailure(op, "element type not lowered yet");
    StringRef ctm = op.getCoordinateTransformationMode();
    if (ctm != "half_pixel" && ctm != "pytorch_half_pixel" && ctm != "align_corners" &&
        ctm != "asymmetric" && ctm != "half_pixel_symmetric")
      return rewriter.notifyMatchFailure(op, "coordinate transformation not lowered");
    int64_t rank = in.getRank();
    SmallVector<double> scales;
    for (int64_t d = 0; d < rank; ++d) {
      if (auto s = op.getScales())
        scales.push_back((*s)[d]);
      else
        scales.push_back((double)out.getDimSize(d) / in.getDimSize(d));
    }
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Value init = tensor::EmptyOp::create(rewriter, loc, out.getShape(), elt);
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    Value input = op.getInput();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, ctx)}, iters,
        [&](OpBuilder &b, Location l, ValueRange) {
          ResizeBody body(b, l, op);
          SmallVector<SmallVector<Tap>> perDim;
          for (int64_t d = 0; d < rank; ++d) {
            Value o = linalg::IndexOp::create(b, l, d);
            if (in.getDimSize(d) == out.getDimSize(d) && scales[d] == 1.0)
              perDim.push_back({{o, Value()}});
            else
              perDim.push_back(body.taps(o, in.getDimSize(d), out.getDimSize(d), scales[d]));
          }
          // Sum over the cartesian product of the taps.
          Value acc;
          SmallVector<int64_t> pick(rank, 0);
          while (true) {
            SmallVector<Value> at;
            Value w;
            for (int64_t d = 0; d < rank; ++d) {
              const Tap &t = perDim[d][pick[d]];
              at.push_back(t.index);
              if (t.weight)
                w = w ? Value(arith::MulFOp::create(b, l, w, t.weight)) : t.weight;
            }
            Value v = tensor::ExtractOp::create(b, l, input, at);
            if (w) {
              Value wf = elt == b.getF64Type() ? w : Value(arith::TruncFOp::create(b, l, elt, w));
              v = arith::MulFOp::create(b, l, v, wf);
            }
            acc = acc ? Value(arith::AddFOp::create(b, l, acc, v)) : v;
            int64_t d = rank - 1;
            while (d >= 0 && ++pick[d] == (int64_t)perDim[d].size())
              pick[d--] = 0;
            if (d < 0)
              break;
          }
          linalg::YieldOp::create(b, l, acc);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void populateResizePatterns(RewritePatternSet &patterns) {
  patterns.add<ResizeLowering>(patterns.getContext());
}

} // namespace kiln::conversion

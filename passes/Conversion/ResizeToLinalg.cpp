//===- ResizeToLinalg.cpp - kiln.resize -> linalg.generic -----------------===//
//
// One generic over the result. Per resized dimension the body maps the
// output coordinate to the input (the ONNX coordinate transformation, in
// f64 like the reference), picks the taps of the mode (nearest: 1, linear:
// 2, cubic: 4, clamped to the edge) with their weights, and sums the
// separable product over all resized dimensions, reading the input with
// tensor.extract. Follows onnx/reference/ops/op_resize.py. Extents and
// scales are f64 values: constants when static, else read per run (a
// dynamic input's dims; run-time scales; run-time sizes, which also give
// a dynamic result its extents, or floor(in x scale) from scales).
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"
#include "passes/Conversion/F64Math.h"
#include "dialects/kiln/IR/NodeLocation.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
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

/// What one resized dimension maps with, as f64 values (constants when
/// static; read per run from dynamic extents and run-time scales/sizes).
struct Extents {
  Value in, out, scale;
};

class ResizeBody : F64Math {
public:
  ResizeBody(OpBuilder &b, Location loc, ResizeOp op) : F64Math(b, loc), op(op) {}

  /// Taps along one dimension for output coordinate `o` (index).
  SmallVector<Tap> taps(Value o, const Extents &e) {
    Value x = sourceCoordinate(o, e);
    Value last = arith::SubFOp::create(b, loc, e.in, f(1)); // the last input position
    switch (op.getMode()) {
    case ResizeMode::nearest:
      return {{clampIndex(nearest(x), last), Value()}};
    case ResizeMode::linear: {
      Value i0 = math::FloorOp::create(b, loc, x);
      Value r = arith::SubFOp::create(b, loc, x, i0);
      return {{clampIndex(i0, last), arith::SubFOp::create(b, loc, f(1), r)},
              {clampIndex(arith::AddFOp::create(b, loc, i0, f(1)), last), r}};
    }
    case ResizeMode::cubic:
      return cubic(x, last);
    }
    return {};
  }

private:
  ResizeOp op;

  Value isOne(Value v) {
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, v, f(1));
  }

  Value sourceCoordinate(Value o, const Extents &e) {
    Value x = arith::SIToFPOp::create(
        b, loc, b.getF64Type(), arith::IndexCastOp::create(b, loc, b.getI64Type(), o));
    StringRef mode = op.getCoordinateTransformationMode();
    Value outWidth = mul(e.scale, e.in); // the reference's output_width
    if (mode == "align_corners")
      return select(isOne(outWidth), f(0),
                    mul(x, div(sub(e.in, f(1)), sub(outWidth, f(1)))));
    if (mode == "asymmetric")
      return div(x, e.scale);
    if (mode == "tf_half_pixel_for_nn")
      return div(add(x, f(0.5)), e.scale);
    // half_pixel, pytorch_half_pixel (-0.5 for an output of one)
    Value halfPixel = sub(div(add(x, f(0.5)), e.scale), f(0.5));
    if (mode == "pytorch_half_pixel")
      return select(isOne(e.out), f(-0.5), halfPixel);
    if (mode == "half_pixel_symmetric") {
      Value adjustment = div(e.out, outWidth);
      Value center = div(e.in, f(2));
      return add(mul(center, sub(f(1), adjustment)), halfPixel);
    }
    return halfPixel;
  }

  Value nearest(Value x) {
    StringRef mode = op.getNearestMode();
    if (mode == "floor")
      return math::FloorOp::create(b, loc, x);
    if (mode == "ceil")
      return math::CeilOp::create(b, loc, x);
    if (mode == "round_prefer_ceil")
      return math::FloorOp::create(b, loc, add(x, f(0.5)));
    // round_prefer_floor: halves go down.
    return math::CeilOp::create(b, loc, sub(x, f(0.5)));
  }

  /// An f64 holding an integer, clamped into [0, last] as an index.
  Value clampIndex(Value v, Value last) {
    Value hi = arith::MinimumFOp::create(b, loc, v, last);
    Value lo = arith::MaximumFOp::create(b, loc, hi, f(0));
    return arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                      arith::FPToSIOp::create(b, loc, b.getI64Type(), lo));
  }

  SmallVector<Tap> cubic(Value x, Value last) {
    double a = op.getCubicCoeffA().convertToDouble();
    Value i0 = math::FloorOp::create(b, loc, x);
    std::array<Value, 4> w = cubicWeights(sub(x, i0), a);
    SmallVector<Value> pos;
    for (int64_t k = -1; k <= 2; ++k)
      pos.push_back(add(i0, f(k)));
    if (op.getExcludeOutside()) {
      // Taps outside the input weigh nothing; the rest are renormalized.
      Value sum = f(0);
      for (int64_t k = 0; k < 4; ++k) {
        Value inside = arith::AndIOp::create(
            b, loc, arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE, pos[k], f(0)),
            arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, pos[k], last));
        w[k] = select(inside, w[k], f(0));
        sum = add(sum, w[k]);
      }
      for (Value &v : w)
        v = div(v, sum);
    }
    SmallVector<Tap> taps;
    for (int64_t k = 0; k < 4; ++k)
      taps.push_back({clampIndex(pos[k], last), w[k]});
    return taps;
  }
};

struct ResizeLowering : OpRewritePattern<ResizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ResizeOp op, PatternRewriter &rewriter) const override {
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto out = cast<RankedTensorType>(op.getType());
    Type elt = in.getElementType();
    if (!isLowerableElement(elt) || (op.getMode() != ResizeMode::nearest && !isa<FloatType>(elt)))
      return rewriter.notifyMatchFailure(op, "element type not lowered yet");
    StringRef ctm = op.getCoordinateTransformationMode();
    if (ctm != "half_pixel" && ctm != "pytorch_half_pixel" && ctm != "align_corners" &&
        ctm != "asymmetric" && ctm != "half_pixel_symmetric" && ctm != "tf_half_pixel_for_nn")
      return rewriter.notifyMatchFailure(op, "coordinate transformation not lowered");
    if (!op.getScales() && !op.getRuntimeScales() && !op.getRuntimeSizes() &&
        !out.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "a dynamic result needs scales or sizes");
    int64_t rank = in.getRank();
    for (Value v : {op.getRuntimeScales(), op.getRuntimeSizes()})
      if (v && cast<RankedTensorType>(v.getType()).getDimSize(0) != rank)
        return rewriter.notifyMatchFailure(op, "run-time scales/sizes of another length than "
                                               "the rank");
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Type f64 = rewriter.getF64Type();
    auto f = [&](double v) -> Value {
      return arith::ConstantOp::create(rewriter, loc, rewriter.getF64FloatAttr(v));
    };
    auto toF64 = [&](Value index) -> Value {
      return arith::SIToFPOp::create(
          rewriter, loc, f64, arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), index));
    };
    auto idx = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(rewriter, loc, v); };
    std::string node = describeNode(op);
    auto entry = [&](Value vec, int64_t d) -> Value {
      Value at = arith::ConstantIndexOp::create(rewriter, loc, d);
      return tensor::ExtractOp::create(rewriter, loc, vec, ValueRange{at});
    };
    // Per dim: the input extent, the output extent (the result's, or from
    // run-time sizes or scales: floor(in x scale)) and the scale (given,
    // or out / in), read per run where they are not static.
    SmallVector<Extents> ext(rank);
    SmallVector<Value> outSizes; // the result's dynamic dims
    for (int64_t d = 0; d < rank; ++d) {
      Value inIndex = in.isDynamicDim(d)
                          ? tensor::DimOp::create(rewriter, loc, op.getInput(), d).getResult()
                          : Value();
      ext[d].in = inIndex ? toF64(inIndex) : f((double)in.getDimSize(d));
      if (op.getScales())
        ext[d].scale = f((*op.getScales())[d]);
      else if (op.getRuntimeScales()) {
        Value sc = entry(op.getRuntimeScales(), d);
        ext[d].scale = sc.getType() == f64 ? sc : arith::ExtFOp::create(rewriter, loc, f64, sc);
        cf::AssertOp::create(rewriter, loc,
                             arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::OGT,
                                                   ext[d].scale, f(0)),
                             node + " scales dim " + std::to_string(d) +
                                 " by {0}: scales must be positive");
      }
      Value sizeIndex; // a run-time size
      if (op.getRuntimeSizes()) {
        sizeIndex = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(),
                                               entry(op.getRuntimeSizes(), d));
        cf::AssertOp::create(rewriter, loc,
                             arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ule,
                                                   sizeIndex, idx(int64_t(1) << 48)),
                             node + " sizes dim " + std::to_string(d) +
                                 " to {0}: sizes must be 0 to 2^48");
        if (!out.isDynamicDim(d)) // a declared extent must be the size given
          cf::AssertOp::create(rewriter, loc,
                               arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq,
                                                     sizeIndex, idx(out.getDimSize(d))),
                               node + " sizes dim " + std::to_string(d) + " to {0}, the model "
                               "declares " + std::to_string(out.getDimSize(d)));
      }
      Value outIndex;
      if (out.isDynamicDim(d)) {
        if (sizeIndex)
          outIndex = sizeIndex;
        else
          outIndex = arith::IndexCastOp::create(
              rewriter, loc, rewriter.getIndexType(),
              arith::FPToSIOp::create(
                  rewriter, loc, rewriter.getI64Type(),
                  math::FloorOp::create(rewriter, loc,
                                        arith::MulFOp::create(rewriter, loc, ext[d].in,
                                                              ext[d].scale))));
        outSizes.push_back(outIndex);
        ext[d].out = toF64(outIndex);
      } else {
        ext[d].out = f((double)out.getDimSize(d));
      }
      if (!ext[d].scale)
        ext[d].scale = arith::DivFOp::create(rewriter, loc, ext[d].out, ext[d].in);
      if (inIndex) { // an empty input dim has nothing to resize from
        Value outSize = outIndex ? outIndex : idx(out.getDimSize(d));
        cf::AssertOp::create(
            rewriter, loc,
            arith::OrIOp::create(
                rewriter, loc,
                arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sgt, inIndex, idx(0)),
                arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, outSize, idx(0))),
            node + " resizes an empty dim " + std::to_string(d) + " to a non-empty one");
      }
    }
    Value init = tensor::EmptyOp::create(rewriter, loc, out.getShape(), elt, outSizes);
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    Value input = op.getInput();
    bool runtime = op.getRuntimeScales() || op.getRuntimeSizes();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, ctx)}, iters,
        [&](OpBuilder &b, Location l, ValueRange) {
          ResizeBody body(b, l, op);
          SmallVector<SmallVector<Tap>> perDim;
          for (int64_t d = 0; d < rank; ++d) {
            Value o = linalg::IndexOp::create(b, l, d);
            // A dimension known to keep its extent at scale 1 is copied, as
            // is one of extent 1 to 1 (its taps all read that element).
            bool unit = (!runtime && !in.isDynamicDim(d) &&
                         in.getDimSize(d) == out.getDimSize(d) &&
                         (!op.getScales() || (*op.getScales())[d] == 1.0f)) ||
                        (in.getDimSize(d) == 1 && out.getDimSize(d) == 1);
            if (unit)
              perDim.push_back({{o, Value()}});
            else
              perDim.push_back(body.taps(o, ext[d]));
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

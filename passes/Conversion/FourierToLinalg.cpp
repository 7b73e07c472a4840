//===- FourierToLinalg.cpp - kiln.dft / kiln.stft -> linalg.generic -------===//
//
// The transforms as their definition: one generic over the result
// [..., bins, ..., 2] with a reduction over the points, each point's
// (real, imaginary) value times the twiddle e^(-+2 pi i k n / L), the
// angle taken from (k n mod L) so it stays exact for long signals. The
// result's last dim picks the component. STFT is the same over frames
// starting every frame_step points, each point times the window. Points
// past the signal (a DFT longer than its input) are zeros: the reduction
// stops at the signal's end. O(L) per output (onnxruntime's naive path;
// no FFT yet).
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"
#include "dialects/kiln/IR/NodeLocation.h"

#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;

namespace kiln::conversion {
namespace {

/// The result component `c` (0: real, 1: imaginary) of point (re, im)
/// times e^(sign 2 pi i m / L), scaled by `scale` (null: 1); f64 in and out.
Value twiddled(OpBuilder &b, Location loc, Value re, Value im, Value m, Value length,
               bool inverse, Value c, Value scale) {
  auto f64 = [&](Value index) -> Value {
    return arith::SIToFPOp::create(
        b, loc, b.getF64Type(), arith::IndexCastOp::create(b, loc, b.getI64Type(), index));
  };
  Value twoPi = arith::ConstantOp::create(b, loc, b.getF64FloatAttr(2 * llvm::numbers::pi));
  Value theta = arith::DivFOp::create(b, loc, arith::MulFOp::create(b, loc, twoPi, f64(m)),
                                      f64(length));
  Value cos = math::CosOp::create(b, loc, theta), sin = math::SinOp::create(b, loc, theta);
  auto mul = [&](Value p, Value q) { return arith::MulFOp::create(b, loc, p, q).getResult(); };
  // Forward: (re + i im)(cos - i sin); inverse: (re + i im)(cos + i sin).
  Value real = inverse ? arith::SubFOp::create(b, loc, mul(re, cos), mul(im, sin)).getResult()
                       : arith::AddFOp::create(b, loc, mul(re, cos), mul(im, sin)).getResult();
  Value imag = inverse ? arith::AddFOp::create(b, loc, mul(im, cos), mul(re, sin)).getResult()
                       : arith::SubFOp::create(b, loc, mul(im, cos), mul(re, sin)).getResult();
  Value isReal = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, c,
                                       arith::ConstantIndexOp::create(b, loc, 0));
  Value v = arith::SelectOp::create(b, loc, isReal, real, imag);
  return scale ? mul(v, scale) : v;
}

/// (re, im) of `x` at `at` (its last index replaced by the component), as
/// f64; a real input (last extent 1) has im 0.
std::pair<Value, Value> point(OpBuilder &b, Location loc, Value x, SmallVector<Value> at) {
  auto t = cast<RankedTensorType>(x.getType());
  auto read = [&](int64_t component) -> Value {
    at.back() = arith::ConstantIndexOp::create(b, loc, component);
    Value v = tensor::ExtractOp::create(b, loc, x, at);
    return t.getElementType().isF64() ? v : arith::ExtFOp::create(b, loc, b.getF64Type(), v);
  };
  Value re = read(0);
  Value im = t.getDimSize(t.getRank() - 1) == 2
                 ? read(1)
                 : arith::ConstantOp::create(b, loc, b.getF64FloatAttr(0.0)).getResult();
  return {re, im};
}

Value accumulate(OpBuilder &b, Location loc, Value acc, Value term) {
  if (acc.getType() != term.getType())
    term = arith::TruncFOp::create(b, loc, acc.getType(), term);
  return arith::AddFOp::create(b, loc, acc, term);
}

struct DftLowering : OpRewritePattern<DftOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DftOp op, PatternRewriter &rewriter) const override {
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto out = cast<RankedTensorType>(op.getType());
    // (I64Attr reads as uint64_t: a negative axis is compared as signed.)
    int64_t rank = in.getRank(), axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank - 1;
    if (in.isDynamicDim(rank - 1) || !isLowerableElement(in.getElementType()))
      return rewriter.notifyMatchFailure(op, "a dynamic component dim or element type");
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    int64_t length = op.getLength();
    bool inverse = op.getInverse();
    // The points summed: the transform's length, or fewer when the input
    // ends first (the rest are zero padding).
    Value points = arith::MinUIOp::create(rewriter, loc,
                                          tensor::DimOp::create(rewriter, loc, op.getInput(), axis),
                                          arith::ConstantIndexOp::create(rewriter, loc, length));
    SmallVector<Value> outSizes;
    for (int64_t d = 0; d < rank; ++d)
      if (out.isDynamicDim(d))
        outSizes.push_back(tensor::DimOp::create(rewriter, loc, op.getInput(), d));
    Value zero = arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(out.getElementType()));
    Value init = linalg::FillOp::create(rewriter, loc, zero,
                                        Value(tensor::EmptyOp::create(rewriter, loc, out.getShape(),
                                                                      out.getElementType(), outSizes)))
                     .getResult(0);
    Value window = tensor::EmptyOp::create(rewriter, loc, SmallVector<int64_t>{ShapedType::kDynamic},
                                           rewriter.getI8Type(), ValueRange{points});
    SmallVector<AffineMap> maps = {
        AffineMap::get(rank + 1, 0, {getAffineDimExpr(rank, ctx)}, ctx),
        AffineMap::getMultiDimIdentityMap(rank + 1, ctx).getMajorSubMap(rank)};
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.push_back(utils::IteratorType::reduction);
    Value input = op.getInput();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out}, ValueRange{window}, ValueRange{init}, maps, iters,
        [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> at;
          for (int64_t d = 0; d < rank; ++d)
            at.push_back(linalg::IndexOp::create(b, l, d));
          Value k = at[axis], c = at[rank - 1], n = linalg::IndexOp::create(b, l, rank);
          at[axis] = n;
          auto [re, im] = point(b, l, input, at);
          Value len = arith::ConstantIndexOp::create(b, l, length);
          Value m = arith::RemUIOp::create(b, l, arith::MulIOp::create(b, l, k, n), len);
          Value scale = inverse ? arith::ConstantOp::create(b, l, b.getF64FloatAttr(1.0 / length))
                                      .getResult()
                                : Value();
          Value term = twiddled(b, l, re, im, m, len, inverse, c, scale);
          linalg::YieldOp::create(b, l, accumulate(b, l, args[1], term));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

struct StftLowering : OpRewritePattern<StftOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(StftOp op, PatternRewriter &rewriter) const override {
    auto in = cast<RankedTensorType>(op.getSignal().getType());
    auto out = cast<RankedTensorType>(op.getType());
    if (in.isDynamicDim(2) || !isLowerableElement(in.getElementType()))
      return rewriter.notifyMatchFailure(op, "a dynamic component dim or element type");
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Type index = rewriter.getIndexType();
    auto scalar = [&](Value v) -> Value {
      return arith::IndexCastOp::create(rewriter, loc, index, scalarOf(rewriter, loc, v));
    };
    auto cst = [&](int64_t v) { return arith::ConstantIndexOp::create(rewriter, loc, v).getResult(); };
    Value step = scalar(op.getFrameStep());
    Value frameLength = op.getFrameLength()
                            ? scalar(op.getFrameLength())
                            : tensor::DimOp::create(rewriter, loc, op.getWindow(), 0).getResult();
    Value signalLength = tensor::DimOp::create(rewriter, loc, op.getSignal(), 1);
    // Checked per run: the sizes below would otherwise divide by zero or
    // read past the signal.
    std::string node = describeNode(op);
    cf::AssertOp::create(rewriter, loc,
                         arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sgt, step, cst(0)),
                         node + ": frame_step must be positive");
    Value fits = arith::AndIOp::create(
        rewriter, loc,
        arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sgt, frameLength, cst(0)),
        arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sle, frameLength, signalLength));
    cf::AssertOp::create(rewriter, loc, fits,
                         node + ": frame_length must be positive and at most the signal's length");
    if (op.getWindow()) {
      Value same = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, frameLength,
                                         tensor::DimOp::create(rewriter, loc, op.getWindow(), 0));
      cf::AssertOp::create(rewriter, loc, same, node + ": the window must have frame_length points");
    }
    // [B, frames, bins, 2] (the shape function computes these before the
    // checks are read: a zero step must not divide, a frame longer than
    // the signal must not wrap)
    Value safeStep = arith::SelectOp::create(
        rewriter, loc, arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sgt, step, cst(0)),
        step, cst(1));
    Value span = arith::SubIOp::create(
        rewriter, loc, signalLength,
        arith::MinUIOp::create(rewriter, loc, frameLength, signalLength));
    Value frames = arith::AddIOp::create(
        rewriter, loc, arith::DivUIOp::create(rewriter, loc, span, safeStep), cst(1));
    Value bins = op.getOnesided()
                     ? arith::AddIOp::create(rewriter, loc,
                                             arith::DivUIOp::create(rewriter, loc, frameLength, cst(2)),
                                             cst(1))
                           .getResult()
                     : frameLength;
    SmallVector<Value> sizes = {tensor::DimOp::create(rewriter, loc, op.getSignal(), 0), frames,
                                bins, cst(2)};
    SmallVector<Value> outSizes;
    for (int64_t d = 0; d < 4; ++d)
      if (out.isDynamicDim(d))
        outSizes.push_back(sizes[d]);
    Type elt = out.getElementType();
    Value zero = arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(elt));
    Value init = linalg::FillOp::create(
                     rewriter, loc, zero,
                     Value(tensor::EmptyOp::create(rewriter, loc, out.getShape(), elt, outSizes)))
                     .getResult(0);
    // The points: the window (read through the map) or their count alone.
    Value points = op.getWindow()
                       ? op.getWindow()
                       : tensor::EmptyOp::create(rewriter, loc,
                                                 SmallVector<int64_t>{ShapedType::kDynamic},
                                                 rewriter.getI8Type(), ValueRange{frameLength})
                             .getResult();
    SmallVector<AffineMap> maps = {AffineMap::get(5, 0, {getAffineDimExpr(4, ctx)}, ctx),
                                   AffineMap::getMultiDimIdentityMap(5, ctx).getMajorSubMap(4)};
    SmallVector<utils::IteratorType> iters(4, utils::IteratorType::parallel);
    iters.push_back(utils::IteratorType::reduction);
    Value signal = op.getSignal();
    bool windowed = static_cast<bool>(op.getWindow());
    Value last = arith::SubIOp::create(rewriter, loc, signalLength, cst(1));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out}, ValueRange{points}, ValueRange{init}, maps, iters,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value batch = linalg::IndexOp::create(b, l, 0), frame = linalg::IndexOp::create(b, l, 1),
                k = linalg::IndexOp::create(b, l, 2), c = linalg::IndexOp::create(b, l, 3),
                n = linalg::IndexOp::create(b, l, 4);
          Value at = arith::AddIOp::create(b, l, arith::MulIOp::create(b, l, frame, safeStep), n);
          at = arith::MinUIOp::create(b, l, at, last); // (in range when the checks hold)
          auto [re, im] = point(b, l, signal, {batch, at, Value()});
          if (windowed) {
            Value w = args[0];
            if (!w.getType().isF64())
              w = arith::ExtFOp::create(b, l, b.getF64Type(), w);
            re = arith::MulFOp::create(b, l, re, w);
            im = arith::MulFOp::create(b, l, im, w);
          }
          Value m = arith::RemUIOp::create(b, l, arith::MulIOp::create(b, l, k, n), frameLength);
          Value term = twiddled(b, l, re, im, m, frameLength, false, c, Value());
          linalg::YieldOp::create(b, l, accumulate(b, l, args[1], term));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void populateFourierPatterns(RewritePatternSet &patterns) {
  patterns.add<DftLowering, StftLowering>(patterns.getContext());
}

} // namespace kiln::conversion

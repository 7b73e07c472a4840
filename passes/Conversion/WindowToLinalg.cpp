//===- WindowToLinalg.cpp - convolution and pooling -> linalg.generic -----===//
//
// N-d convolution (groups, strides, dilations) and max/avg/Lp pooling as one
// linalg.generic each over (batch, channels, output spatial..., reduction
// dims...). The input is padded first (tensor.pad with 0, or -inf for max
// pooling; Lp and averages exclude padding through a count), and the input
// map reads `o * stride + k * dilation` per spatial dimension. Static shapes
// only for now.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;

namespace kiln::conversion {
namespace {

/// `x` padded with `value`: `low`/`high` per spatial dim (N and C unpadded),
/// with `extraHigh` more at the end (ceil-mode windows).
Value padSpatial(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> pads,
                 ArrayRef<int64_t> extraHigh, Value value) {
  auto t = cast<RankedTensorType>(x.getType());
  int64_t k = t.getRank() - 2;
  SmallVector<int64_t> low(t.getRank(), 0), high(t.getRank(), 0), shape(t.getShape());
  bool any = false;
  for (int64_t i = 0; i < k; ++i) {
    low[i + 2] = pads[i];
    high[i + 2] = pads[i + k] + (extraHigh.empty() ? 0 : extraHigh[i]);
    shape[i + 2] += low[i + 2] + high[i + 2];
    any |= low[i + 2] || high[i + 2];
  }
  if (!any)
    return x;
  auto padded = RankedTensorType::get(shape, t.getElementType());
  auto pad = tensor::PadOp::create(b, loc, padded, x, low, high, ValueRange{}, ValueRange{});
  SmallVector<Type> idx(t.getRank(), b.getIndexType());
  SmallVector<Location> locs(t.getRank(), loc);
  OpBuilder::InsertionGuard g(b);
  b.createBlock(&pad.getRegion(), {}, idx, locs);
  tensor::YieldOp::create(b, loc, value);
  return pad.getResult();
}

/// y + bias[channel] (bias [M] broadcast along dim 1), when there is a bias.
Value addChannelBias(OpBuilder &b, Location loc, Value y, Value bias) {
  if (!bias)
    return y;
  auto out = cast<RankedTensorType>(y.getType());
  MLIRContext *ctx = b.getContext();
  AffineMap id = AffineMap::getMultiDimIdentityMap(out.getRank(), ctx);
  SmallVector<AffineMap> maps = {id, AffineMap::get(out.getRank(), 0, {getAffineDimExpr(1, ctx)}, ctx),
                                 id};
  SmallVector<utils::IteratorType> iters(out.getRank(), utils::IteratorType::parallel);
  Value e = tensor::EmptyOp::create(b, loc, out.getShape(), out.getElementType());
  return linalg::GenericOp::create(b, loc, TypeRange{out}, ValueRange{y, bias}, ValueRange{e},
                                   maps, iters,
                                   [&](OpBuilder &nb, Location l, ValueRange a) {
                                     linalg::YieldOp::create(
                                         nb, l, buildBinary(nb, l, BinaryKind::add, a[0], a[1]));
                                   })
      .getResult(0);
}

/// The multiply-accumulate generic of a convolution over loops (n, m,
/// o_1..o_k, c, k_1..k_k) into a zero-filled `out`.
Value convContraction(OpBuilder &b, Location loc, Value x, Value w, RankedTensorType out,
                      ArrayRef<AffineExpr> inExprs, ArrayRef<AffineExpr> wExprs,
                      ArrayRef<AffineExpr> outExprs, int64_t k) {
  MLIRContext *ctx = b.getContext();
  int64_t loops = 2 + k + 1 + k;
  SmallVector<AffineMap> maps = {AffineMap::get(loops, 0, inExprs, ctx),
                                 AffineMap::get(loops, 0, wExprs, ctx),
                                 AffineMap::get(loops, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iters(loops, utils::IteratorType::reduction);
  for (int64_t i = 0; i < 2 + k; ++i)
    iters[i] = utils::IteratorType::parallel;
  Type elt = out.getElementType();
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elt));
  Value init = filled(b, loc, out, {}, zero);
  return linalg::GenericOp::create(b, loc, TypeRange{out}, ValueRange{x, w}, ValueRange{init},
                                   maps, iters,
                                   [&](OpBuilder &nb, Location l, ValueRange a) {
                                     Value p = buildBinary(nb, l, BinaryKind::mul, a[0], a[1]);
                                     linalg::YieldOp::create(
                                         nb, l, buildBinary(nb, l, BinaryKind::add, a[2], p));
                                   })
      .getResult(0);
}

struct ConvLowering : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op, PatternRewriter &rewriter) const override {
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto wt = cast<RankedTensorType>(op.getWeight().getType());
    auto out = cast<RankedTensorType>(op.getType());
    Type elt = out.getElementType();
    if (!in.hasStaticShape() || !wt.hasStaticShape() || !out.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic convolution shapes");
    if (!isLowerableElement(elt))
      return rewriter.notifyMatchFailure(op, "element type not lowered yet");
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    int64_t k = in.getRank() - 2, group = static_cast<int64_t>(op.getGroup());
    int64_t cPerGroup = wt.getDimSize(1), mPerGroup = wt.getDimSize(0) / group;
    Value zero = arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(elt));
    Value x = padSpatial(rewriter, loc, op.getInput(), op.getPads(), {}, zero);
    // Loops: n, m, o_1..o_k, c, k_1..k_k.
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    AffineExpr n = d(0), m = d(1), c = d(2 + k);
    SmallVector<AffineExpr> inExprs = {n, m.floorDiv(mPerGroup) * cPerGroup + c};
    SmallVector<AffineExpr> wExprs = {m, c}, outExprs = {n, m};
    for (int64_t i = 0; i < k; ++i) {
      AffineExpr o = d(2 + i), kk = d(3 + k + i);
      inExprs.push_back(o * op.getStrides()[i] + kk * op.getDilations()[i]);
      wExprs.push_back(kk);
      outExprs.push_back(o);
    }
    Value y = convContraction(rewriter, loc, x, op.getWeight(), out, inExprs, wExprs, outExprs, k);
    y = addChannelBias(rewriter, loc, y, op.getBias());
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// conv_transpose as a convolution: the input spread out by the strides
/// (zeros between elements, an insert_slice with strides into a zero
/// tensor), padded by dilation * (K - 1) minus the pads (plus the output
/// padding at the end), then a stride-1 convolution with the kernel flipped
/// and its channel roles swapped ([C, M/group, K...] weights).
struct ConvTransposeLowering : OpRewritePattern<ConvTransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvTransposeOp op, PatternRewriter &rewriter) const override {
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto wt = cast<RankedTensorType>(op.getWeight().getType());
    auto out = cast<RankedTensorType>(op.getType());
    Type elt = out.getElementType();
    if (!in.hasStaticShape() || !wt.hasStaticShape() || !out.hasStaticShape() ||
        !isLowerableElement(elt))
      return rewriter.notifyMatchFailure(op, "dynamic shapes or element type");
    int64_t k = in.getRank() - 2;
    if (op.getGroup() != 1)
      return rewriter.notifyMatchFailure(op, "grouped conv_transpose not lowered yet");
    ArrayRef<int64_t> strides = op.getStrides(), dil = op.getDilations(), pads = op.getPads(),
                      outPad = op.getOutputPadding();
    SmallVector<int64_t> low(k), high(k);
    for (int64_t i = 0; i < k; ++i) {
      int64_t kk = wt.getDimSize(2 + i), span = dil[i] * (kk - 1);
      low[i] = span - pads[i];
      high[i] = span - pads[k + i] + (outPad.empty() ? 0 : outPad[i]);
      int64_t size = (in.getDimSize(2 + i) - 1) * strides[i] + 1 + low[i] + high[i] - span;
      if (low[i] < 0 || high[i] < 0 || size != out.getDimSize(2 + i))
        return rewriter.notifyMatchFailure(op, "pads beyond the kernel span not lowered yet");
    }
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Value zero = arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(elt));
    // Spread: [N, C, (I - 1) * s + 1] with x at multiples of s.
    Value x = op.getInput();
    if (llvm::any_of(strides, [](int64_t s) { return s != 1; })) {
      SmallVector<int64_t> shape(in.getShape());
      SmallVector<OpFoldResult> offsets(in.getRank(), rewriter.getIndexAttr(0)), sizes,
          steps(in.getRank(), rewriter.getIndexAttr(1));
      for (int64_t d : in.getShape())
        sizes.push_back(rewriter.getIndexAttr(d));
      for (int64_t i = 0; i < k; ++i) {
        shape[2 + i] = (in.getDimSize(2 + i) - 1) * strides[i] + 1;
        steps[2 + i] = rewriter.getIndexAttr(strides[i]);
      }
      Value spread = filled(rewriter, loc, RankedTensorType::get(shape, elt), {}, zero);
      x = tensor::InsertSliceOp::create(rewriter, loc, x, spread, offsets, sizes, steps);
    }
    SmallVector<int64_t> padList(low);
    padList.append(high);
    x = padSpatial(rewriter, loc, x, padList, {}, zero);
    // Loops: n, m, o_1..o_k, c, k_1..k_k, where k_i indexes the weight
    // directly (every loop must be a plain dimension of some operand) and
    // the flip moves into the input's index.
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    AffineExpr n = d(0), m = d(1), c = d(2 + k);
    SmallVector<AffineExpr> inExprs = {n, c}, wExprs = {c, m}, outExprs = {n, m};
    for (int64_t i = 0; i < k; ++i) {
      AffineExpr o = d(2 + i), kk = d(3 + k + i);
      inExprs.push_back(o + (wt.getDimSize(2 + i) - 1 - kk) * dil[i]);
      wExprs.push_back(kk);
      outExprs.push_back(o);
    }
    Value y = convContraction(rewriter, loc, x, op.getWeight(), out, inExprs, wExprs, outExprs, k);
    y = addChannelBias(rewriter, loc, y, op.getBias());
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct PoolLowering : OpRewritePattern<PoolOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PoolOp op, PatternRewriter &rewriter) const override {
    if (op.getWithIndices())
      return rewriter.notifyMatchFailure(op, "max pooling indices not lowered yet");
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto out = cast<RankedTensorType>(op.getResult().getType());
    Type elt = in.getElementType();
    PoolKind kind = op.getKind();
    // Unsigned integers (uint8 images) pool by max too: the body works on
    // signless values through casts that vanish in the LLVM conversion.
    bool isUnsigned = isUnsignedElement(elt) && kind == PoolKind::max;
    if (!in.hasStaticShape() || !out.hasStaticShape() || !(isLowerableElement(elt) || isUnsigned))
      return rewriter.notifyMatchFailure(op, "dynamic shapes or element type");
    if (kind != PoolKind::max && !isa<FloatType>(elt))
      return rewriter.notifyMatchFailure(op, "integer average pooling");
    Type bodyElt = signlessElement(elt);
    auto toBody = [&](OpBuilder &b, Location l, Value v) -> Value {
      return isUnsigned ? UnrealizedConversionCastOp::create(b, l, bodyElt, v).getResult(0) : v;
    };
    auto fromBody = [&](OpBuilder &b, Location l, Value v) -> Value {
      return isUnsigned ? UnrealizedConversionCastOp::create(b, l, elt, v).getResult(0) : v;
    };
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    int64_t k = in.getRank() - 2;
    ArrayRef<int64_t> kernel = op.getKernel(), strides = op.getStrides(),
                      pads = op.getPads(), dil = op.getDilations();
    // Ceil mode may need input beyond the end padding.
    SmallVector<int64_t> extra(k, 0);
    for (int64_t i = 0; i < k; ++i) {
      int64_t need = (out.getDimSize(i + 2) - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1;
      int64_t have = in.getDimSize(i + 2) + pads[i] + pads[i + k];
      extra[i] = std::max<int64_t>(0, need - have);
    }
    Value init;
    if (kind == PoolKind::max)
      init = isa<FloatType>(elt)
                 ? Value(arith::ConstantOp::create(
                       rewriter, loc,
                       rewriter.getFloatAttr(elt, -std::numeric_limits<double>::infinity())))
                 : fromBody(rewriter, loc,
                            arith::ConstantOp::create(
                                rewriter, loc,
                                rewriter.getIntegerAttr(
                                    bodyElt, isUnsigned ? APInt::getZero(elt.getIntOrFloatBitWidth())
                                                        : APInt::getSignedMinValue(
                                                              elt.getIntOrFloatBitWidth()))));
    else
      init = arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(elt));
    Value zero = fromBody(rewriter, loc,
                          arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(bodyElt)));
    Value x = padSpatial(rewriter, loc, op.getInput(), pads, extra,
                         kind == PoolKind::max ? init : zero);
    // Loops: n, c, o_1..o_k, k_1..k_k; the kernel shape enters as a tensor
    // operand (the window) so the loop bounds are known.
    int64_t loops = 2 + 2 * k;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineExpr> inExprs = {d(0), d(1)}, winExprs, outExprs = {d(0), d(1)};
    for (int64_t i = 0; i < k; ++i) {
      inExprs.push_back(d(2 + i) * strides[i] + d(2 + k + i) * dil[i]);
      winExprs.push_back(d(2 + k + i));
      outExprs.push_back(d(2 + i));
    }
    Value window = tensor::EmptyOp::create(rewriter, loc, kernel, elt);
    SmallVector<AffineMap> maps = {AffineMap::get(loops, 0, inExprs, ctx),
                                   AffineMap::get(loops, 0, winExprs, ctx),
                                   AffineMap::get(loops, 0, outExprs, ctx)};
    SmallVector<utils::IteratorType> iters(loops, utils::IteratorType::reduction);
    for (int64_t i = 0; i < 2 + k; ++i)
      iters[i] = utils::IteratorType::parallel;
    auto pool = [&](Value src, Value start, BinaryKind combine, bool lp) {
      Value acc = tensor::EmptyOp::create(rewriter, loc, out.getShape(), elt);
      acc = linalg::FillOp::create(rewriter, loc, start, acc).getResult(0);
      double p = (double)op.getP();
      return linalg::GenericOp::create(
                 rewriter, loc, TypeRange{out}, ValueRange{src, window}, ValueRange{acc},
                 maps, iters,
                 [&](OpBuilder &b, Location l, ValueRange a) {
                   Value v = a[0];
                   if (lp) {
                     Value pv = arith::ConstantOp::create(b, l, b.getFloatAttr(elt, p));
                     v = buildBinary(b, l, BinaryKind::pow, buildUnary(b, l, UnaryKind::abs, v), pv);
                   }
                   linalg::YieldOp::create(
                       b, l,
                       fromBody(b, l,
                                buildBinary(b, l, combine, toBody(b, l, a[2]), toBody(b, l, v),
                                            isUnsigned)));
                 })
          .getResult(0);
    };
    Value y;
    if (kind == PoolKind::max) {
      y = pool(x, init, BinaryKind::max, false);
    } else {
      y = pool(x, zero, BinaryKind::add, kind == PoolKind::lp);
      Value divisor;
      if (kind == PoolKind::avg) {
        // Window sizes: count real elements (or, with count_include_pad,
        // elements inside the declared padding).
        auto ones = RankedTensorType::get(in.getShape(), elt);
        Value one = arith::ConstantOp::create(rewriter, loc, rewriter.getFloatAttr(elt, 1.0));
        Value onesT = linalg::FillOp::create(
                          rewriter, loc, one,
                          Value(tensor::EmptyOp::create(rewriter, loc, ones.getShape(), elt)))
                          .getResult(0);
        Value counted = op.getCountIncludePad()
                            ? padSpatial(rewriter, loc, onesT, pads, extra, one)
                            : padSpatial(rewriter, loc, onesT, pads, extra, zero);
        if (op.getCountIncludePad() && llvm::any_of(extra, [](int64_t e) { return e; })) {
          // Ceil-mode overhang past the declared padding never counts.
          SmallVector<int64_t> noPad(2 * k, 0);
          Value inner = padSpatial(rewriter, loc, onesT, pads, {}, one);
          SmallVector<int64_t> tail(k, 0);
          for (int64_t i = 0; i < k; ++i)
            tail[i] = extra[i];
          counted = padSpatial(rewriter, loc, inner, noPad, tail, zero);
        }
        divisor = pool(counted, zero, BinaryKind::add, false);
      }
      AffineMap id = AffineMap::getMultiDimIdentityMap(out.getRank(), ctx);
      SmallVector<utils::IteratorType> piters(out.getRank(), utils::IteratorType::parallel);
      Value e = tensor::EmptyOp::create(rewriter, loc, out.getShape(), elt);
      SmallVector<Value> ins = {y};
      if (divisor)
        ins.push_back(divisor);
      SmallVector<AffineMap> pmaps(ins.size() + 1, id);
      double p = (double)op.getP();
      y = linalg::GenericOp::create(
              rewriter, loc, TypeRange{out}, ins, ValueRange{e}, pmaps, piters,
              [&](OpBuilder &b, Location l, ValueRange a) {
                Value v;
                if (kind == PoolKind::avg) {
                  v = buildBinary(b, l, BinaryKind::div, a[0], a[1]);
                } else {
                  Value inv = arith::ConstantOp::create(b, l, b.getFloatAttr(elt, 1.0 / p));
                  v = buildBinary(b, l, BinaryKind::pow, a[0], inv);
                }
                linalg::YieldOp::create(b, l, v);
              })
              .getResult(0);
    }
    rewriter.replaceOp(op, y);
    return success();
  }
};

} // namespace

void populateWindowPatterns(RewritePatternSet &patterns) {
  patterns.add<ConvLowering, ConvTransposeLowering, PoolLowering>(patterns.getContext());
}

} // namespace kiln::conversion

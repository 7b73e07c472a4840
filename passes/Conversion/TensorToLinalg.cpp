//===- TensorToLinalg.cpp - slice, pad, trilu, cumsum -> linalg -----------===//
//
// Static slices read the input through a strided map (`d * step + start`,
// negative steps included). Constant padding is tensor.pad; edge, reflect
// and wrap padding read the input at a clamped / mirrored / wrapped index.
// Trilu selects by `j - i` against k; cumsum is a masked reduction over the
// axis (quadratic in its extent: a scan kernel will replace it).
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "dialects/kiln/IR/NodeLocation.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace kiln::conversion {
namespace {

SmallVector<utils::IteratorType> parallel(int64_t n) {
  return SmallVector<utils::IteratorType>(n, utils::IteratorType::parallel);
}

/// One dim of an ONNX Slice from (run-time) start, end and step: the first
/// index read, the element count and the step (clamped to +-2^62: past
/// it, the end of the axis either way, and no overflow below). Forward,
/// start and end clamp to [0, dim]; backward, the start to [0, dim - 1]
/// and the end to [-1, dim - 1]; an empty dim stays empty.
struct SliceDim {
  Value first, count, step;
};
SliceDim sliceBounds(OpBuilder &b, Location loc, Value dim, Value s, Value e, Value st) {
  using P = arith::CmpIPredicate;
  auto idx = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, loc, v); };
  auto cmp = [&](P p, Value x, Value y) -> Value { return arith::CmpIOp::create(b, loc, p, x, y); };
  auto sel = [&](Value c, Value x, Value y) -> Value {
    return arith::SelectOp::create(b, loc, c, x, y);
  };
  auto add = [&](Value x, Value y) -> Value { return arith::AddIOp::create(b, loc, x, y); };
  auto sub = [&](Value x, Value y) -> Value { return arith::SubIOp::create(b, loc, x, y); };
  auto clamp = [&](Value v, Value lo, Value hi) -> Value {
    return arith::MinSIOp::create(b, loc, arith::MaxSIOp::create(b, loc, v, lo), hi);
  };
  Value big = idx(int64_t(1) << 62);
  s = clamp(s, sub(idx(0), big), big);
  e = clamp(e, sub(idx(0), big), big);
  st = clamp(st, sub(idx(0), big), big);
  Value forward = cmp(P::sgt, st, idx(0));
  Value lastIndex = sub(dim, idx(1));
  auto fromEnd = [&](Value v) { return sel(cmp(P::slt, v, idx(0)), add(v, dim), v); };
  s = sel(forward, clamp(fromEnd(s), idx(0), dim),
          arith::MaxSIOp::create(b, loc, arith::MinSIOp::create(b, loc, fromEnd(s), lastIndex),
                                 idx(0)));
  e = sel(forward, clamp(fromEnd(e), idx(0), dim), clamp(fromEnd(e), idx(-1), lastIndex));
  Value span = sel(forward, sub(e, s), sub(s, e));
  // (A zero step is refused before; 1 keeps the division defined.)
  Value magnitude = arith::MaxSIOp::create(b, loc, sel(forward, st, sub(idx(0), st)), idx(1));
  Value count = arith::MaxSIOp::create(b, loc, idx(0),
                                       arith::CeilDivSIOp::create(b, loc, span, magnitude));
  count = sel(cmp(P::eq, dim, idx(0)), idx(0), count);
  return {s, count, st};
}

/// A slice whose starts, ends (axes, steps) are operands: per input dim
/// the entry whose axis names it (the last one; none: the whole dim),
/// normalized as ONNX Slice does with run-time values, and one generic
/// reading the input at start + i x step.
LogicalResult lowerRuntimeSlice(SliceOp op, PatternRewriter &rewriter) {
  auto in = cast<RankedTensorType>(op.getInput().getType());
  auto out = cast<RankedTensorType>(op.getType());
  auto startsType = cast<RankedTensorType>(op.getRuntimeStarts().getType());
  int64_t n = startsType.getDimSize(0), r = in.getRank();
  // One entry per sliced axis in each operand, a count known here.
  for (Value v : {op.getRuntimeStarts(), op.getRuntimeEnds(), op.getRuntimeAxes(),
                  op.getRuntimeSteps()})
    if (v && (cast<RankedTensorType>(v.getType()).getRank() != 1 ||
              cast<RankedTensorType>(v.getType()).getDimSize(0) != n ||
              ShapedType::isDynamic(n)))
      return rewriter.notifyMatchFailure(op, "run-time slice operands of unknown or unequal "
                                             "lengths");
  Location loc = op.getLoc();
  Type index = rewriter.getIndexType();
  auto idx = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(rewriter, loc, v); };
  auto entry = [&](Value vec, int64_t i) -> Value {
    return arith::IndexCastOp::create(rewriter, loc, index,
                                      tensor::ExtractOp::create(rewriter, loc, vec, ValueRange{idx(i)}));
  };
  auto cmp = [&](arith::CmpIPredicate p, Value a, Value b) -> Value {
    return arith::CmpIOp::create(rewriter, loc, p, a, b);
  };
  auto sel = [&](Value c, Value a, Value b) -> Value {
    return arith::SelectOp::create(rewriter, loc, c, a, b);
  };
  auto add = [&](Value a, Value b) -> Value { return arith::AddIOp::create(rewriter, loc, a, b); };
  auto sub = [&](Value a, Value b) -> Value { return arith::SubIOp::create(rewriter, loc, a, b); };
  using P = arith::CmpIPredicate;
  // Each entry's axis (normalized) and values.
  SmallVector<Value> axis(n), start(n), end(n), step(n);
  for (int64_t i = 0; i < n; ++i) {
    axis[i] = op.getRuntimeAxes() ? entry(op.getRuntimeAxes(), i) : idx(i);
    axis[i] = sel(cmp(P::slt, axis[i], idx(0)), add(axis[i], idx(r)), axis[i]);
    start[i] = entry(op.getRuntimeStarts(), i);
    end[i] = entry(op.getRuntimeEnds(), i);
    step[i] = op.getRuntimeSteps() ? entry(op.getRuntimeSteps(), i) : idx(1);
  }
  std::string node = describeNode(op);
  for (int64_t i = 0; i < n; ++i) {
    cf::AssertOp::create(rewriter, loc, cmp(P::ult, axis[i], idx(r)),
                         node + " slices axis {0}: out of range for the input's rank");
    cf::AssertOp::create(rewriter, loc, cmp(P::ne, step[i], idx(0)),
                         node + " has a step of {0}: steps must not be 0");
  }
  SmallVector<Value> firsts, steps, lasts, dynamic;
  for (int64_t d = 0; d < r; ++d) {
    Value dim = in.isDynamicDim(d) ? tensor::DimOp::create(rewriter, loc, op.getInput(), d).getResult()
                                   : idx(in.getDimSize(d));
    Value s = idx(0), e = dim, st = idx(1);
    for (int64_t i = 0; i < n; ++i) {
      Value here = cmp(P::eq, axis[i], idx(d));
      s = sel(here, start[i], s);
      e = sel(here, end[i], e);
      st = sel(here, step[i], st);
      // A Split's part: its bounds as given, inside the dim (no clamping).
      if (op.getExactBounds()) {
        Value inside = arith::AndIOp::create(
            rewriter, loc, arith::AndIOp::create(rewriter, loc, cmp(P::sge, start[i], idx(0)),
                                                 cmp(P::sle, start[i], end[i])),
            cmp(P::sle, end[i], dim));
        cf::AssertOp::create(rewriter, loc, arith::OrIOp::create(rewriter, loc, cmp(P::ne, axis[i], idx(d)), inside),
                             node + ": a split size below 0, or sizes past the dim (split sizes "
                                    "must be non-negative and add up to the dim)");
      }
      if (op.getReachesEnd()) {
        Value whole = arith::OrIOp::create(rewriter, loc, cmp(P::ne, axis[i], idx(d)), cmp(P::eq, end[i], dim));
        cf::AssertOp::create(rewriter, loc, whole,
                             node + ": the split sizes do not add up to the dim they split");
      }
    }
    auto [first, count, clampedStep] = sliceBounds(rewriter, loc, dim, s, e, st);
    s = first;
    st = clampedStep;
    Value lastIndex = sub(dim, idx(1));
    if (out.isDynamicDim(d))
      dynamic.push_back(count);
    else // a declared extent must be the one the values give
      cf::AssertOp::create(rewriter, loc, cmp(P::eq, count, idx(out.getDimSize(d))),
                           node + " gives dim " + std::to_string(d) + " {0} elements, the "
                           "model declares " + std::to_string(out.getDimSize(d)));
    firsts.push_back(s);
    steps.push_back(st);
    lasts.push_back(arith::MaxSIOp::create(rewriter, loc, lastIndex, idx(0)));
  }
  Value input = op.getInput();
  Value init = tensor::EmptyOp::create(rewriter, loc, out.getShape(), out.getElementType(), dynamic);
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(r, op.getContext())};
  auto g = linalg::GenericOp::create(
      rewriter, loc, TypeRange{out}, ValueRange{}, ValueRange{init}, maps, parallel(r),
      [&](OpBuilder &b, Location l, ValueRange) {
        SmallVector<Value> at;
        for (int64_t d = 0; d < r; ++d) {
          Value o = linalg::IndexOp::create(b, l, d);
          Value i = arith::AddIOp::create(b, l, firsts[d], arith::MulIOp::create(b, l, o, steps[d]));
          // Clamped: a check made from data is not kept before the run,
          // and the read must stay inside the input regardless.
          i = arith::MinSIOp::create(b, l, arith::MaxSIOp::create(b, l, i, arith::ConstantIndexOp::create(b, l, 0)), lasts[d]);
          at.push_back(i);
        }
        linalg::YieldOp::create(b, l, Value(tensor::ExtractOp::create(b, l, input, at)));
      });
  rewriter.replaceOp(op, g.getResults());
  return success();
}

struct SliceLowering : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op, PatternRewriter &rewriter) const override {
    if (op.getRuntimeStarts() || op.getRuntimeEnds()) {
      if (!op.getRuntimeStarts() || !op.getRuntimeEnds() ||
          !isLowerableElement(cast<RankedTensorType>(op.getType()).getElementType()))
        return rewriter.notifyMatchFailure(op, "run-time slice bounds");
      return lowerRuntimeSlice(op, rewriter);
    }
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto out = cast<RankedTensorType>(op.getType());
    if (!isLowerableElement(in.getElementType()))
      return rewriter.notifyMatchFailure(op, "element type");
    Location loc = op.getLoc();
    // Per dim: the clamped start, and (dynamic dims) the extent, as ONNX
    // Slice computes them; run-time values where the input's dim is.
    SmallVector<OpFoldResult> starts;
    SmallVector<int64_t> steps;
    SmallVector<Value> dynamic;
    auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(rewriter, loc, v); };
    for (int64_t i = 0; i < in.getRank(); ++i) {
      int64_t step = op.getSteps()[i], start = op.getStarts()[i], end = op.getEnds()[i];
      steps.push_back(step);
      if (!in.isDynamicDim(i)) {
        int64_t dim = in.getDimSize(i);
        if (start < 0)
          start += dim;
        // ONNX: a backward start in [0, dim - 1] (an empty dim: 0).
        start = step > 0 ? std::clamp<int64_t>(start, 0, dim)
                         : std::max<int64_t>(0, std::min<int64_t>(start, dim - 1));
        starts.push_back(rewriter.getIndexAttr(start));
        continue;
      }
      Value dim = tensor::DimOp::create(rewriter, loc, op.getInput(), i);
      auto [s, count, unused] = sliceBounds(rewriter, loc, dim, idx(start), idx(end), idx(step));
      starts.push_back(s);
      if (out.isDynamicDim(i))
        dynamic.push_back(count);
    }
    // Read through tensor.extract: an input map would make linalg infer the
    // loop bounds from the input's extents.
    Value input = op.getInput();
    Value init = tensor::EmptyOp::create(rewriter, loc, out.getShape(), out.getElementType(),
                                         dynamic);
    SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(out.getRank(), op.getContext())};
    auto g = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out}, ValueRange{}, ValueRange{init}, maps,
        parallel(out.getRank()), [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> at;
          for (int64_t i = 0; i < in.getRank(); ++i) {
            Value o = linalg::IndexOp::create(b, l, i);
            Value scaled = arith::MulIOp::create(b, l, o, arith::ConstantIndexOp::create(b, l, steps[i]));
            at.push_back(arith::AddIOp::create(b, l, scaled,
                                               getValueOrCreateConstantIndexOp(b, l, starts[i])));
          }
          linalg::YieldOp::create(b, l, Value(tensor::ExtractOp::create(b, l, input, at)));
        });
    rewriter.replaceOp(op, g.getResults());
    return success();
  }
};

struct PadLowering : OpRewritePattern<PadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PadOp op, PatternRewriter &rewriter) const override {
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto out = cast<RankedTensorType>(op.getType());
    Type elt = in.getElementType();
    if (!in.hasStaticShape() || !isLowerableElement(elt))
      return rewriter.notifyMatchFailure(op, "dynamic shapes or element type");
    int64_t r = in.getRank();
    Value runtimePads = op.getRuntimePads();
    if (runtimePads &&
        cast<RankedTensorType>(runtimePads.getType()).getShape() != ArrayRef<int64_t>{2 * r})
      return rewriter.notifyMatchFailure(op, "run-time pads not 2 x rank values");
    ArrayRef<int64_t> pads = op.getPads();
    if (!runtimePads && llvm::any_of(pads, [](int64_t p) { return p < 0; }))
      return rewriter.notifyMatchFailure(op, "negative pads (cropping)");
    Location loc = op.getLoc();
    // The amounts: constants, or read from the pads input per run (not
    // negative: cropping is refused before the run).
    SmallVector<OpFoldResult> amount;
    for (int64_t i = 0; i < 2 * r; ++i) {
      if (!runtimePads) {
        amount.push_back(rewriter.getIndexAttr(pads[i]));
        continue;
      }
      Value p = tensor::ExtractOp::create(rewriter, loc, runtimePads,
                                          ValueRange{arith::ConstantIndexOp::create(rewriter, loc, i)});
      p = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(), p);
      // (Unsigned: a negative pad is out of range too; 2^48 bounds the sum.)
      cf::AssertOp::create(
          rewriter, loc,
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ule, p,
                                arith::ConstantIndexOp::create(rewriter, loc, int64_t(1) << 48)),
          describeNode(op) + " pads by {0}: pads must be 0 to 2^48 (negative pads, cropping, "
                             "are not supported)");
      amount.push_back(p);
    }
    ArrayRef<OpFoldResult> low = ArrayRef<OpFoldResult>(amount).take_front(r),
                           high = ArrayRef<OpFoldResult>(amount).drop_front(r);
    if (op.getMode() == PadMode::constant) {
      Value v = op.getValue() ? scalarOf(rewriter, loc, op.getValue())
                              : Value(arith::ConstantOp::create(rewriter, loc,
                                                                rewriter.getZeroAttr(elt)));
      auto pad = tensor::PadOp::create(rewriter, loc, out, op.getInput(), low, high);
      SmallVector<Type> idx(r, rewriter.getIndexType());
      SmallVector<Location> locs(r, loc);
      {
        OpBuilder::InsertionGuard g(rewriter);
        rewriter.createBlock(&pad.getRegion(), {}, idx, locs);
        tensor::YieldOp::create(rewriter, loc, v);
      }
      rewriter.replaceOp(op, pad.getResult());
      return success();
    }
    // edge / reflect / wrap: read the input at a remapped index.
    PadMode mode = op.getMode();
    // Run-time pads the remapping cannot serve: a reflection mirrors at
    // most n - 1 elements, and an empty dim has nothing to repeat.
    for (int64_t i = 0; runtimePads && i < 2 * r; ++i) {
      int64_t n = in.getDimSize(i % r);
      if (mode != PadMode::reflect && n > 0)
        continue;
      int64_t most = mode == PadMode::reflect ? std::max<int64_t>(n - 1, 0) : 0;
      cf::AssertOp::create(
          rewriter, loc,
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ule,
                                getValueOrCreateConstantIndexOp(rewriter, loc, amount[i]),
                                arith::ConstantIndexOp::create(rewriter, loc, most)),
          describeNode(op) + " pads by {0}, more than the {1} elements this mode can repeat "
                             "or mirror");
    }
    SmallVector<Value> outDynamic;
    for (int64_t i = 0; i < r; ++i)
      if (out.isDynamicDim(i))
        outDynamic.push_back(arith::AddIOp::create(
            rewriter, loc, arith::ConstantIndexOp::create(rewriter, loc, in.getDimSize(i)),
            arith::AddIOp::create(rewriter, loc,
                                  getValueOrCreateConstantIndexOp(rewriter, loc, low[i]),
                                  getValueOrCreateConstantIndexOp(rewriter, loc, high[i]))));
    Value init = tensor::EmptyOp::create(rewriter, loc, out.getShape(), elt, outDynamic);
    Value input = op.getInput();
    auto g = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{AffineMap::getMultiDimIdentityMap(r, op.getContext())},
        parallel(r), [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> at;
          for (int64_t i = 0; i < r; ++i) {
            int64_t n = in.getDimSize(i);
            Value o = linalg::IndexOp::create(b, l, i);
            Value x = arith::SubIOp::create(b, l, o, getValueOrCreateConstantIndexOp(b, l, low[i]));
            Value zero = arith::ConstantIndexOp::create(b, l, 0);
            Value last = arith::ConstantIndexOp::create(b, l, n - 1);
            Value nV = arith::ConstantIndexOp::create(b, l, n);
            if (mode == PadMode::edge) {
              x = arith::MaxSIOp::create(b, l, arith::MinSIOp::create(b, l, x, last), zero);
            } else if (mode == PadMode::wrap) {
              x = arith::RemSIOp::create(b, l, arith::AddIOp::create(
                                                   b, l, arith::RemSIOp::create(b, l, x, nV), nV),
                                         nV);
            } else { // reflect (one bounce): -x below 0, 2(n-1) - x above n-1
              Value neg = arith::SubIOp::create(b, l, zero, x);
              x = arith::SelectOp::create(
                  b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, x, zero), neg, x);
              Value twice = arith::ConstantIndexOp::create(b, l, 2 * (n - 1));
              Value hi = arith::SubIOp::create(b, l, twice, x);
              x = arith::SelectOp::create(
                  b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt, x, last), hi, x);
            }
            at.push_back(x);
          }
          linalg::YieldOp::create(b, l, Value(tensor::ExtractOp::create(b, l, input, at)));
        });
    rewriter.replaceOp(op, g.getResults());
    return success();
  }
};

struct TriluLowering : OpRewritePattern<TriluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TriluOp op, PatternRewriter &rewriter) const override {
    auto t = cast<RankedTensorType>(op.getType());
    Type elt = t.getElementType();
    if (!isLowerableElement(elt))
      return rewriter.notifyMatchFailure(op, "element type not lowered yet");
    Location loc = op.getLoc();
    int64_t r = t.getRank();
    Value k = op.getK() ? Value(arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(),
                                                           scalarOf(rewriter, loc, op.getK())))
                        : Value(arith::ConstantIndexOp::create(rewriter, loc, 0));
    bool upper = op.getUpper();
    Value zero = arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(elt));
    Value init = emptyLike(rewriter, loc, t, ValueRange{op.getInput()});
    AffineMap id = AffineMap::getMultiDimIdentityMap(r, op.getContext());
    auto g = linalg::GenericOp::create(
        rewriter, loc, TypeRange{t}, ValueRange{op.getInput()}, ValueRange{init},
        SmallVector<AffineMap>{id, id}, parallel(r),
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value i = linalg::IndexOp::create(b, l, r - 2), j = linalg::IndexOp::create(b, l, r - 1);
          Value diff = arith::SubIOp::create(b, l, j, i);
          Value keep = arith::CmpIOp::create(
              b, l, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle, diff, k);
          linalg::YieldOp::create(b, l, Value(arith::SelectOp::create(b, l, keep, a[0], zero)));
        });
    rewriter.replaceOp(op, g.getResults());
    return success();
  }
};

struct CumsumLowering : OpRewritePattern<CumsumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CumsumOp op, PatternRewriter &rewriter) const override {
    auto t = cast<RankedTensorType>(op.getType());
    Type elt = t.getElementType();
    if (!isLowerableElement(elt) || !t.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shape or element type");
    int64_t r = t.getRank(), axis = static_cast<int64_t>(op.getAxis());
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    if (Value ra = op.getRuntimeAxis(); ra && r == 1) {
      axis = 0; // the only valid axis of a 1-d input, whatever its value
    } else if (ra) {
      DenseIntElementsAttr c;
      if (!matchPattern(ra, m_Constant(&c))) {
        rewriter.replaceOp(op, runtimeAxis(rewriter, loc, op, ra));
        return success();
      }
      axis = (*c.begin()).getSExtValue();
    }
    axis = normalizeAxis(axis, r);
    // Loops: the output dims, then j along the axis.
    SmallVector<AffineExpr> inExprs, outExprs;
    for (int64_t i = 0; i < r; ++i) {
      inExprs.push_back(getAffineDimExpr(i == axis ? r : i, ctx));
      outExprs.push_back(getAffineDimExpr(i, ctx));
    }
    SmallVector<utils::IteratorType> iters = parallel(r);
    iters.push_back(utils::IteratorType::reduction);
    Value zero = arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(elt));
    Value init = linalg::FillOp::create(
                     rewriter, loc, zero,
                     Value(tensor::EmptyOp::create(rewriter, loc, t.getShape(), elt)))
                     .getResult(0);
    bool exclusive = op.getExclusive(), reverse = op.getReverse();
    auto pred = reverse ? (exclusive ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::sge)
                        : (exclusive ? arith::CmpIPredicate::slt : arith::CmpIPredicate::sle);
    auto g = linalg::GenericOp::create(
        rewriter, loc, TypeRange{t}, ValueRange{op.getInput()}, ValueRange{init},
        SmallVector<AffineMap>{AffineMap::get(r + 1, 0, inExprs, ctx),
                               AffineMap::get(r + 1, 0, outExprs, ctx)},
        iters, [&](OpBuilder &b, Location l, ValueRange a) {
          Value i = linalg::IndexOp::create(b, l, axis), j = linalg::IndexOp::create(b, l, r);
          Value in = arith::CmpIOp::create(b, l, pred, j, i);
          Value term = arith::SelectOp::create(b, l, in, a[0], zero);
          linalg::YieldOp::create(b, l, buildBinary(b, l, BinaryKind::add, a[1], term));
        });
    rewriter.replaceOp(op, g.getResults());
    return success();
  }

  /// The axis given per run: the same sum over j, with j's extent the
  /// chosen dim's (1 for the others, through a window operand) and the
  /// input read by tensor.extract at j along the chosen dim.
  static Value runtimeAxis(PatternRewriter &rewriter, Location loc, CumsumOp op, Value axisTensor) {
    auto t = cast<RankedTensorType>(op.getType());
    Type elt = t.getElementType();
    int64_t r = t.getRank();
    MLIRContext *ctx = op.getContext();
    auto cst = [&](int64_t v) { return arith::ConstantIndexOp::create(rewriter, loc, v).getResult(); };
    Value a = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(),
                                         scalarOf(rewriter, loc, axisTensor));
    Value negative = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::slt, a, cst(0));
    a = arith::SelectOp::create(rewriter, loc, negative, arith::AddIOp::create(rewriter, loc, a, cst(r)), a);
    Value valid = arith::AndIOp::create(
        rewriter, loc, arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sge, a, cst(0)),
        arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::slt, a, cst(r)));
    cf::AssertOp::create(rewriter, loc, valid,
                         describeNode(op) + ": the axis must be in [-rank, rank)");
    Value extent = cst(1);
    for (int64_t d = 0; d < r; ++d)
      extent = arith::SelectOp::create(
          rewriter, loc, arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, a, cst(d)),
          tensor::DimOp::create(rewriter, loc, op.getInput(), d), extent);
    Value window = tensor::EmptyOp::create(rewriter, loc, SmallVector<int64_t>{ShapedType::kDynamic},
                                           rewriter.getI8Type(), ValueRange{extent});
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < r; ++d)
      if (t.isDynamicDim(d))
        sizes.push_back(tensor::DimOp::create(rewriter, loc, op.getInput(), d));
    Value zero = arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(elt));
    Value init = linalg::FillOp::create(
                     rewriter, loc, zero,
                     Value(tensor::EmptyOp::create(rewriter, loc, t.getShape(), elt, sizes)))
                     .getResult(0);
    bool exclusive = op.getExclusive(), reverse = op.getReverse();
    auto pred = reverse ? (exclusive ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::sge)
                        : (exclusive ? arith::CmpIPredicate::slt : arith::CmpIPredicate::sle);
    Value input = op.getInput();
    SmallVector<utils::IteratorType> iters = parallel(r);
    iters.push_back(utils::IteratorType::reduction);
    return linalg::GenericOp::create(
               rewriter, loc, TypeRange{t}, ValueRange{window}, ValueRange{init},
               SmallVector<AffineMap>{AffineMap::get(r + 1, 0, {getAffineDimExpr(r, ctx)}, ctx),
                                      AffineMap::getMultiDimIdentityMap(r + 1, ctx).getMajorSubMap(r)},
               iters,
               [&](OpBuilder &b, Location l, ValueRange args) {
                 Value j = linalg::IndexOp::create(b, l, r), i = cst(0);
                 SmallVector<Value> at;
                 for (int64_t d = 0; d < r; ++d) {
                   Value o = linalg::IndexOp::create(b, l, d);
                   Value here = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, a,
                                                      arith::ConstantIndexOp::create(b, l, d));
                   i = arith::SelectOp::create(b, l, here, o, i);
                   at.push_back(arith::SelectOp::create(b, l, here, j, o));
                 }
                 Value x = tensor::ExtractOp::create(b, l, input, at);
                 Value in = arith::CmpIOp::create(b, l, pred, j, i);
                 Value term = arith::SelectOp::create(b, l, in, x, zero);
                 linalg::YieldOp::create(b, l, buildBinary(b, l, BinaryKind::add, args[1], term));
               })
        .getResult(0);
  }
};

} // namespace

/// The extents of a tensor with dynamic dims (a static one folds): its
/// dims as i64 entries.
struct ShapeLowering : OpRewritePattern<ShapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ShapeOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto in = cast<RankedTensorType>(op.getInput().getType());
    SmallVector<Value> dims;
    for (int64_t i = 0; i < in.getRank(); ++i)
      dims.push_back(arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(),
                                                tensor::DimOp::create(rewriter, loc,
                                                                      op.getInput(), i)));
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, op.getType(), dims);
    return success();
  }
};

void populateTensorPatterns(RewritePatternSet &patterns) {
  patterns.add<ShapeLowering>(patterns.getContext());
  patterns.add<SliceLowering, PadLowering, TriluLowering, CumsumLowering>(
      patterns.getContext());
}

} // namespace kiln::conversion

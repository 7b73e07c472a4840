//===- IndexingToLinalg.cpp - gathers and arg reductions -> linalg ---------===//
//
// Gathers are linalg.generic ops over the result whose body computes the
// source coordinates (ONNX negative indices wrap once) and reads the data
// with tensor.extract. Arg reductions carry (best value, index) through one
// reduction generic with two outputs.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"
#include "dialects/kiln/IR/NodeLocation.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;

namespace kiln::conversion {
namespace {

/// An index operand element as `index`, wrapped once if negative.
Value wrapIndex(OpBuilder &b, Location loc, Value raw, Value extent) {
  Value i = arith::IndexCastOp::create(b, loc, b.getIndexType(), raw);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value neg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, i, zero);
  i = arith::SelectOp::create(b, loc, neg, arith::AddIOp::create(b, loc, i, extent), i);
  // Indices come from data, which no check before the run can see: one
  // outside [-extent, extent) (onnxruntime refuses it) reads or writes the
  // nearest element instead of memory past the tensor.
  Value last = arith::SubIOp::create(b, loc, extent, arith::ConstantIndexOp::create(b, loc, 1));
  return arith::MaxSIOp::create(b, loc, arith::MinSIOp::create(b, loc, i, last), zero);
}

/// The data coordinates an index tuple names: `indices[lead..., 0..m)`,
/// each wrapped once against `extents[j]` (GatherND, ScatterND).
SmallVector<Value> indexTuple(OpBuilder &b, Location loc, Value indices, ValueRange lead,
                              ArrayRef<OpFoldResult> extents) {
  SmallVector<Value> at;
  for (auto [j, extent] : llvm::enumerate(extents)) {
    SmallVector<Value> where(lead.begin(), lead.end());
    where.push_back(arith::ConstantIndexOp::create(b, loc, j));
    Value raw = tensor::ExtractOp::create(b, loc, indices, where);
    at.push_back(wrapIndex(b, loc, raw, getValueOrCreateConstantIndexOp(b, loc, extent)));
  }
  return at;
}

/// A generic over `resultType` reading `indices` through `indexMap`; the body
/// builds the data coordinates from the loop indices and the index value.
/// A dynamic result dim is (operand, dim) `dimSource(d)`.
LogicalResult lowerGather(PatternRewriter &rewriter, Operation *op, Value data,
                          Value indices, AffineMap indexMap,
                          function_ref<SmallVector<Value>(OpBuilder &, Location,
                                                          ArrayRef<Value>, Value)>
                              coords,
                          function_ref<std::pair<Value, int64_t>(int64_t)> dimSource) {
  auto out = cast<RankedTensorType>(op->getResult(0).getType());
  if (!isLowerableElement(out.getElementType()))
    return rewriter.notifyMatchFailure(op, "element type not lowered yet");
  Location loc = op->getLoc();
  MLIRContext *ctx = op->getContext();
  SmallVector<Value> dyn;
  for (int64_t i = 0; i < out.getRank(); ++i)
    if (out.isDynamicDim(i)) {
      auto [v, d] = dimSource(i);
      dyn.push_back(tensor::DimOp::create(rewriter, loc, v, d));
    }
  Value init =
      tensor::EmptyOp::create(rewriter, loc, out.getShape(), out.getElementType(), dyn);
  SmallVector<AffineMap> maps = {indexMap, AffineMap::getMultiDimIdentityMap(out.getRank(), ctx)};
  SmallVector<utils::IteratorType> iters(out.getRank(), utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{out}, ValueRange{indices}, ValueRange{init}, maps, iters,
      [&](OpBuilder &b, Location l, ValueRange args) {
        SmallVector<Value> loops;
        for (int64_t i = 0; i < out.getRank(); ++i)
          loops.push_back(linalg::IndexOp::create(b, l, i));
        SmallVector<Value> at = coords(b, l, loops, args[0]);
        linalg::YieldOp::create(b, l, Value(tensor::ExtractOp::create(b, l, data, at)));
      });
  rewriter.replaceOp(op, generic.getResults());
  return success();
}

struct GatherLowering : OpRewritePattern<GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherOp op, PatternRewriter &rewriter) const override {
    auto dt = cast<RankedTensorType>(op.getData().getType());
    auto it = cast<RankedTensorType>(op.getIndices().getType());
    int64_t axis = normalizeAxis(op.getAxis(), dt.getRank());
    int64_t ri = it.getRank();
    MLIRContext *ctx = op.getContext();
    int64_t outRank = dt.getRank() - 1 + ri;
    SmallVector<AffineExpr> idxExprs;
    for (int64_t j = 0; j < ri; ++j)
      idxExprs.push_back(getAffineDimExpr(axis + j, ctx));
    AffineMap indexMap = AffineMap::get(outRank, 0, idxExprs, ctx);
    Value data = op.getData();
    return lowerGather(rewriter, op, data, op.getIndices(), indexMap,
                       [&](OpBuilder &b, Location l, ArrayRef<Value> loops, Value raw) {
                         SmallVector<Value> at;
                         for (int64_t d = 0; d < dt.getRank(); ++d) {
                           if (d < axis)
                             at.push_back(loops[d]);
                           else if (d == axis)
                             at.push_back(wrapIndex(b, l, raw,
                                                    tensor::DimOp::create(b, l, data, d)));
                           else
                             at.push_back(loops[d - 1 + ri]);
                         }
                         return at;
                       },
                       [&](int64_t d) -> std::pair<Value, int64_t> {
                         if (d < axis)
                           return {data, d};
                         if (d < axis + ri)
                           return {op.getIndices(), d - axis};
                         return {data, d - ri + 1};
                       });
  }
};

struct GatherElementsLowering : OpRewritePattern<GatherElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherElementsOp op, PatternRewriter &rewriter) const override {
    auto dt = cast<RankedTensorType>(op.getData().getType());
    int64_t axis = normalizeAxis(op.getAxis(), dt.getRank());
    Value data = op.getData();
    AffineMap id = AffineMap::getMultiDimIdentityMap(dt.getRank(), op.getContext());
    return lowerGather(rewriter, op, data, op.getIndices(), id,
                       [&](OpBuilder &b, Location l, ArrayRef<Value> loops, Value raw) {
                         SmallVector<Value> at(loops.begin(), loops.end());
                         at[axis] = wrapIndex(b, l, raw, tensor::DimOp::create(b, l, data, axis));
                         return at;
                       },
                       [&](int64_t d) -> std::pair<Value, int64_t> {
                         return {op.getIndices(), d};
                       });
  }
};

struct ArgReduceLowering : OpRewritePattern<ArgReduceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ArgReduceOp op, PatternRewriter &rewriter) const override {
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto out = cast<RankedTensorType>(op.getType());
    Type elt = in.getElementType();
    if (!isLowerableElement(elt) || !out.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "element type or dynamic shape not lowered yet");
    int64_t axis = normalizeAxis(op.getAxis(), in.getRank());
    bool isMax = op.getKind() == ArgKind::argmax, last = op.getSelectLastIndex();
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    SmallVector<AffineExpr> outExprs;
    SmallVector<utils::IteratorType> iters;
    for (int64_t i = 0; i < in.getRank(); ++i) {
      iters.push_back(i == axis ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel);
      if (i != axis)
        outExprs.push_back(getAffineDimExpr(i, ctx));
      else if (op.getKeepdims())
        outExprs.push_back(getAffineConstantExpr(0, ctx));
    }
    auto valT = RankedTensorType::get(out.getShape(), elt);
    Attribute worst;
    if (isa<FloatType>(elt))
      worst = rewriter.getFloatAttr(elt, isMax ? -std::numeric_limits<double>::infinity()
                                               : std::numeric_limits<double>::infinity());
    else
      worst = rewriter.getIntegerAttr(
          elt, isMax ? APInt::getSignedMinValue(elt.getIntOrFloatBitWidth())
                     : APInt::getSignedMaxValue(elt.getIntOrFloatBitWidth()));
    Value worstV = arith::ConstantOp::create(rewriter, loc, cast<TypedAttr>(worst));
    Value zero = arith::ConstantOp::create(rewriter, loc, rewriter.getI64IntegerAttr(0));
    Value vals = filled(rewriter, loc, out.clone(elt), {}, worstV);
    Value idxs = filled(rewriter, loc, out.clone(rewriter.getI64Type()), {}, zero);
    AffineMap outMap = AffineMap::get(in.getRank(), 0, outExprs, ctx);
    SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(in.getRank(), ctx),
                                   outMap, outMap};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{valT, out}, ValueRange{op.getInput()},
        ValueRange{vals, idxs}, maps, iters,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = args[0], best = args[1], bestIdx = args[2];
          Value i = arith::IndexCastOp::create(b, l, b.getI64Type(),
                                               linalg::IndexOp::create(b, l, axis));
          CompareKind k = isMax ? (last ? CompareKind::ge : CompareKind::gt)
                                : (last ? CompareKind::le : CompareKind::lt);
          Value better = buildCompare(b, l, k, x, best);
          linalg::YieldOp::create(
              b, l,
              ValueRange{Value(arith::SelectOp::create(b, l, better, x, best)),
                         Value(arith::SelectOp::create(b, l, better, i, bestIdx))});
        });
    rewriter.replaceOp(op, generic.getResult(1));
    return success();
  }
};

/// GatherND: one generic over the result; each element reads its index
/// tuple from `indices` and the data element it names.
struct GatherNdLowering : OpRewritePattern<GatherNdOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherNdOp op, PatternRewriter &rewriter) const override {
    auto dt = cast<RankedTensorType>(op.getData().getType());
    auto it = cast<RankedTensorType>(op.getIndices().getType());
    auto out = cast<RankedTensorType>(op.getType());
    if (it.isDynamicDim(it.getRank() - 1) || !isLowerableElement(out.getElementType()))
      return rewriter.notifyMatchFailure(op, "dynamic tuple width or element type");
    int64_t batch = static_cast<int64_t>(op.getBatchDims());
    int64_t m = it.getDimSize(it.getRank() - 1), lead = it.getRank() - 1;
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Value data = op.getData(), indices = op.getIndices();
    // Result dims: the indices' leading dims, then data's untouched ones.
    SmallVector<Value> dynamic;
    for (int64_t i = 0; i < out.getRank(); ++i)
      if (out.isDynamicDim(i))
        dynamic.push_back(i < lead ? tensor::DimOp::create(rewriter, loc, indices, i)
                                   : tensor::DimOp::create(rewriter, loc, data,
                                                           i - lead + batch + m));
    SmallVector<OpFoldResult> extents;
    for (int64_t d = batch; d < batch + m; ++d)
      extents.push_back(dt.isDynamicDim(d)
                            ? OpFoldResult(tensor::DimOp::create(rewriter, loc, data, d).getResult())
                            : OpFoldResult(rewriter.getIndexAttr(dt.getDimSize(d))));
    Value init =
        tensor::EmptyOp::create(rewriter, loc, out.getShape(), out.getElementType(), dynamic);
    SmallVector<utils::IteratorType> iters(out.getRank(), utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{AffineMap::getMultiDimIdentityMap(out.getRank(), ctx)}, iters,
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> loops;
          for (int64_t i = 0; i < out.getRank(); ++i)
            loops.push_back(linalg::IndexOp::create(b, l, i));
          // Result dims: indices' leading dims (batch first), then the
          // trailing data dims the tuple does not index.
          SmallVector<Value> at(loops.begin(), loops.begin() + batch);
          at.append(indexTuple(b, l, indices, ValueRange(loops).take_front(lead), extents));
          for (int64_t d = batch + m; d < dt.getRank(); ++d)
            at.push_back(loops[lead + d - batch - m]);
          linalg::YieldOp::create(b, l, Value(tensor::ExtractOp::create(b, l, data, at)));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// Scatter as a loop nest over the updates carrying the result tensor: each
/// update is combined with the element it targets (in order, so later
/// duplicates win with reduction none, as ONNX's reference does).
LogicalResult lowerScatter(PatternRewriter &rewriter, Operation *op, Value data, Value updates,
                           ScatterReduction reduction,
                           function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>
                               coords) {
  auto dt = cast<RankedTensorType>(data.getType());
  auto ut = cast<RankedTensorType>(updates.getType());
  if (!isLowerableElement(dt.getElementType()))
    return rewriter.notifyMatchFailure(op, "element type not lowered yet");
  Location loc = op->getLoc();
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 0; d < ut.getRank(); ++d) {
    lbs.push_back(arith::ConstantIndexOp::create(rewriter, loc, 0));
    ubs.push_back(getValueOrCreateConstantIndexOp(
        rewriter, loc, tensor::getMixedSize(rewriter, loc, updates, d)));
    steps.push_back(arith::ConstantIndexOp::create(rewriter, loc, 1));
  }
  scf::LoopNest nest = scf::buildLoopNest(
      rewriter, loc, lbs, ubs, steps, ValueRange{data},
      [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange acc) -> scf::ValueVector {
        Value u = tensor::ExtractOp::create(b, l, updates, ivs);
        SmallVector<Value> at = coords(b, l, ivs);
        Value v = u;
        if (reduction != ScatterReduction::none) {
          Value old = tensor::ExtractOp::create(b, l, acc[0], at);
          BinaryKind kind = reduction == ScatterReduction::add   ? BinaryKind::add
                            : reduction == ScatterReduction::mul ? BinaryKind::mul
                            : reduction == ScatterReduction::max ? BinaryKind::max
                                                                 : BinaryKind::min;
          v = buildBinary(b, l, kind, old, u);
        }
        return {tensor::InsertOp::create(b, l, v, acc[0], at).getResult()};
      });
  rewriter.replaceOp(op, nest.results.empty() ? data : nest.results[0]);
  return success();
}

struct ScatterElementsLowering : OpRewritePattern<ScatterElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScatterElementsOp op, PatternRewriter &rewriter) const override {
    auto dt = cast<RankedTensorType>(op.getData().getType());
    int64_t axis = normalizeAxis(op.getAxis(), dt.getRank());
    Value indices = op.getIndices();
    return lowerScatter(rewriter, op, op.getData(), op.getUpdates(), op.getReduction(),
                        [&](OpBuilder &b, Location l, ValueRange ivs) {
                          SmallVector<Value> at(ivs.begin(), ivs.end());
                          Value raw = tensor::ExtractOp::create(b, l, indices, ivs);
                          at[axis] = wrapIndex(b, l, raw,
                                               getValueOrCreateConstantIndexOp(
                                                   b, l, tensor::getMixedSize(b, l, op.getData(), axis)));
                          return at;
                        });
  }
};

struct ScatterNdLowering : OpRewritePattern<ScatterNdOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScatterNdOp op, PatternRewriter &rewriter) const override {
    auto dt = cast<RankedTensorType>(op.getData().getType());
    auto it = cast<RankedTensorType>(op.getIndices().getType());
    if (it.getRank() == 0 || it.isDynamicDim(it.getRank() - 1))
      return rewriter.notifyMatchFailure(op, "index tuples of run-time length not lowered");
    int64_t lead = it.getRank() - 1, m = it.getDimSize(lead);
    if (m > dt.getRank())
      return rewriter.notifyMatchFailure(op, "index tuples longer than the data's rank");
    Value indices = op.getIndices();
    return lowerScatter(rewriter, op, op.getData(), op.getUpdates(), op.getReduction(),
                        [&](OpBuilder &b, Location l, ValueRange ivs) {
                          SmallVector<OpFoldResult> extents;
                          for (int64_t d = 0; d < m; ++d)
                            extents.push_back(tensor::getMixedSize(b, l, op.getData(), d));
                          SmallVector<Value> at =
                              indexTuple(b, l, indices, ivs.take_front(lead), extents);
                          for (Value iv : ivs.drop_front(lead))
                            at.push_back(iv);
                          return at;
                        });
  }
};

/// TopK as k selection passes over the axis, each a two-output reduction
/// that picks the best element ordered after the previous pick (value, then
/// lower index first, as ONNX breaks ties). O(k n): meant for the small k
/// of routers and beam search; the results come out sorted.
struct TopKLowering : OpRewritePattern<TopKOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TopKOp op, PatternRewriter &rewriter) const override {
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto valuesT = cast<RankedTensorType>(op.getValues().getType());
    Type elt = in.getElementType();
    int64_t rank = in.getRank(), axis = normalizeAxis(op.getAxis(), rank);
    Value runtimeK = op.getRuntimeK();
    if (valuesT.isDynamicDim(axis) != bool(runtimeK) ||
        (runtimeK && cast<RankedTensorType>(runtimeK.getType()).getNumElements() != 1))
      return rewriter.notifyMatchFailure(op, "k neither static nor one run-time value");
    if (!isLowerableElement(elt) || elt.isInteger(1))
      return rewriter.notifyMatchFailure(op, "element type not lowered yet");
    Location loc = op.getLoc();
    // Dynamic dims from the input, the axis' from k.
    SmallVector<OpFoldResult> inSizes = tensor::getMixedSizes(rewriter, loc, op.getInput());
    Value k;
    if (runtimeK) {
      // k given at run time (an input's value): at most the axis' length.
      auto kt = cast<RankedTensorType>(runtimeK.getType());
      SmallVector<Value> at(kt.getRank(), arith::ConstantIndexOp::create(rewriter, loc, 0));
      k = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(),
                                     tensor::ExtractOp::create(rewriter, loc, runtimeK, at));
      cf::AssertOp::create(
          rewriter, loc,
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ule, k,
                                getValueOrCreateConstantIndexOp(rewriter, loc, inSizes[axis])),
          describeNode(op) + " takes the top {0} of {1} elements (k is at most the axis' "
                             "length)");
    } else {
      k = arith::ConstantIndexOp::create(rewriter, loc, valuesT.getDimSize(axis));
    }
    SmallVector<Value> outDynamic, rowDynamic;
    for (int64_t d = 0; d < rank; ++d) {
      if (!valuesT.isDynamicDim(d))
        continue;
      outDynamic.push_back(d == axis ? k
                                     : getValueOrCreateConstantIndexOp(rewriter, loc, inSizes[d]));
      if (d != axis)
        rowDynamic.push_back(outDynamic.back());
    }
    bool largest = op.getLargest();
    MLIRContext *ctx = op.getContext();
    Type i64 = rewriter.getI64Type();

    SmallVector<int64_t> rowShape(valuesT.getShape());
    rowShape[axis] = 1;
    auto constant = [&](TypedAttr a) { return arith::ConstantOp::create(rewriter, loc, a); };
    auto extreme = [&](bool high) -> TypedAttr {
      if (isa<FloatType>(elt))
        return rewriter.getFloatAttr(elt, high ? std::numeric_limits<double>::infinity()
                                               : -std::numeric_limits<double>::infinity());
      unsigned w = elt.getIntOrFloatBitWidth();
      return rewriter.getIntegerAttr(elt, high ? APInt::getSignedMaxValue(w)
                                               : APInt::getSignedMinValue(w));
    };
    // Pass j reads pick j - 1 back from the results; pass 0 takes all.
    Value worstV = constant(extreme(!largest));
    Value lastI = constant(rewriter.getI64IntegerAttr(std::numeric_limits<int64_t>::max()));
    Value values = tensor::EmptyOp::create(rewriter, loc, valuesT.getShape(), elt, outDynamic);
    Value indices = tensor::EmptyOp::create(rewriter, loc, valuesT.getShape(), i64, outDynamic);

    SmallVector<AffineExpr> rowExprs;
    SmallVector<utils::IteratorType> iters;
    for (int64_t d = 0; d < rank; ++d) {
      rowExprs.push_back(d == axis ? getAffineConstantExpr(0, ctx) : getAffineDimExpr(d, ctx));
      iters.push_back(d == axis ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel);
    }
    AffineMap rowMap = AffineMap::get(rank, 0, rowExprs, ctx);
    SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx), rowMap, rowMap,
                                   rowMap, rowMap};
    Value lb = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value ub = k;
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    auto loop = scf::ForOp::create(
        rewriter, loc, lb, ub, one, ValueRange{values, indices},
        [&](OpBuilder &b, Location l, Value j, ValueRange carried) {
          auto rowType = [&](Type t) { return RankedTensorType::get(rowShape, t); };
          SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)), sizes,
              strides(rank, b.getIndexAttr(1));
          for (int64_t d = 0; d < rank; ++d)
            sizes.push_back(d == axis ? b.getIndexAttr(1) : inSizes[d]);
          Value isFirst = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, j, lb);
          offsets[axis] = Value(arith::SelectOp::create(
              b, l, isFirst, lb, arith::SubIOp::create(b, l, j, one)));
          Value prevV = tensor::ExtractSliceOp::create(b, l, rowType(elt), carried[0], offsets,
                                                       sizes, strides);
          Value prevI = tensor::ExtractSliceOp::create(b, l, rowType(i64), carried[1], offsets,
                                                       sizes, strides);
          Value bestV = filled(b, l, rowType(elt), rowDynamic, worstV);
          Value bestI = filled(b, l, rowType(i64), rowDynamic, lastI);
          auto pass = linalg::GenericOp::create(
              b, l, TypeRange{bestV.getType(), bestI.getType()},
              ValueRange{op.getInput(), prevV, prevI}, ValueRange{bestV, bestI}, maps, iters,
              [&](OpBuilder &nb, Location nl, ValueRange args) {
                Value x = args[0], pv = args[1], pi = args[2], bv = args[3], bi = args[4];
                Value i = arith::IndexCastOp::create(nb, nl, i64,
                                                     linalg::IndexOp::create(nb, nl, axis));
                CompareKind beats = largest ? CompareKind::gt : CompareKind::lt;
                auto before = [&](Value v, Value vi, Value w, Value wi) -> Value {
                  // (v, vi) comes first: a better value, or equal and a lower index.
                  Value strict = buildCompare(nb, nl, beats, v, w);
                  Value tie = arith::AndIOp::create(
                      nb, nl, buildCompare(nb, nl, CompareKind::eq, v, w),
                      arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, vi, wi));
                  return arith::OrIOp::create(nb, nl, strict, tie);
                };
                Value after = arith::OrIOp::create(nb, nl, isFirst, before(pv, pi, x, i));
                Value take = arith::AndIOp::create(nb, nl, after, before(x, i, bv, bi));
                linalg::YieldOp::create(
                    nb, nl,
                    ValueRange{Value(arith::SelectOp::create(nb, nl, take, x, bv)),
                               Value(arith::SelectOp::create(nb, nl, take, i, bi))});
              });
          offsets[axis] = j;
          Value v = tensor::InsertSliceOp::create(b, l, pass.getResult(0), carried[0], offsets,
                                                  sizes, strides);
          Value ix = tensor::InsertSliceOp::create(b, l, pass.getResult(1), carried[1], offsets,
                                                   sizes, strides);
          scf::YieldOp::create(b, l, ValueRange{v, ix});
        });
    rewriter.replaceOp(op, {loop.getResult(0), loop.getResult(1)});
    return success();
  }
};

} // namespace

/// The update written into the cache where it lies, the result a view of
/// it: an insert_slice, which bufferizes in place into a writable
/// argument (a session's cache), and an extract_slice (a subview).
struct CacheAppendLowering : OpRewritePattern<CacheAppendOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CacheAppendOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto update = cast<RankedTensorType>(op.getUpdate().getType());
    auto result = cast<RankedTensorType>(op.getType());
    int64_t rank = update.getRank(), axis = (int64_t)op.getAxis();
    Value at = tensor::ExtractOp::create(rewriter, loc, op.getLength(),
                                         ValueRange{arith::ConstantIndexOp::create(rewriter, loc, 0)});
    at = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(), at);
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0)),
        strides(rank, rewriter.getIndexAttr(1));
    offsets[axis] = at;
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, op.getUpdate());
    // The cache must hold what the run appends (checked before a run,
    // kiln-shape-checks).
    Value end = arith::AddIOp::create(rewriter, loc, at,
                                      getValueOrCreateConstantIndexOp(rewriter, loc, sizes[axis]));
    auto cacheType = cast<RankedTensorType>(op.getCache().getType());
    cf::AssertOp::create(
        rewriter, loc,
        arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ule, end,
                              arith::ConstantIndexOp::create(rewriter, loc,
                                                             cacheType.getDimSize(axis))),
        describeNode(op) + " needs {0} entries, more than the {1} it holds (--max-context)");
    Value written = tensor::InsertSliceOp::create(rewriter, loc, op.getUpdate(), op.getCache(),
                                                  offsets, sizes, strides);
    SmallVector<OpFoldResult> viewSizes = tensor::getMixedSizes(rewriter, loc, written);
    viewSizes[axis] = end;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && !result.isDynamicDim(d))
        viewSizes[d] = rewriter.getIndexAttr(result.getDimSize(d));
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, result, written, SmallVector<OpFoldResult>(rank, rewriter.getIndexAttr(0)), viewSizes,
        strides);
    return success();
  }
};

/// NonZero: the count first (a reduction), then one pass in order over the
/// input writing each non-zero element's coordinates into the next column
/// (NaN counts as non-zero). The count is a size only the data decides: it
/// reaches the plan as min(count, elements), the bound the CPU plan sizes
/// buffers by before the run (SymbolicDims' data dims).
struct NonZeroLowering : OpRewritePattern<NonZeroOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(NonZeroOp op, PatternRewriter &rewriter) const override {
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto out = cast<RankedTensorType>(op.getType());
    Type elt = in.getElementType();
    int64_t rank = in.getRank();
    if (rank == 0 || !isLowerableElement(elt))
      return rewriter.notifyMatchFailure(op, "a scalar or element type not lowered yet");
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Type i64 = rewriter.getI64Type(), index = rewriter.getIndexType();
    Value input = op.getInput();
    auto isNonZero = [&](OpBuilder &b, Location l, Value x) -> Value {
      if (isa<FloatType>(elt))
        return arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNE, x,
                                     arith::ConstantOp::create(b, l, b.getFloatAttr(elt, 0.0)));
      return arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, x,
                                   arith::ConstantOp::create(b, l, b.getIntegerAttr(elt, 0)));
    };
    auto scalarT = RankedTensorType::get({}, i64);
    Value zero64 = arith::ConstantOp::create(rewriter, loc, rewriter.getI64IntegerAttr(0));
    Value countInit = filled(rewriter, loc, scalarT, {}, zero64);
    Value count = linalg::GenericOp::create(
                      rewriter, loc, TypeRange{scalarT}, ValueRange{input}, ValueRange{countInit},
                      SmallVector<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, ctx),
                                             AffineMap::get(rank, 0, {}, ctx)},
                      SmallVector<utils::IteratorType>(rank, utils::IteratorType::reduction),
                      [&](OpBuilder &b, Location l, ValueRange args) {
                        Value one = arith::ExtUIOp::create(b, l, i64, isNonZero(b, l, args[0]));
                        linalg::YieldOp::create(b, l, ValueRange{arith::AddIOp::create(b, l, args[1], one)});
                      })
                      .getResult(0);
    SmallVector<Value> dims;
    Value elements = arith::ConstantIndexOp::create(rewriter, loc, 1);
    for (int64_t d = 0; d < rank; ++d) {
      dims.push_back(tensor::DimOp::create(rewriter, loc, input, d));
      elements = arith::MulIOp::create(rewriter, loc, elements, dims.back());
    }
    Value n = arith::IndexCastOp::create(rewriter, loc, index,
                                         tensor::ExtractOp::create(rewriter, loc, count, ValueRange{}));
    n = dataSize(rewriter, loc, n, elements);
    Value result = tensor::EmptyOp::create(rewriter, loc, out.getShape(), i64, ValueRange{n});
    Value c0 = arith::ConstantIndexOp::create(rewriter, loc, 0),
          c1 = arith::ConstantIndexOp::create(rewriter, loc, 1);
    auto loop = scf::ForOp::create(
        rewriter, loc, c0, elements, c1, ValueRange{result, c0},
        [&](OpBuilder &b, Location l, Value i, ValueRange carried) {
          // The coordinates of linear position i, last dim fastest.
          SmallVector<Value> at(rank);
          Value rest = i;
          for (int64_t d = rank - 1; d >= 0; --d) {
            at[d] = arith::RemUIOp::create(b, l, rest, dims[d]);
            rest = arith::DivUIOp::create(b, l, rest, dims[d]);
          }
          // (pos < n always holds -- the same data counted -- but the write
          // stays inside the result whatever the buffer holds.)
          Value hit = arith::AndIOp::create(
              b, l, isNonZero(b, l, tensor::ExtractOp::create(b, l, input, at)),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, carried[1], n));
          auto branch = scf::IfOp::create(
              b, l, hit,
              [&](OpBuilder &tb, Location tl) {
                Value written = carried[0];
                for (int64_t d = 0; d < rank; ++d)
                  written = tensor::InsertOp::create(
                      tb, tl, arith::IndexCastOp::create(tb, tl, i64, at[d]), written,
                      ValueRange{arith::ConstantIndexOp::create(tb, tl, d), carried[1]});
                scf::YieldOp::create(
                    tb, tl, ValueRange{written, arith::AddIOp::create(tb, tl, carried[1], c1)});
              },
              [&](OpBuilder &eb, Location el) { scf::YieldOp::create(eb, el, carried); });
          scf::YieldOp::create(b, l, branch.getResults());
        });
    rewriter.replaceOp(op, loop.getResult(0));
    return success();
  }
};

void populateIndexingPatterns(RewritePatternSet &patterns) {
  patterns.add<CacheAppendLowering, GatherLowering, GatherElementsLowering, GatherNdLowering, ArgReduceLowering,
               TopKLowering, ScatterElementsLowering, ScatterNdLowering, NonZeroLowering>(
      patterns.getContext());
}

} // namespace kiln::conversion

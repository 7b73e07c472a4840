//===- AttentionToLinalg.cpp - kiln.attention as linalg (the reference) ---===//
//
// The unfused composition every target's fused attention kernel is checked
// against: with past K/V concatenated in front of the new ones,
//   s[b,h,i,j] = scale * sum_d q[b,h,i,d] k[b,h/G,j,d]   (G = Hq / Hkv)
//   s += mask (float) / s = -inf where mask is false (i1) / where causal
//        hides j > i + (L - Sq)
//   p = softmax_j(s), a row with every key hidden gives zeros
//   o[b,h,i,e] = sum_j p[b,h,i,j] v[b,h/G,j,e]
// Grouped-query heads are rows of their K/V head ([B, Hq, S, X] viewed as
// [B, Hkv, G * S, X]), so K and V are never repeated and both contractions
// are batched matmuls. The S x L scores are materialized: this is the
// memory the fused kernel avoids.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;

namespace kiln::conversion {
namespace {

struct AttentionLowering : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op, PatternRewriter &rewriter) const override {
    auto qt = cast<RankedTensorType>(op.getQuery().getType());
    auto kt = cast<RankedTensorType>(op.getKey().getType());
    auto vt = cast<RankedTensorType>(op.getValue().getType());
    auto ot = cast<RankedTensorType>(op.getOutput().getType());
    Type elt = qt.getElementType();
    // Batch and lengths may be dynamic; heads and head dims are static.
    auto staticHeads = [](RankedTensorType t) {
      return t.getRank() == 4 && !t.isDynamicDim(1) && !t.isDynamicDim(3);
    };
    if (!staticHeads(qt) || !staticHeads(kt) || !staticHeads(vt) || !staticHeads(ot))
      return rewriter.notifyMatchFailure(op, "dynamic heads or head dims not lowered");
    if (kt.getElementType() != elt || vt.getElementType() != elt)
      return rewriter.notifyMatchFailure(op, "mixed element types not lowered yet");
    Value mask = op.getMask();
    auto maskType = mask ? dyn_cast<RankedTensorType>(mask.getType()) : RankedTensorType();
    if (mask && (!maskType ||
                 (!maskType.getElementType().isInteger(1) && !isa<FloatType>(maskType.getElementType()))))
      return rewriter.notifyMatchFailure(op, "mask type not lowered yet");
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    // Narrow floats (f16, bf16) are stored as given but accumulated in f32.
    Type io = elt;
    if (cast<FloatType>(elt).getWidth() < 32)
      elt = rewriter.getF32Type();
    auto widen = [&](OpBuilder &nb, Location nl, Value v) -> Value {
      return v.getType() == elt ? v : Value(arith::ExtFOp::create(nb, nl, elt, v));
    };

    Value key = op.getKey(), value = op.getValue();
    SmallVector<Value> present;
    if (op.getPastKey()) {
      key = tensor::ConcatOp::create(rewriter, loc, 2, ValueRange{op.getPastKey(), key});
      value = tensor::ConcatOp::create(rewriter, loc, 2, ValueRange{op.getPastValue(), value});
      present = {key, value};
      kt = cast<RankedTensorType>(key.getType());
      vt = cast<RankedTensorType>(value.getType());
    }
    int64_t b = qt.getDimSize(0), hq = qt.getDimSize(1), sq = qt.getDimSize(2);
    int64_t hkv = kt.getDimSize(1), l = kt.getDimSize(2), dv = vt.getDimSize(3);
    if (hkv == 0 || hq % hkv)
      return rewriter.notifyMatchFailure(op, "query heads are not a multiple of K/V heads");
    int64_t group = hq / hkv;
    // Sizes as the ops take them: static, or read off the operands.
    auto dimOf = [&](Value t, int64_t i) -> OpFoldResult {
      auto type = cast<RankedTensorType>(t.getType());
      if (!type.isDynamicDim(i))
        return rewriter.getIndexAttr(type.getDimSize(i));
      return tensor::DimOp::create(rewriter, loc, t, i).getResult();
    };
    OpFoldResult bS = dimOf(op.getQuery(), 0), sqS = dimOf(op.getQuery(), 2), lS = dimOf(key, 2);
    OpFoldResult hqS = rewriter.getIndexAttr(hq), hkvS = rewriter.getIndexAttr(hkv),
                 dvS = rewriter.getIndexAttr(dv), groupS = rewriter.getIndexAttr(group);
    OpFoldResult rowsS = rewriter.getIndexAttr(group * sq);
    if (ShapedType::isDynamic(sq))
      rowsS = arith::MulIOp::create(rewriter, loc,
                                    arith::ConstantIndexOp::create(rewriter, loc, group),
                                    cast<Value>(sqS))
                  .getResult();
    auto emptyOf = [&](ArrayRef<OpFoldResult> sizes, Type t) -> Value {
      return tensor::EmptyOp::create(rewriter, loc, sizes, t);
    };

    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    auto iters = [](unsigned parallel, unsigned reduction) {
      SmallVector<utils::IteratorType> it(parallel, utils::IteratorType::parallel);
      it.append(reduction, utils::IteratorType::reduction);
      return it;
    };
    auto fill = [&](ArrayRef<OpFoldResult> sizes, double v) -> Value {
      Value c = arith::ConstantOp::create(rewriter, loc, rewriter.getFloatAttr(elt, v));
      return linalg::FillOp::create(rewriter, loc, c, emptyOf(sizes, elt)).getResult(0);
    };
    SmallVector<int64_t> scoreShape = {b, hq, sq, l}, rowShape = {b, hq, sq};
    SmallVector<OpFoldResult> scoreSizes = {bS, hqS, sqS, lS}, rowSizes = {bS, hqS, sqS};
    auto scoreType = RankedTensorType::get(scoreShape, elt);
    // Grouped queries as rows of their K/V head: [B, Hq, S, X] is the same
    // memory as [B, Hkv, G * S, X], so both contractions are plain batched
    // matmuls over the K/V heads (the CPU micro-kernel takes them) and K/V
    // are never repeated. The reshapes are views.
    int64_t rows = ShapedType::isDynamic(sq) ? ShapedType::kDynamic : group * sq;
    // [B, Hq, S, X] <-> [B, Hkv, G * S, X] through [B, Hkv, G, S, X].
    auto regroup = [&](Value v, bool toRows) -> Value {
      if (group == 1)
        return v;
      auto t = cast<RankedTensorType>(v.getType());
      auto split = RankedTensorType::get({b, hkv, group, sq, t.getDimSize(3)}, t.getElementType());
      SmallVector<ReassociationIndices> heads = {{0}, {1, 2}, {3}, {4}};
      SmallVector<ReassociationIndices> rowsOf = {{0}, {1}, {2, 3}, {4}};
      SmallVector<OpFoldResult> splitSizes = {bS, hkvS, groupS, sqS, dimOf(v, 3)};
      Value e = tensor::ExpandShapeOp::create(rewriter, loc, split, v, toRows ? heads : rowsOf,
                                              splitSizes);
      return tensor::CollapseShapeOp::create(rewriter, loc, e, toRows ? rowsOf : heads);
    };
    auto toGroups = [&](Value v) { return regroup(v, true); };
    auto fromGroups = [&](Value v) { return regroup(v, false); };

    // scores = q . k over d: loops (b, kv head, row, j, dd).
    SmallVector<int64_t> groupedScores = {b, hkv, rows, l};
    SmallVector<OpFoldResult> groupedScoreSizes = {bS, hkvS, rowsS, lS};
    Value dots =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{RankedTensorType::get(groupedScores, elt)},
            ValueRange{toGroups(op.getQuery()), key}, ValueRange{fill(groupedScoreSizes, 0.0)},
            SmallVector<AffineMap>{AffineMap::get(5, 0, {d(0), d(1), d(2), d(4)}, ctx),
                                   AffineMap::get(5, 0, {d(0), d(1), d(3), d(4)}, ctx),
                                   AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)},
            iters(4, 1),
            [&](OpBuilder &nb, Location nl, ValueRange a) {
              Value p = arith::MulFOp::create(nb, nl, widen(nb, nl, a[0]), widen(nb, nl, a[1]));
              linalg::YieldOp::create(nb, nl, ValueRange{arith::AddFOp::create(nb, nl, a[2], p)});
            })
            .getResult(0);
    dots = fromGroups(dots);

    // Scale, mask, causal: elementwise over (b, h, i, j).
    AffineMap id4 = AffineMap::getMultiDimIdentityMap(4, ctx);
    SmallVector<Value> ins = {dots};
    SmallVector<AffineMap> maps = {id4};
    if (mask) {
      int64_t lead = 4 - maskType.getRank();
      SmallVector<AffineExpr> exprs;
      for (int64_t j = 0; j < maskType.getRank(); ++j)
        exprs.push_back(maskType.getDimSize(j) == 1 && scoreShape[lead + j] != 1
                            ? getAffineConstantExpr(0, ctx)
                            : d(lead + j));
      ins.push_back(mask);
      maps.push_back(AffineMap::get(4, 0, exprs, ctx));
    }
    maps.push_back(id4);
    double scale = op.getEffectiveScale();
    double softcap = op.getSoftcap() ? op.getSoftcap()->convertToDouble() : 0.0;
    bool causal = op.getCausal();
    double negInf = -std::numeric_limits<double>::infinity();
    // Causal: query i sees keys j <= i + (L - Sq).
    Value keysBeforeQueries =
        causal ? arith::SubIOp::create(rewriter, loc, getValueOrCreateConstantIndexOp(rewriter, loc, lS),
                                       getValueOrCreateConstantIndexOp(rewriter, loc, sqS))
                     .getResult()
               : Value();
    Value scores =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{scoreType}, ins,
            ValueRange{emptyOf(scoreSizes, elt)}, maps, iters(4, 0),
            [&](OpBuilder &nb, Location nl, ValueRange a) {
              Value s = arith::MulFOp::create(
                  nb, nl, a[0], arith::ConstantOp::create(nb, nl, nb.getFloatAttr(elt, scale)));
              if (softcap > 0.0) // c * tanh(s / c), before the mask
                s = arith::MulFOp::create(
                    nb, nl, arith::ConstantOp::create(nb, nl, nb.getFloatAttr(elt, softcap)),
                    math::TanhOp::create(
                        nb, nl,
                        arith::DivFOp::create(
                            nb, nl, s,
                            arith::ConstantOp::create(nb, nl, nb.getFloatAttr(elt, softcap)))));
              Value hidden = arith::ConstantOp::create(nb, nl, nb.getFloatAttr(elt, negInf));
              if (mask) {
                if (maskType.getElementType().isInteger(1))
                  s = arith::SelectOp::create(nb, nl, a[1], s, hidden);
                else
                  s = arith::AddFOp::create(nb, nl, s, widen(nb, nl, a[1]));
              }
              if (causal) {
                // j <= i + (L - Sq)
                Value i = linalg::IndexOp::create(nb, nl, 2), j = linalg::IndexOp::create(nb, nl, 3);
                Value limit = arith::AddIOp::create(nb, nl, i, keysBeforeQueries);
                Value visible = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sle, j, limit);
                s = arith::SelectOp::create(nb, nl, visible, s, hidden);
              }
              linalg::YieldOp::create(nb, nl, s);
            })
            .getResult(0);

    // Softmax over j, zeros for a row with nothing visible.
    auto rowType = RankedTensorType::get(rowShape, elt);
    AffineMap toRow = AffineMap::get(4, 0, {d(0), d(1), d(2)}, ctx);
    Value rowMax = linalg::GenericOp::create(
                       rewriter, loc, TypeRange{rowType}, ValueRange{scores},
                       ValueRange{fill(rowSizes, negInf)}, SmallVector<AffineMap>{id4, toRow},
                       iters(3, 1),
                       [&](OpBuilder &nb, Location nl, ValueRange a) {
                         linalg::YieldOp::create(
                             nb, nl, ValueRange{arith::MaximumFOp::create(nb, nl, a[0], a[1])});
                       })
                       .getResult(0);
    auto expOf = [&](OpBuilder &nb, Location nl, Value s, Value m) -> Value {
      // exp(s - max), or 0 when the whole row is hidden (max = -inf).
      Value hiddenRow = arith::CmpFOp::create(
          nb, nl, arith::CmpFPredicate::OEQ, m,
          arith::ConstantOp::create(nb, nl, nb.getFloatAttr(elt, negInf)));
      Value e = math::ExpOp::create(nb, nl, arith::SubFOp::create(nb, nl, s, m));
      return arith::SelectOp::create(nb, nl, hiddenRow,
                                     arith::ConstantOp::create(nb, nl, nb.getFloatAttr(elt, 0.0)),
                                     e);
    };
    Value rowSum = linalg::GenericOp::create(
                       rewriter, loc, TypeRange{rowType}, ValueRange{scores, rowMax},
                       ValueRange{fill(rowSizes, 0.0)},
                       SmallVector<AffineMap>{id4, toRow, toRow}, iters(3, 1),
                       [&](OpBuilder &nb, Location nl, ValueRange a) {
                         linalg::YieldOp::create(
                             nb, nl,
                             ValueRange{arith::AddFOp::create(nb, nl, a[2], expOf(nb, nl, a[0], a[1]))});
                       })
                       .getResult(0);
    Value probs =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{scoreType}, ValueRange{scores, rowMax, rowSum},
            ValueRange{emptyOf(scoreSizes, elt)},
            SmallVector<AffineMap>{id4, toRow, toRow, id4}, iters(4, 0),
            [&](OpBuilder &nb, Location nl, ValueRange a) {
              Value e = expOf(nb, nl, a[0], a[1]);
              Value zero = arith::ConstantOp::create(nb, nl, nb.getFloatAttr(elt, 0.0));
              Value empty = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, a[2], zero);
              Value p = arith::DivFOp::create(nb, nl, e, a[2]);
              linalg::YieldOp::create(nb, nl,
                                      ValueRange{arith::SelectOp::create(nb, nl, empty, zero, p)});
            })
            .getResult(0);

    // out = p . v over j: loops (b, kv head, row, e, j).
    SmallVector<int64_t> outShape = {b, hq, sq, dv}, groupedOut = {b, hkv, rows, dv};
    SmallVector<OpFoldResult> outSizes = {bS, hqS, sqS, dvS}, groupedOutSizes = {bS, hkvS, rowsS, dvS};
    Value out =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{RankedTensorType::get(groupedOut, elt)},
            ValueRange{toGroups(probs), value}, ValueRange{fill(groupedOutSizes, 0.0)},
            SmallVector<AffineMap>{AffineMap::get(5, 0, {d(0), d(1), d(2), d(4)}, ctx),
                                   AffineMap::get(5, 0, {d(0), d(1), d(4), d(3)}, ctx),
                                   AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)},
            iters(4, 1),
            [&](OpBuilder &nb, Location nl, ValueRange a) {
              Value p = arith::MulFOp::create(nb, nl, a[0], widen(nb, nl, a[1]));
              linalg::YieldOp::create(nb, nl, ValueRange{arith::AddFOp::create(nb, nl, a[2], p)});
            })
            .getResult(0);
    out = fromGroups(out);
    if (io != elt) {
      auto ioType = RankedTensorType::get(outShape, io);
      AffineMap id = AffineMap::getMultiDimIdentityMap(4, ctx);
      out = linalg::GenericOp::create(
                rewriter, loc, TypeRange{ioType}, ValueRange{out},
                ValueRange{emptyOf(outSizes, io)},
                SmallVector<AffineMap>{id, id}, iters(4, 0),
                [&](OpBuilder &nb, Location nl, ValueRange a) {
                  linalg::YieldOp::create(nb, nl,
                                          ValueRange{arith::TruncFOp::create(nb, nl, io, a[0])});
                })
                .getResult(0);
    }
    SmallVector<Value> results = {out};
    results.append(present.begin(), present.end());
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void populateAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<AttentionLowering>(patterns.getContext());
}

} // namespace kiln::conversion

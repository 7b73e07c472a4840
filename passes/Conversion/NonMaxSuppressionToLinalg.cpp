//===- NonMaxSuppressionToLinalg.cpp - kiln.non_max_suppression -----------===//
//
// Greedy selection as loops on tensors (onnx/reference/ops/
// op_non_max_suppression.py): per batch and class, up to
// min(boxes, max_output) rounds each pick the best box still standing
// (highest score, then lowest index; above score_threshold when given),
// write [batch, class, box] into the next row, and knock out the boxes whose
// IoU with it exceeds iou_threshold. The rows go into a buffer of
// batches x classes x min(boxes, max_output) rows (a size: max_output is an
// input's value); the result is its first min(count, that) rows -- the
// count a data dim (SymbolicDims), the bound what the plan sizes by.
// O(B C K N) for K picks of N boxes.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/IR/NodeLocation.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace kiln::conversion {
namespace {

/// Whether boxes i and j of batch b overlap by more than `threshold` (IoU),
/// as the reference decides it: corners in either order, or center and
/// size; no overlap, an empty box or an empty union never suppresses.
Value suppresses(OpBuilder &b, Location loc, Value boxes, Value batch, Value i, Value j,
                 bool centerPoint, Value threshold) {
  Type elt = cast<RankedTensorType>(boxes.getType()).getElementType();
  auto at = [&](Value box, int64_t k) -> Value {
    return tensor::ExtractOp::create(b, loc, boxes,
                                     ValueRange{batch, box, arith::ConstantIndexOp::create(b, loc, k)});
  };
  auto f = [&](double v) { return arith::ConstantOp::create(b, loc, b.getFloatAttr(elt, v)).getResult(); };
  auto add = [&](Value x, Value y) { return arith::AddFOp::create(b, loc, x, y).getResult(); };
  auto sub = [&](Value x, Value y) { return arith::SubFOp::create(b, loc, x, y).getResult(); };
  auto mul = [&](Value x, Value y) { return arith::MulFOp::create(b, loc, x, y).getResult(); };
  auto mx = [&](Value x, Value y) { return arith::MaxNumFOp::create(b, loc, x, y).getResult(); };
  auto mn = [&](Value x, Value y) { return arith::MinNumFOp::create(b, loc, x, y).getResult(); };
  auto gt = [&](Value x, Value y) {
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, y).getResult();
  };
  // [lo, hi] along x and y of a box.
  auto extent = [&](Value box, bool xAxis) -> std::pair<Value, Value> {
    if (centerPoint) {
      Value c = at(box, xAxis ? 0 : 1), half = mul(at(box, xAxis ? 2 : 3), f(0.5));
      return {sub(c, half), add(c, half)};
    }
    Value p = at(box, xAxis ? 1 : 0), q = at(box, xAxis ? 3 : 2);
    return {mn(p, q), mx(p, q)};
  };
  auto [x1lo, x1hi] = extent(i, true);
  auto [x2lo, x2hi] = extent(j, true);
  auto [y1lo, y1hi] = extent(i, false);
  auto [y2lo, y2hi] = extent(j, false);
  Value ixlo = mx(x1lo, x2lo), ixhi = mn(x1hi, x2hi);
  Value iylo = mx(y1lo, y2lo), iyhi = mn(y1hi, y2hi);
  Value inter = mul(sub(ixhi, ixlo), sub(iyhi, iylo));
  Value area1 = mul(sub(x1hi, x1lo), sub(y1hi, y1lo));
  Value area2 = mul(sub(x2hi, x2lo), sub(y2hi, y2lo));
  Value uni = sub(add(area1, area2), inter);
  Value ok = arith::AndIOp::create(b, loc, gt(ixhi, ixlo), gt(iyhi, iylo));
  for (Value positive : {inter, area1, area2, uni})
    ok = arith::AndIOp::create(b, loc, ok, gt(positive, f(0)));
  Value iou = arith::DivFOp::create(b, loc, inter, uni);
  return arith::AndIOp::create(b, loc, ok, gt(iou, threshold));
}

struct NonMaxSuppressionLowering : OpRewritePattern<NonMaxSuppressionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(NonMaxSuppressionOp op, PatternRewriter &rewriter) const override {
    auto boxesT = cast<RankedTensorType>(op.getBoxes().getType());
    auto scoresT = cast<RankedTensorType>(op.getScores().getType());
    Type elt = boxesT.getElementType();
    if (scoresT.getElementType() != elt || boxesT.getRank() != 3 || scoresT.getRank() != 3)
      return rewriter.notifyMatchFailure(op, "mixed element types or ranks");
    for (Value v : {op.getIouThreshold(), op.getScoreThreshold()})
      if (v && (!cast<RankedTensorType>(v.getType()).hasStaticShape() ||
                cast<RankedTensorType>(v.getType()).getNumElements() != 1))
        return rewriter.notifyMatchFailure(op, "thresholds of more than one value");
    if (Value v = op.getMaxOutput(); v && (!cast<RankedTensorType>(v.getType()).hasStaticShape() ||
                                           cast<RankedTensorType>(v.getType()).getNumElements() != 1))
      return rewriter.notifyMatchFailure(op, "max_output of more than one value");
    Location loc = op.getLoc();
    Type index = rewriter.getIndexType(), i64 = rewriter.getI64Type();
    auto cst = [&](int64_t v) { return arith::ConstantIndexOp::create(rewriter, loc, v).getResult(); };
    Value boxes = op.getBoxes(), scores = op.getScores();
    Value batches = tensor::DimOp::create(rewriter, loc, scores, 0);
    Value classes = tensor::DimOp::create(rewriter, loc, scores, 1);
    Value count = tensor::DimOp::create(rewriter, loc, scores, 2);
    // Checked per run: the loops read boxes at the scores' batch and box
    // positions.
    std::string node = describeNode(op);
    auto same = [&](Value p, Value q, const char *what) {
      cf::AssertOp::create(rewriter, loc, arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, p, q),
                           node + ": " + what);
    };
    same(tensor::DimOp::create(rewriter, loc, boxes, 0), batches,
         "boxes have {0} batches, scores {1}");
    same(tensor::DimOp::create(rewriter, loc, boxes, 1), count, "boxes number {0}, scores {1}");
    same(tensor::DimOp::create(rewriter, loc, boxes, 2), cst(4), "a box has {0} coordinates, not {1}");
    // Picks per class: min(boxes, max(max_output, 0)); none without it.
    Value picks = cst(0);
    if (Value m = op.getMaxOutput()) {
      Value given = arith::IndexCastOp::create(
          rewriter, loc, index,
          arith::MaxSIOp::create(rewriter, loc, scalarOf(rewriter, loc, m),
                                 arith::ConstantOp::create(rewriter, loc, rewriter.getI64IntegerAttr(0))));
      picks = arith::MinUIOp::create(rewriter, loc, given, count);
    }
    Value iou = op.getIouThreshold() ? scalarOf(rewriter, loc, op.getIouThreshold())
                                     : arith::ConstantOp::create(rewriter, loc, rewriter.getFloatAttr(elt, 0.0))
                                           .getResult();
    if (iou.getType() != elt)
      iou = arith::ExtFOp::create(rewriter, loc, elt, iou);
    Value scoreMin = op.getScoreThreshold() ? scalarOf(rewriter, loc, op.getScoreThreshold()) : Value();
    if (scoreMin && scoreMin.getType() != elt)
      scoreMin = arith::ExtFOp::create(rewriter, loc, elt, scoreMin);
    Value rows = arith::MulIOp::create(rewriter, loc,
                                       arith::MulIOp::create(rewriter, loc, batches, classes), picks);
    auto selT = RankedTensorType::get({ShapedType::kDynamic, 3}, i64);
    Value sel = tensor::EmptyOp::create(rewriter, loc, selT.getShape(), i64, ValueRange{rows});
    // (Never written past: one row per pick, picks per class bounded.)
    Value standing = tensor::EmptyOp::create(rewriter, loc, SmallVector<int64_t>{ShapedType::kDynamic},
                                             rewriter.getI1Type(), ValueRange{count});
    Value c0 = cst(0), c1 = cst(1), c2 = cst(2);
    Value f = arith::ConstantIntOp::create(rewriter, loc, rewriter.getI1Type(), 0);
    Value t = arith::ConstantIntOp::create(rewriter, loc, rewriter.getI1Type(), 1);
    bool centerPoint = op.getCenterPointBox();
    auto perBatch = scf::ForOp::create(
        rewriter, loc, c0, batches, c1, ValueRange{sel, c0},
        [&](OpBuilder &b, Location l, Value batch, ValueRange outer) {
          auto perClass = scf::ForOp::create(
              b, l, c0, classes, c1, outer,
              [&](OpBuilder &b, Location l, Value cls, ValueRange state) {
                // Every box stands (above the score threshold, when given).
                auto init = scf::ForOp::create(
                    b, l, c0, count, c1, ValueRange{standing},
                    [&](OpBuilder &b, Location l, Value i, ValueRange s) {
                      Value in = t;
                      if (scoreMin)
                        in = arith::CmpFOp::create(
                            b, l, arith::CmpFPredicate::OGT,
                            tensor::ExtractOp::create(b, l, scores, ValueRange{batch, cls, i}), scoreMin);
                      scf::YieldOp::create(b, l, ValueRange{tensor::InsertOp::create(b, l, in, s[0], ValueRange{i})});
                    });
                auto rounds = scf::ForOp::create(
                    b, l, c0, picks, c1, ValueRange{state[0], state[1], init.getResult(0)},
                    [&](OpBuilder &b, Location l, Value, ValueRange s) {
                      // The best box standing: highest score, lowest index.
                      Value none = arith::ConstantOp::create(b, l, b.getFloatAttr(elt, 0.0));
                      auto best = scf::ForOp::create(
                          b, l, c0, count, c1, ValueRange{f, c0, none},
                          [&](OpBuilder &b, Location l, Value i, ValueRange acc) {
                            Value up = tensor::ExtractOp::create(b, l, s[2], ValueRange{i});
                            Value score = tensor::ExtractOp::create(b, l, scores, ValueRange{batch, cls, i});
                            Value better = arith::OrIOp::create(
                                b, l, arith::XOrIOp::create(b, l, acc[0], t),
                                arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, score, acc[2]));
                            Value take = arith::AndIOp::create(b, l, up, better);
                            scf::YieldOp::create(
                                b, l,
                                ValueRange{arith::OrIOp::create(b, l, acc[0], take),
                                           arith::SelectOp::create(b, l, take, i, acc[1]),
                                           arith::SelectOp::create(b, l, take, score, acc[2])});
                          });
                      Value found = best.getResult(0), pick = best.getResult(1);
                      auto step = scf::IfOp::create(
                          b, l, found,
                          [&](OpBuilder &b, Location l) {
                            Value row = s[1], out = s[0];
                            for (auto [k, v] : llvm::enumerate(SmallVector<Value>{batch, cls, pick}))
                              out = tensor::InsertOp::create(
                                  b, l, arith::IndexCastOp::create(b, l, i64, v), out,
                                  ValueRange{row, k == 0 ? c0 : k == 1 ? c1 : c2});
                            // Knock out the picked box and those it overlaps.
                            auto knock = scf::ForOp::create(
                                b, l, c0, count, c1, ValueRange{s[2]},
                                [&](OpBuilder &b, Location l, Value i, ValueRange st) {
                                  Value up = tensor::ExtractOp::create(b, l, st[0], ValueRange{i});
                                  Value self = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, i, pick);
                                  Value hit = arith::OrIOp::create(
                                      b, l, self, suppresses(b, l, boxes, batch, pick, i, centerPoint, iou));
                                  Value keep = arith::AndIOp::create(
                                      b, l, up, arith::XOrIOp::create(b, l, hit, t));
                                  scf::YieldOp::create(
                                      b, l, ValueRange{tensor::InsertOp::create(b, l, keep, st[0], ValueRange{i})});
                                });
                            scf::YieldOp::create(b, l,
                                                 ValueRange{out, arith::AddIOp::create(b, l, row, c1),
                                                            knock.getResult(0)});
                          },
                          [&](OpBuilder &b, Location l) { scf::YieldOp::create(b, l, s); });
                      scf::YieldOp::create(b, l, step.getResults());
                    });
                scf::YieldOp::create(b, l, ValueRange{rounds.getResult(0), rounds.getResult(1)});
              });
          scf::YieldOp::create(b, l, perClass.getResults());
        });
    Value n = dataSize(rewriter, loc, perBatch.getResult(1), rows);
    SmallVector<OpFoldResult> offsets = {rewriter.getIndexAttr(0), rewriter.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {n, rewriter.getIndexAttr(3)};
    SmallVector<OpFoldResult> strides = {rewriter.getIndexAttr(1), rewriter.getIndexAttr(1)};
    Value result = tensor::ExtractSliceOp::create(rewriter, loc, cast<RankedTensorType>(op.getType()),
                                                  perBatch.getResult(0), offsets, sizes, strides);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void populateNonMaxSuppressionPatterns(RewritePatternSet &patterns) {
  patterns.add<NonMaxSuppressionLowering>(patterns.getContext());
}

} // namespace kiln::conversion

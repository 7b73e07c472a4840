//===- UniqueToLinalg.cpp - kiln.unique as loops on tensors ---------------===//
//
// ONNX Unique over the M slices along the axis (the M elements of the
// flattened input without one), as loops on tensors: each slice's first
// equal slice (the first occurrence), the unique ones' order (ascending by
// lexicographic comparison when sorted, else by first occurrence), then
// the four results written at those positions. The values, indices and
// counts go into buffers of M entries; the results are their first
// min(unique, M) -- the unique count a data dim (SymbolicDims), M the bound
// the plan sizes by. O(M^2 S) for slices of S elements (onnxruntime hashes;
// Unique is not on a model's hot path). NaN equals nothing.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"

#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace kiln::conversion {
namespace {

class UniqueBody {
public:
  UniqueBody(OpBuilder &b, Location loc, Value x, int64_t axis) : b(b), loc(loc), x(x), axis(axis) {
    auto t = cast<RankedTensorType>(x.getType());
    slice = c(1);
    for (int64_t d = 0; d < t.getRank(); ++d) {
      dims.push_back(tensor::DimOp::create(b, loc, x, d));
      if (d != axis)
        slice = arith::MulIOp::create(b, loc, slice, dims.back());
    }
  }

  Value c(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  /// The coordinates of element s of slice i (the other dims, last fastest).
  SmallVector<Value> at(OpBuilder &nb, Location l, Value i, Value s) {
    SmallVector<Value> out(dims.size());
    for (int64_t d = dims.size() - 1; d >= 0; --d) {
      if (d == axis) {
        out[d] = i;
        continue;
      }
      out[d] = arith::RemUIOp::create(nb, l, s, dims[d]);
      s = arith::DivUIOp::create(nb, l, s, dims[d]);
    }
    return out;
  }
  Value element(OpBuilder &nb, Location l, Value i, Value s) {
    return tensor::ExtractOp::create(nb, l, x, at(nb, l, i, s));
  }

  /// Whether slices i and j hold equal elements throughout.
  Value equal(OpBuilder &nb, Location l, Value i, Value j) {
    Value t = arith::ConstantIntOp::create(nb, l, nb.getI1Type(), 1);
    auto loop = scf::ForOp::create(
        nb, l, c(0), slice, c(1), ValueRange{t},
        [&](OpBuilder &bb, Location ll, Value s, ValueRange acc) {
          Value same = compare(bb, ll, element(bb, ll, i, s), element(bb, ll, j, s), true);
          scf::YieldOp::create(bb, ll, ValueRange{arith::AndIOp::create(bb, ll, acc[0], same)});
        });
    return loop.getResult(0);
  }

  /// Whether slice i comes before slice j lexicographically.
  Value less(OpBuilder &nb, Location l, Value i, Value j) {
    Value f = arith::ConstantIntOp::create(nb, l, nb.getI1Type(), 0);
    auto loop = scf::ForOp::create(
        nb, l, c(0), slice, c(1), ValueRange{f, f},
        [&](OpBuilder &bb, Location ll, Value s, ValueRange acc) {
          Value p = element(bb, ll, i, s), q = element(bb, ll, j, s);
          Value differ = arith::XOrIOp::create(
              bb, ll, compare(bb, ll, p, q, true), arith::ConstantIntOp::create(bb, ll, bb.getI1Type(), 1));
          Value first = arith::AndIOp::create(
              bb, ll, differ, arith::XOrIOp::create(bb, ll, acc[0],
                                                    arith::ConstantIntOp::create(bb, ll, bb.getI1Type(), 1)));
          scf::YieldOp::create(
              bb, ll,
              ValueRange{arith::OrIOp::create(bb, ll, acc[0], differ),
                         arith::SelectOp::create(bb, ll, first, compare(bb, ll, p, q, false), acc[1])});
        });
    return loop.getResult(1);
  }

private:
  OpBuilder &b;
  Location loc;
  Value x;
  int64_t axis;
  SmallVector<Value> dims;

public:
  Value slice; // elements per slice

private:
  /// p == q (ordered: NaN equals nothing), or p < q with NaN after every
  /// number (a total order, so sorted ranks are distinct); a bool's false
  /// before true.
  Value compare(OpBuilder &nb, Location l, Value p, Value q, bool eq) {
    if (isa<FloatType>(p.getType())) {
      if (eq)
        return arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, p, q);
      Value lt = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OLT, p, q);
      Value numberBeforeNaN = arith::AndIOp::create(
          nb, l, arith::CmpFOp::create(nb, l, arith::CmpFPredicate::ORD, p, p),
          arith::CmpFOp::create(nb, l, arith::CmpFPredicate::UNO, q, q));
      return arith::OrIOp::create(nb, l, lt, numberBeforeNaN);
    }
    bool isBool = p.getType().isInteger(1);
    return arith::CmpIOp::create(nb, l,
                                 eq       ? arith::CmpIPredicate::eq
                                 : isBool ? arith::CmpIPredicate::ult
                                          : arith::CmpIPredicate::slt,
                                 p, q);
  }
};

struct UniqueLowering : OpRewritePattern<UniqueOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(UniqueOp op, PatternRewriter &rewriter) const override {
    auto in = cast<RankedTensorType>(op.getInput().getType());
    Type elt = in.getElementType();
    if (!isLowerableElement(elt) || in.getRank() == 0)
      return rewriter.notifyMatchFailure(op, "element type or a scalar not lowered yet");
    Location loc = op.getLoc();
    Type i64 = rewriter.getI64Type();
    Value x = op.getInput();
    int64_t axis = 0;
    if (std::optional<int64_t> a = op.getAxis()) {
      axis = normalizeAxis(*a, in.getRank());
    } else if (in.getRank() != 1) {
      ReassociationIndices all;
      for (int64_t d = 0; d < in.getRank(); ++d)
        all.push_back(d);
      x = tensor::CollapseShapeOp::create(rewriter, loc, x, ArrayRef<ReassociationIndices>{all});
    }
    auto xt = cast<RankedTensorType>(x.getType());
    UniqueBody body(rewriter, loc, x, axis);
    auto c = [&](int64_t v) { return body.c(v); };
    Value m = tensor::DimOp::create(rewriter, loc, x, axis);
    Value f = arith::ConstantIntOp::create(rewriter, loc, rewriter.getI1Type(), 0);
    // (Positions held as i64: the CPU plan's buffers hold numbers, not
    // index values.)
    auto indexVector = [&]() {
      return tensor::EmptyOp::create(rewriter, loc, SmallVector<int64_t>{ShapedType::kDynamic}, i64,
                                     ValueRange{m})
          .getResult();
    };
    auto get = [&](OpBuilder &b, Location l, Value v, Value i) -> Value {
      return arith::IndexCastOp::create(b, l, b.getIndexType(),
                                        tensor::ExtractOp::create(b, l, v, ValueRange{i}));
    };
    auto put = [&](OpBuilder &b, Location l, Value x, Value v, Value i) -> Value {
      return tensor::InsertOp::create(b, l, arith::IndexCastOp::create(b, l, i64, x), v, ValueRange{i});
    };
    auto loop = [&](Value ub, ValueRange init,
                    function_ref<SmallVector<Value>(OpBuilder &, Location, Value, ValueRange)> fn) {
      return scf::ForOp::create(rewriter, loc, c(0), ub, c(1), init,
                                [&](OpBuilder &b, Location l, Value i, ValueRange acc) {
                                  scf::YieldOp::create(b, l, fn(b, l, i, acc));
                                })
          .getResults();
    };
    // first[i]: the first slice equal to slice i; unique: how many are
    // their own first.
    ValueRange firsts = loop(m, ValueRange{indexVector(), c(0)}, [&](OpBuilder &b, Location l, Value i,
                                                                     ValueRange acc) {
      Value found = scf::ForOp::create(
                        b, l, c(0), i, c(1), ValueRange{i},
                        [&](OpBuilder &bb, Location ll, Value j, ValueRange fa) {
                          Value open = arith::CmpIOp::create(bb, ll, arith::CmpIPredicate::eq, fa[0], i);
                          auto same = scf::IfOp::create(
                              bb, ll, open,
                              [&](OpBuilder &ib, Location il) {
                                scf::YieldOp::create(ib, il, ValueRange{body.equal(ib, il, i, j)});
                              },
                              [&](OpBuilder &ib, Location il) { scf::YieldOp::create(ib, il, ValueRange{f}); });
                          scf::YieldOp::create(
                              bb, ll, ValueRange{arith::SelectOp::create(bb, ll, same.getResult(0), j, fa[0])});
                        })
                        .getResult(0);
      Value own = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, found, i);
      return SmallVector<Value>{put(b, l, found, acc[0], i),
                                arith::AddIOp::create(b, l, acc[1],
                                                      arith::SelectOp::create(b, l, own, c(1), c(0)))};
    });
    Value first = firsts[0];
    Value n = dataSize(rewriter, loc, firsts[1], m);
    bool sorted = op.getSorted();
    // rank[i] of a unique slice i: how many unique slices come before it.
    Value rank = loop(m, ValueRange{indexVector()}, [&](OpBuilder &b, Location l, Value i, ValueRange acc) {
      Value mine = get(b, l, first, i);
      Value own = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, mine, i);
      auto r = scf::IfOp::create(
          b, l, own,
          [&](OpBuilder &ib, Location il) {
            Value before = scf::ForOp::create(
                               ib, il, c(0), sorted ? m : i, c(1), ValueRange{c(0)},
                               [&](OpBuilder &bb, Location ll, Value j, ValueRange cnt) {
                                 Value other = arith::CmpIOp::create(bb, ll, arith::CmpIPredicate::eq,
                                                                     get(bb, ll, first, j), j);
                                 Value counts = other;
                                 if (sorted) {
                                   // j before i: less, or neither less and
                                   // j first (NaN slices: distinct ranks).
                                   auto lt = scf::IfOp::create(
                                       bb, ll, other,
                                       [&](OpBuilder &xb, Location xl) {
                                         Value before = body.less(xb, xl, j, i);
                                         Value tie = arith::AndIOp::create(
                                             xb, xl,
                                             arith::XOrIOp::create(xb, xl, body.less(xb, xl, i, j),
                                                                   arith::ConstantIntOp::create(xb, xl, xb.getI1Type(), 1)),
                                             arith::CmpIOp::create(xb, xl, arith::CmpIPredicate::ult, j, i));
                                         scf::YieldOp::create(
                                             xb, xl, ValueRange{arith::OrIOp::create(xb, xl, before, tie)});
                                       },
                                       [&](OpBuilder &xb, Location xl) {
                                         scf::YieldOp::create(xb, xl, ValueRange{f});
                                       });
                                   counts = lt.getResult(0);
                                 }
                                 scf::YieldOp::create(
                                     bb, ll,
                                     ValueRange{arith::AddIOp::create(
                                         bb, ll, cnt[0], arith::SelectOp::create(bb, ll, counts, c(1), c(0)))});
                               })
                               .getResult(0);
            scf::YieldOp::create(ib, il, ValueRange{before});
          },
          [&](OpBuilder &ib, Location il) { scf::YieldOp::create(ib, il, ValueRange{c(0)}); });
      return SmallVector<Value>{put(b, l, r.getResult(0), acc[0], i)};
    })[0];
    // The results at full length (M), then the first n of three.
    Value zero64 = arith::ConstantOp::create(rewriter, loc, rewriter.getI64IntegerAttr(0));
    auto vector64 = [&]() { return filled(rewriter, loc, RankedTensorType::get({ShapedType::kDynamic}, i64), {m}, zero64); };
    SmallVector<Value> xSizes;
    for (int64_t d = 0; d < xt.getRank(); ++d)
      if (xt.isDynamicDim(d))
        xSizes.push_back(tensor::DimOp::create(rewriter, loc, x, d));
    Value valuesFull = tensor::EmptyOp::create(rewriter, loc, xt.getShape(), elt, xSizes);
    auto toI64 = [&](OpBuilder &b, Location l, Value v) { return arith::IndexCastOp::create(b, l, i64, v).getResult(); };
    ValueRange full = loop(
        m, ValueRange{valuesFull, vector64(), vector64(), vector64()},
        [&](OpBuilder &b, Location l, Value j, ValueRange acc) {
          Value mine = get(b, l, first, j);
          Value r = get(b, l, rank, mine);
          // (r < n always -- a rank counts unique slices -- kept inside anyway.)
          Value pos = arith::MinUIOp::create(b, l, r, arith::SubIOp::create(b, l, m, c(1)));
          Value inverse = tensor::InsertOp::create(b, l, toI64(b, l, pos), acc[2], ValueRange{j});
          Value count = tensor::InsertOp::create(
              b, l,
              arith::AddIOp::create(b, l, tensor::ExtractOp::create(b, l, acc[3], ValueRange{pos}),
                                    arith::ConstantOp::create(b, l, b.getI64IntegerAttr(1))),
              acc[3], ValueRange{pos});
          Value own = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, mine, j);
          auto written = scf::IfOp::create(
              b, l, own,
              [&](OpBuilder &ib, Location il) {
                Value index = tensor::InsertOp::create(ib, il, toI64(ib, il, j), acc[1], ValueRange{pos});
                Value values = scf::ForOp::create(
                                   ib, il, c(0), body.slice, c(1), ValueRange{acc[0]},
                                   [&](OpBuilder &bb, Location ll, Value s, ValueRange v) {
                                     Value e = body.element(bb, ll, j, s);
                                     scf::YieldOp::create(
                                         bb, ll,
                                         ValueRange{tensor::InsertOp::create(bb, ll, e, v[0], body.at(bb, ll, pos, s))});
                                   })
                                   .getResult(0);
                scf::YieldOp::create(ib, il, ValueRange{values, index});
              },
              [&](OpBuilder &ib, Location il) { scf::YieldOp::create(ib, il, ValueRange{acc[0], acc[1]}); });
          return SmallVector<Value>{written.getResult(0), written.getResult(1), inverse, count};
        });
    auto head = [&](Value v, RankedTensorType type, int64_t along) {
      auto vt = cast<RankedTensorType>(v.getType());
      SmallVector<OpFoldResult> offsets(vt.getRank(), rewriter.getIndexAttr(0)), sizes,
          strides(vt.getRank(), rewriter.getIndexAttr(1));
      for (int64_t d = 0; d < vt.getRank(); ++d)
        sizes.push_back(d == along       ? OpFoldResult(n)
                        : vt.isDynamicDim(d) ? OpFoldResult(tensor::DimOp::create(rewriter, loc, v, d).getResult())
                                           : OpFoldResult(rewriter.getIndexAttr(vt.getDimSize(d))));
      return tensor::ExtractSliceOp::create(rewriter, loc, type, v, offsets, sizes, strides).getResult();
    };
    auto cast = [&](Value v, Type type) -> Value {
      return v.getType() == type ? v : tensor::CastOp::create(rewriter, loc, type, v).getResult();
    };
    Value values = head(full[0], RankedTensorType::get(
                                     [&] {
                                       SmallVector<int64_t> s(xt.getShape());
                                       s[axis] = ShapedType::kDynamic;
                                       return s;
                                     }(),
                                     elt),
                        axis);
    Value indices = head(full[1], RankedTensorType::get({ShapedType::kDynamic}, i64), 0);
    Value counts = head(full[3], RankedTensorType::get({ShapedType::kDynamic}, i64), 0);
    rewriter.replaceOp(op, {cast(values, op.getValues().getType()), cast(indices, op.getIndices().getType()),
                            cast(full[2], op.getInverseIndices().getType()),
                            cast(counts, op.getCounts().getType())});
    return success();
  }
};

} // namespace

void populateUniquePatterns(RewritePatternSet &patterns) {
  patterns.add<UniqueLowering>(patterns.getContext());
}

} // namespace kiln::conversion

//===- MoeKernel.cpp - routed mixture-of-experts kernel for the CPU -------===//
//
// The CPU target's kernel for `kiln.moe` (see Passes.td): routing stays in
// kiln ops (router matmul, softmax/sigmoid, group-limited selection, TopK,
// weights), lowered like any other; the experts run only on the tokens
// routed to them (grouped GEMMs). A sequential pass counts the rows each
// expert gets and gives each (token, slot) pair a row in its expert's
// range; a grid gathers the tokens' rows there; the three products are
// grids over (expert, column panel) on all of an expert's rows; a last
// grid writes routing weight x output row to the pair's slot row. Slots are
// summed per token afterwards (every pair belongs to one expert, so no two
// workgroups write the same row). Work follows the routed tokens:
// proportional to top_k / E, not E, and each chosen expert's weights are
// read once per call.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/MatmulEmitter.h"
#include "targets/cpu/Passes.h"
#include "targets/cpu/TensorBuffers.h"

#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

namespace kiln {
#define GEN_PASS_DEF_KILNCPUMOE
#include "targets/cpu/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using kiln::cpu::MatmulEmitter;
using kiln::cpu::Tiling;

namespace {

/// Facts of one MoE layer: all static but the token count, which may be
/// dynamic (ShapedType::kDynamic, read per run).
struct MoeShape {
  int64_t tokens, hidden, inter, experts, topK;
  bool dynamic() const { return ShapedType::isDynamic(tokens); }
};

Value scalarTensor(OpBuilder &b, Location loc, Type elt, double v) {
  auto t = RankedTensorType::get({}, elt);
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(t, b.getFloatAttr(elt, v)));
}

/// Routing in kiln ops: the chosen experts [T, k] (i64) and their weights
/// [T, k], as kiln.moe defines them.
std::pair<Value, Value> route(OpBuilder &b, Location loc, MoeOp op, Value x2,
                              const MoeShape &s) {
  Type f32 = b.getF32Type();
  Value logits = MatmulOp::create(b, loc, x2, op.getRouterWeight());
  Value scores = op.getScoring() == ScoreFunc::softmax
                     ? Value(SoftmaxOp::create(b, loc, logits.getType(), logits, b.getI64IntegerAttr(-1)))
                     : Value(UnaryOp::create(b, loc, UnaryKind::sigmoid, logits));
  Value select = scores;
  if (op.getScoreBias())
    select = BinaryOp::create(b, loc, BinaryKind::add, scores, op.getScoreBias());
  int64_t groups = op.getNGroup();
  if (groups > 1) {
    // Each group scores the sum of its two best; only the best topk_group
    // groups stay eligible (the others are set to -inf).
    int64_t per = s.experts / groups;
    auto grouped = RankedTensorType::get({s.tokens, groups, per}, f32);
    Value g = ReshapeOp::create(b, loc, grouped, select, Value(), false);
    auto best = TopKOp::create(b, loc, g, std::min<int64_t>(2, per), -1, Value(), true, true);
    Value groupScore = ReduceOp::create(b, loc, ReduceKind::sum, best.getValues(),
                                        ArrayRef<int64_t>{-1}, Value(), false);
    auto keep = TopKOp::create(b, loc, groupScore, op.getTopkGroup(), -1, Value(), true, true);
    // [T, tg, 1] == [G] -> [T, tg, G] -> any over tg -> [T, G, 1]
    auto idx3 = RankedTensorType::get({s.tokens, (int64_t)op.getTopkGroup(), 1},
                                      b.getI64Type());
    Value kept = ReshapeOp::create(b, loc, idx3, keep.getIndices(), Value(), false);
    SmallVector<int64_t> ids;
    for (int64_t i = 0; i < groups; ++i)
      ids.push_back(i);
    Value all = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(RankedTensorType::get({groups}, b.getI64Type()),
                                       ArrayRef<int64_t>(ids)));
    Value hit = CastOp::create(b, loc,
                               RankedTensorType::get({s.tokens, (int64_t)op.getTopkGroup(), groups},
                                                     f32),
                               CompareOp::create(b, loc, CompareKind::eq, kept, all));
    Value any = ReduceOp::create(b, loc, ReduceKind::max, hit, ArrayRef<int64_t>{1}, Value(),
                                 false);
    Value any3 = ReshapeOp::create(b, loc, RankedTensorType::get({s.tokens, groups, 1}, f32), any,
                                   Value(), false);
    Value eligible = CompareOp::create(b, loc, CompareKind::gt, any3,
                                       scalarTensor(b, loc, f32, 0.0));
    Value hidden = WhereOp::create(b, loc, eligible, g,
                                   scalarTensor(b, loc, f32,
                                                -std::numeric_limits<double>::infinity()));
    select = ReshapeOp::create(b, loc, RankedTensorType::get({s.tokens, s.experts}, f32), hidden,
                               Value(), false);
  }
  auto top = TopKOp::create(b, loc, select, s.topK, -1, Value(), true, true);
  Value weights = top.getValues();
  if (op.getScoreBias() || groups > 1) // the unbiased scores of the chosen experts
    weights = GatherElementsOp::create(b, loc, scores, top.getIndices(), -1);
  if (op.getNormalize()) {
    Value sum = ReduceOp::create(b, loc, ReduceKind::sum, weights, ArrayRef<int64_t>{-1}, Value(),
                                 true);
    weights = BinaryOp::create(b, loc, BinaryKind::div, weights, sum);
  }
  float factor = op.getRoutedScalingFactor().convertToFloat();
  if (factor != 1.0f)
    weights = BinaryOp::create(b, loc, BinaryKind::mul, weights,
                               scalarTensor(b, loc, f32, factor));
  return {top.getIndices(), weights};
}


/// The expert loops on buffers. Rows routed to one expert are gathered
/// into a contiguous range of a [rows, H] buffer (each expert's range
/// padded to the micro-tile height, so a micro-tile never spills into the
/// next expert's rows), then each product is a grid over (expert, column
/// panel) running the emitter on all of the expert's rows at once: a
/// weight panel is packed once per K block and reused by every routed row.
class ExpertEmitter {
public:
  /// `tokens`: the token count (a constant when static).
  ExpertEmitter(OpBuilder &b, Location loc, const Tiling &t, const MoeShape &s, Value tokens)
      : b(b), loc(loc), t(t), s(s), f32(b.getF32Type()), tokensV(tokens) {
    pairsV = arith::MulIOp::create(b, loc, tokens, idx0(s.topK));
    if (s.dynamic()) {
      // Products run on exactly an expert's live rows (the emitter's
      // dynamic row count), so the buffer holds the pairs and each
      // expert's padding to a micro-tile boundary.
      maxRows = pairs = bufferRows = ShapedType::kDynamic;
      bufferRowsV = arith::AddIOp::create(b, loc, pairsV, idx0(s.experts * t.mr));
      return;
    }
    // Rows an expert may own: every token, rounded to whole micro-tiles
    // (so live-row bounds apply), or the token count below one tile.
    maxRows = s.tokens < t.mr ? s.tokens : (s.tokens + t.mr - 1) / t.mr * t.mr;
    pairs = s.tokens * s.topK;
    // Each expert's range starts on a micro-tile boundary, and the last
    // one may be read maxRows long.
    bufferRows = pairs + s.experts * t.mr + maxRows;
  }

  /// slots[t * k + j, :] = weight[t, j] * expert(idx[t, j])(x[t, :]).
  void emit(Value x, Value idx, Value weight, Value gate, Value up, Value down, Value slots,
            Activation act) {
    // Shared by the dispatches: intermediates in the arena (i64, not
    // index: arena slots hold integers and floats).
    // A dynamic first dim is sized per run (`first`).
    auto alloc = [&](ArrayRef<int64_t> shape, Type elt, Value first = Value()) -> Value {
      SmallVector<Value> sizes;
      if (ShapedType::isDynamic(shape[0]))
        sizes.push_back(first);
      return memref::AllocOp::create(b, loc, MemRefType::get(shape, elt), sizes,
                                     b.getI64IntegerAttr(64));
    };
    Value count = alloc({s.experts}, b.getI64Type());
    Value start = alloc({s.experts}, b.getI64Type());
    Value rowOf = alloc({pairs}, b.getI64Type(), pairsV);
    Value xg = alloc({bufferRows, s.hidden}, f32, bufferRowsV);
    Value h1 = alloc({bufferRows, s.inter}, f32, bufferRowsV);
    Value h2 = alloc({bufferRows, s.inter}, f32, bufferRowsV);
    Value yg = alloc({bufferRows, s.hidden}, f32, bufferRowsV);

    buildLists(idx, count, start, rowOf);
    // Gather: each token's row to its slots' rows.
    grid(tokensV, [&](Value tok) {
      forRange(idx0(0), idx0(s.topK), 1, [&](Value j) {
        Value p = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, tok, idx0(s.topK)), j);
        copyRow(x, tok, xg, load(rowOf, p), s.hidden, Value());
      });
    });
    // act(X G) * (X U) per column panel of I, then (.) D per panel of H.
    int64_t pi = panelWidth(s.inter), ph = panelWidth(s.hidden);
    MatmulEmitter::Scratch upScratch =
        MatmulEmitter::makeScratch(b, loc, t, maxRows, s.hidden, pi, false);
    MatmulEmitter::Scratch downScratch =
        MatmulEmitter::makeScratch(b, loc, t, maxRows, s.inter, ph, false);
    expertGrid(count, start, s.inter / pi, [&](Value e, Value first, Value live, Value panel) {
      Value col = arith::MulIOp::create(b, loc, panel, idx0(pi));
      Value a = rowsOf(xg, first, live, s.hidden, idx0(0));
      Value g = rowsOf(h1, first, live, pi, col), u = rowsOf(h2, first, live, pi, col);
      product(a, expertWeight(gate, e, s.hidden, pi, col), g, live, upScratch);
      product(a, expertWeight(up, e, s.hidden, pi, col), u, live, upScratch);
      activate(g, u, live, pi, act);
    });
    expertGrid(count, start, s.hidden / ph, [&](Value e, Value first, Value live, Value panel) {
      Value col = arith::MulIOp::create(b, loc, panel, idx0(ph));
      product(rowsOf(h1, first, live, s.inter, idx0(0)),
              expertWeight(down, e, s.inter, ph, col), rowsOf(yg, first, live, ph, col), live,
              downScratch);
    });
    // Scatter: slot row = routing weight x its expert's output row.
    grid(tokensV, [&](Value tok) {
      forRange(idx0(0), idx0(s.topK), 1, [&](Value j) {
        Value p = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, tok, idx0(s.topK)), j);
        Value w = memref::LoadOp::create(b, loc, weight, ValueRange{tok, j});
        copyRow(yg, load(rowOf, p), slots, p, s.hidden, w);
      });
    });
  }

private:
  OpBuilder &b;
  Location loc;
  Tiling t;
  MoeShape s;
  Type f32;
  int64_t maxRows, pairs, bufferRows; // kDynamic with a dynamic token count
  Value tokensV, pairsV, bufferRowsV;

  Value idx0(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  /// An index kept in an i64 buffer.
  Value load(Value buffer, Value i) {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                      memref::LoadOp::create(b, loc, buffer, ValueRange{i}));
  }
  void store(Value v, Value buffer, Value i) {
    memref::StoreOp::create(b, loc, arith::IndexCastOp::create(b, loc, b.getI64Type(), v), buffer,
                            ValueRange{i});
  }
  int64_t lanesFor(int64_t n) const { return n % t.vw == 0 ? t.vw : 1; }
  VectorType vec(int64_t lanes) { return VectorType::get({lanes}, f32); }
  Value splat(int64_t lanes, float v) {
    return vector::BroadcastOp::create(b, loc, vec(lanes),
                                       arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v)));
  }
  void forRange(Value lb, Value ub, int64_t step, function_ref<void(Value)> body) {
    scf::ForOp::create(b, loc, lb, ub, idx0(step), ValueRange{},
                       [&](OpBuilder &, Location, Value i, ValueRange) {
                         body(i);
                         scf::YieldOp::create(b, loc);
                       });
  }
  /// A top-level workgroup grid of `n` iterations.
  void grid(int64_t n, function_ref<void(Value)> body) { grid(idx0(n), body); }
  void grid(Value n, function_ref<void(Value)> body) {
    auto par = scf::ParallelOp::create(b, loc, ValueRange{idx0(0)}, ValueRange{n},
                                       ValueRange{idx0(1)});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(par.getBody());
    body(par.getInductionVars()[0]);
  }
  /// A grid over (expert, panel) that skips experts no token chose;
  /// body(expert, first row, live rows, panel).
  void expertGrid(Value count, Value start, int64_t panels,
                  function_ref<void(Value, Value, Value, Value)> body) {
    grid(s.experts * panels, [&](Value wg) {
      Value e = arith::DivUIOp::create(b, loc, wg, idx0(panels));
      Value panel = arith::RemUIOp::create(b, loc, wg, idx0(panels));
      Value live = load(count, e);
      Value busy = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, live, idx0(0));
      scf::IfOp::create(b, loc, busy, [&](OpBuilder &, Location) {
        body(e, load(start, e), live, panel);
        scf::YieldOp::create(b, loc);
      });
    });
  }
  /// Panel width: the widest multiple of the micro-tile width up to 256
  /// that divides n (n itself when none does).
  int64_t panelWidth(int64_t n) const {
    for (int64_t w = 256 - 256 % t.nr; w >= t.nr; w -= t.nr)
      if (n % w == 0)
        return w;
    return n;
  }

  /// count[e] = pairs routed to e; start[e] = first row of e's range
  /// (ranges rounded up to the micro-tile height); rowOf[p] = p's row.
  void buildLists(Value idx, Value count, Value start, Value rowOf) {
    Value zero = idx0(0), one = idx0(1);
    grid(1, [&](Value) {
      forRange(zero, idx0(s.experts), 1, [&](Value e) { store(zero, count, e); });
      auto expertOf = [&](Value p) -> Value {
        Value tok = arith::DivUIOp::create(b, loc, p, idx0(s.topK));
        Value j = arith::RemUIOp::create(b, loc, p, idx0(s.topK));
        Value id = memref::LoadOp::create(b, loc, idx, ValueRange{tok, j});
        // Clamped, so a bad index cannot write outside the buffers.
        Value e = arith::IndexCastOp::create(b, loc, b.getIndexType(), id);
        return arith::MinUIOp::create(b, loc, e, idx0(s.experts - 1));
      };
      forRange(zero, pairsV, 1, [&](Value p) {
        Value e = expertOf(p);
        store(arith::AddIOp::create(b, loc, load(count, e), one), count, e);
      });
      scf::ForOp::create(
          b, loc, zero, idx0(s.experts), one, ValueRange{zero},
          [&](OpBuilder &, Location, Value e, ValueRange acc) {
            store(acc[0], start, e);
            Value n = load(count, e);
            Value padded = arith::MulIOp::create(
                b, loc,
                arith::DivUIOp::create(b, loc, arith::AddIOp::create(b, loc, n, idx0(t.mr - 1)),
                                       idx0(t.mr)),
                idx0(t.mr));
            store(zero, count, e);
            scf::YieldOp::create(b, loc, ValueRange{arith::AddIOp::create(b, loc, acc[0], padded)});
          });
      forRange(zero, pairsV, 1, [&](Value p) {
        Value e = expertOf(p);
        Value c = load(count, e);
        store(arith::AddIOp::create(b, loc, load(start, e), c), rowOf, p);
        store(arith::AddIOp::create(b, loc, c, one), count, e);
      });
    });
  }

  /// dst[dstRow, :] = src[srcRow, :] (times `scale` when given).
  void copyRow(Value src, Value srcRow, Value dst, Value dstRow, int64_t n, Value scale) {
    int64_t lanes = lanesFor(n);
    Value w = scale ? vector::BroadcastOp::create(b, loc, vec(lanes), scale).getResult() : Value();
    forRange(idx0(0), idx0(n), lanes, [&](Value c) {
      Value v = vector::LoadOp::create(b, loc, vec(lanes), src, ValueRange{srcRow, c});
      if (w)
        v = arith::MulFOp::create(b, loc, v, w);
      vector::StoreOp::create(b, loc, v, dst, ValueRange{dstRow, c});
    });
  }

  /// maxRows x cols window of a [rows, N] buffer from row `first`, col
  /// `col`; with a dynamic token count, the `live` rows only.
  Value rowsOf(Value buffer, Value first, Value live, int64_t cols, Value col) {
    OpFoldResult rows = s.dynamic() ? OpFoldResult(live) : b.getIndexAttr(maxRows);
    SmallVector<OpFoldResult> offsets{first, col}, sizes{rows, b.getIndexAttr(cols)};
    SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
    return memref::SubViewOp::create(b, loc, buffer, offsets, sizes, strides);
  }

  /// Columns [col, col + cols) of expert e's [rows, N] matrix of a stacked
  /// [E, rows, N] weight.
  Value expertWeight(Value w, Value e, int64_t rows, int64_t cols, Value col) {
    auto type = cast<MemRefType>(w.getType());
    SmallVector<OpFoldResult> offsets{e, b.getIndexAttr(0), col};
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(rows), b.getIndexAttr(cols)};
    SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
    auto reduced = memref::SubViewOp::inferRankReducedResultType({rows, cols}, type, offsets,
                                                                 sizes, strides);
    return memref::SubViewOp::create(b, loc, cast<MemRefType>(reduced), w, offsets, sizes,
                                     strides);
  }

  /// c = a x w on the first `live` rows (whole micro-tiles; c's rows past
  /// them are the expert's own padding).
  void product(Value a, Value w, Value c, Value live, const MatmulEmitter::Scratch &scratch) {
    int64_t cols = cast<MemRefType>(c.getType()).getDimSize(1);
    int64_t lanes = lanesFor(cols);
    if (s.dynamic()) { // a and c are the live rows: the emitter's run-time row count
      MatmulEmitter mm(b, loc, t);
      mm.setZeroInit(true);
      mm.setPrefetchB(true);
      mm.emit(a, w, c, scratch, /*parallel=*/false);
      return;
    }
    Value tiles = arith::MinUIOp::create(
        b, loc, idx0(maxRows),
        arith::MulIOp::create(
            b, loc,
            arith::DivUIOp::create(b, loc, arith::AddIOp::create(b, loc, live, idx0(t.mr - 1)),
                                   idx0(t.mr)),
            idx0(t.mr)));
    Value zero = splat(lanes, 0.0f);
    forRange(idx0(0), tiles, 1, [&](Value r) {
      forRange(idx0(0), idx0(cols), lanes, [&](Value k) {
        vector::StoreOp::create(b, loc, zero, c, ValueRange{r, k});
      });
    });
    MatmulEmitter mm(b, loc, t);
    mm.setActiveRows(live);
    mm.setPrefetchB(true);
    mm.emit(a, w, c, scratch, /*parallel=*/false);
  }

  /// g = act(g) * u on the live rows.
  void activate(Value g, Value u, Value live, int64_t cols, Activation act) {
    int64_t lanes = lanesFor(cols);
    Value one = splat(lanes, 1.0f);
    forRange(idx0(0), live, 1, [&](Value r) {
      forRange(idx0(0), idx0(cols), lanes, [&](Value c) {
        Value x = vector::LoadOp::create(b, loc, vec(lanes), g, ValueRange{r, c});
        Value y = vector::LoadOp::create(b, loc, vec(lanes), u, ValueRange{r, c});
        Value a;
        switch (act) {
        case Activation::silu: { // x / (1 + exp(-x))
          Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
          a = arith::DivFOp::create(b, loc, x, arith::AddFOp::create(b, loc, one, e));
          break;
        }
        case Activation::relu:
          a = arith::MaximumFOp::create(b, loc, x, splat(lanes, 0.0f));
          break;
        case Activation::gelu: { // x (1 + erf(x / sqrt 2)) / 2
          Value erf = math::ErfOp::create(
              b, loc, arith::MulFOp::create(b, loc, x, splat(lanes, 0.70710678118654752f)));
          a = arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, x, splat(lanes, 0.5f)),
                                    arith::AddFOp::create(b, loc, one, erf));
          break;
        }
        case Activation::gelu_tanh: { // x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
          Value x3 = arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, x, x), x);
          Value inner = arith::MulFOp::create(
              b, loc, splat(lanes, 0.7978845608f),
              arith::AddFOp::create(b, loc, x,
                                    arith::MulFOp::create(b, loc, splat(lanes, 0.044715f), x3)));
          a = arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, x, splat(lanes, 0.5f)),
                                    arith::AddFOp::create(b, loc, one,
                                                          math::TanhOp::create(b, loc, inner)));
          break;
        }
        }
        vector::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, a, y), g, ValueRange{r, c});
      });
    });
  }
};

struct MoePass : kiln::impl::KilnCpuMoeBase<MoePass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<Tiling> tiling = Tiling::forRegisters(vectorBits, registers, kBlock, 256);
    if (!tiling) {
      getOperation().emitError("kiln-cpu-moe needs vectors of at least 128 bits and 8 "
                               "registers");
      return signalPassFailure();
    }
    SmallVector<MoeOp> work;
    getOperation().walk([&](MoeOp op) { work.push_back(op); });
    for (MoeOp op : work)
      if (failed(rewrite(op, *tiling)))
        return signalPassFailure();
  }

  LogicalResult rewrite(MoeOp op, const Tiling &t) {
    auto xt = cast<RankedTensorType>(op.getHidden().getType());
    auto gt = cast<RankedTensorType>(op.getGateWeight().getType());
    // f32 throughout, except expert weights that may stay f16/bf16: the
    // products widen them in registers (MatmulEmitter).
    auto supported = llvm::all_of(op->getOperands(), [&](Value v) {
      auto type = cast<RankedTensorType>(v.getType());
      Type elt = type.getElementType();
      bool expert = v == op.getGateWeight() || v == op.getUpWeight() || v == op.getDownWeight();
      // The tokens' dims may be dynamic; every other size is static.
      bool shapeOk = v == op.getHidden() ? !type.isDynamicDim(type.getRank() - 1)
                                         : type.hasStaticShape();
      return shapeOk && (elt.isF32() || (expert && (elt.isF16() || elt.isBF16())));
    });
    if (!supported)
      return op.emitError("kiln.moe on the CPU needs f32 operands of static shapes but the "
                          "tokens' dims (expert weights may be f16/bf16; got ")
             << xt << ", " << op.getGateWeight().getType() << ")";
    MoeShape s;
    s.hidden = xt.getShape().back();
    s.tokens = xt.hasStaticShape() ? xt.getNumElements() / std::max<int64_t>(s.hidden, 1)
                                   : ShapedType::kDynamic;
    s.inter = gt.getDimSize(2);
    s.experts = gt.getDimSize(0);
    s.topK = op.getTopK();

    OpBuilder b(op);
    Location loc = op.getLoc();
    Type f32 = b.getF32Type();
    auto x2Type = RankedTensorType::get({s.tokens, s.hidden}, f32);
    Value x2 = ReshapeOp::create(b, loc, x2Type, op.getHidden(), Value(), false);
    auto [idx, weights] = route(b, loc, op, x2, s);

    auto buffer = [&](Value tensor) { return kiln::cpu::readOnlyBuffer(b, loc, tensor); };
    // The routing results are kiln tensors until kiln-to-linalg: the
    // kernel reads them through to_buffer like any operand.
    Value x2Buffer = buffer(x2);
    Value tokens = s.dynamic() ? memref::DimOp::create(b, loc, x2Buffer, 0).getResult()
                               : arith::ConstantIndexOp::create(b, loc, s.tokens).getResult();
    int64_t pairs = s.dynamic() ? ShapedType::kDynamic : s.tokens * s.topK;
    SmallVector<Value> pairSizes;
    if (s.dynamic())
      pairSizes.push_back(arith::MulIOp::create(
          b, loc, tokens, arith::ConstantIndexOp::create(b, loc, s.topK)));
    Value slots = memref::AllocOp::create(b, loc, MemRefType::get({pairs, s.hidden}, f32),
                                          pairSizes, b.getI64IntegerAttr(64));
    ExpertEmitter(b, loc, t, s, tokens)
        .emit(x2Buffer, buffer(idx), buffer(weights), buffer(op.getGateWeight()),
              buffer(op.getUpWeight()), buffer(op.getDownWeight()), slots, op.getActivation());
    Value slotsTensor = kiln::cpu::resultTensor(
        b, loc, RankedTensorType::get({pairs, s.hidden}, f32), slots);
    Value perSlot = ReshapeOp::create(
        b, loc, RankedTensorType::get({s.tokens, s.topK, s.hidden}, f32), slotsTensor, Value(),
        false);
    Value out = ReduceOp::create(b, loc, ReduceKind::sum, perSlot, ArrayRef<int64_t>{1}, Value(),
                                 false);
    if (op.getSharedGate()) {
      // Dense over all tokens: a kiln.gated_mlp (lowered like any other).
      Value shared = GatedMlpOp::create(b, loc, x2, op.getSharedGate(), op.getSharedUp(),
                                        op.getSharedDown(), op.getActivation());
      if (Value g = op.getSharedExpertGate())
        shared = BinaryOp::create(
            b, loc, BinaryKind::mul, shared,
            UnaryOp::create(b, loc, UnaryKind::sigmoid, MatmulOp::create(b, loc, x2, g)));
      out = BinaryOp::create(b, loc, BinaryKind::add, out, shared);
    }
    // Back to the tokens' shape (taken from the input when it has more
    // than one dynamic dim).
    Value outShape = xt.getNumDynamicDims() > 1
                         ? ShapeOp::create(b, loc, op.getHidden()).getResult()
                         : Value();
    out = ReshapeOp::create(b, loc, xt, out, outShape, false);
    op.getResult().replaceAllUsesWith(out);
    op->erase();
    return success();
  }
};

} // namespace

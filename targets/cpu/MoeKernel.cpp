//===- MoeKernel.cpp - routed mixture-of-experts kernel for the CPU -------===//
//
// The CPU target's kernel for `kiln.moe` (see Passes.td): routing stays in
// kiln ops (router matmul, softmax/sigmoid, group-limited selection, TopK,
// weights), lowered like any other; the experts run only on the tokens
// routed to them. A sequential pass builds per-expert token lists, then a
// grid over (expert, block of its tokens) gathers each block's rows, runs
// the gated MLP with the matmul emitter, and writes routing weight x output
// to the token's slot row. Slots are summed per token afterwards (every
// (token, slot) pair belongs to one expert, so no two workgroups write the
// same row). Work and weight traffic are those of the chosen experts:
// proportional to top_k / E, not E.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/MatmulEmitter.h"
#include "targets/cpu/Passes.h"

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

/// Static facts of one MoE layer.
struct MoeShape {
  int64_t tokens, hidden, inter, experts, topK;
  int64_t block; // token rows per workgroup
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

/// act(x · gate) * (x · up) · down over all tokens (shared experts), in
/// kiln ops.
Value denseMlp(OpBuilder &b, Location loc, Value x2, Value gate, Value up, Value down,
               Activation act) {
  Value g = MatmulOp::create(b, loc, x2, gate);
  Value a;
  switch (act) {
  case Activation::silu:
    a = UnaryOp::create(b, loc, UnaryKind::silu, g);
    break;
  case Activation::gelu:
    a = UnaryOp::create(b, loc, UnaryKind::gelu, g);
    break;
  case Activation::gelu_tanh:
    a = UnaryOp::create(b, loc, UnaryKind::gelu_tanh, g);
    break;
  case Activation::relu:
    a = UnaryOp::create(b, loc, UnaryKind::relu, g);
    break;
  }
  Value h = BinaryOp::create(b, loc, BinaryKind::mul, a, MatmulOp::create(b, loc, x2, up));
  return MatmulOp::create(b, loc, h, down);
}

/// The expert loops on buffers: token lists, then the (expert, block) grid.
class ExpertEmitter {
public:
  ExpertEmitter(OpBuilder &b, Location loc, const Tiling &t, const MoeShape &s, bool packWeights)
      : b(b), loc(loc), t(t), s(s), f32(b.getF32Type()), packWeights(packWeights) {}

  /// slots[t * k + j, :] = weight[t, j] * expert(idx[t, j])(x[t, :]).
  void emit(Value x, Value idx, Value weight, Value gate, Value up, Value down, Value slots,
            Activation act) {
    int64_t pairs = s.tokens * s.topK;
    // Token lists, shared by the grid's workgroups: intermediates, not
    // per-thread scratch.
    auto alloc = [&](ArrayRef<int64_t> shape, Type elt) -> Value {
      return memref::AllocOp::create(b, loc, MemRefType::get(shape, elt), b.getI64IntegerAttr(64));
    };
    // (i64 rather than index: arena slots hold integers and floats.)
    Value count = alloc({s.experts}, b.getI64Type());
    Value start = alloc({s.experts + 1}, b.getI64Type());
    Value list = alloc({pairs}, b.getI64Type());
    buildLists(idx, count, start, list, pairs);

    // Per-thread tiles.
    Value rows = scratch({s.block, s.hidden});
    Value h1 = scratch({s.block, s.inter});
    Value h2 = scratch({s.block, s.inter});
    Value out = scratch({s.block, s.hidden});
    MatmulEmitter::Scratch upScratch =
        MatmulEmitter::makeScratch(b, loc, t, s.block, s.hidden, s.inter, false);
    MatmulEmitter::Scratch downScratch =
        MatmulEmitter::makeScratch(b, loc, t, s.block, s.inter, s.hidden, false);

    int64_t blocks = (s.tokens + s.block - 1) / s.block;
    auto grid = scf::ParallelOp::create(b, loc, ValueRange{idx0(0)},
                                        ValueRange{idx0(s.experts * blocks)},
                                        ValueRange{idx0(1)});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(grid.getBody());
    Value wg = grid.getInductionVars()[0];
    Value e = arith::DivUIOp::create(b, loc, wg, idx0(blocks));
    Value first = arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, wg, idx0(blocks)),
                                        idx0(s.block));
    Value n = load(count, e);
    Value busy = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, first, n);
    scf::IfOp::create(b, loc, busy, [&](OpBuilder &, Location) {
      Value base = arith::AddIOp::create(
          b, loc, load(start, e), first);
      Value here = arith::MinSIOp::create(b, loc, idx0(s.block),
                                          arith::SubIOp::create(b, loc, n, first));
      gatherRows(x, list, base, here, rows);
      fill(h1);
      fill(h2);
      fill(out);
      auto product = [&](Value a, Value w, Value c, const MatmulEmitter::Scratch &sc) {
        MatmulEmitter mm(b, loc, t);
        mm.setActiveRows(here);
        mm.setPackB(packWeights);
        mm.emit(a, w, c, sc, /*parallel=*/false);
      };
      product(rows, expertWeight(gate, e, s.hidden, s.inter), h1, upScratch);
      product(rows, expertWeight(up, e, s.hidden, s.inter), h2, upScratch);
      activate(h1, h2, act);
      product(h1, expertWeight(down, e, s.inter, s.hidden), out, downScratch);
      scatterRows(out, list, weight, base, here, slots);
      scf::YieldOp::create(b, loc);
    });
  }

private:
  OpBuilder &b;
  Location loc;
  Tiling t;
  MoeShape s;
  Type f32;
  bool packWeights;

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
  Value scratch(ArrayRef<int64_t> shape) {
    return memref::AllocaOp::create(b, loc, MemRefType::get(shape, f32), b.getI64IntegerAttr(64));
  }
  void fill(Value buffer) {
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{buffer});
  }
  int64_t lanesFor(int64_t n) const { return n % t.vw == 0 ? t.vw : 1; }
  VectorType vec(int64_t lanes) { return VectorType::get({lanes}, f32); }
  void forRange(Value lb, Value ub, int64_t step, function_ref<void(Value)> body) {
    scf::ForOp::create(b, loc, lb, ub, idx0(step), ValueRange{},
                       [&](OpBuilder &, Location, Value i, ValueRange) {
                         body(i);
                         scf::YieldOp::create(b, loc);
                       });
  }

  /// count[e] = pairs routed to e; start = exclusive prefix sum; list holds
  /// the pairs (t * k + j) grouped by expert, in token order.
  void buildLists(Value idx, Value count, Value start, Value list, int64_t pairs) {
    Value zero = idx0(0), one = idx0(1);
    // One workgroup: a plain loop nest at the top level.
    auto once = scf::ParallelOp::create(b, loc, ValueRange{zero}, ValueRange{one},
                                        ValueRange{one});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(once.getBody());
    forRange(zero, idx0(s.experts), 1, [&](Value e) {
      store(zero, count, e);
    });
    auto expertOf = [&](Value p) -> Value {
      Value tok = arith::DivUIOp::create(b, loc, p, idx0(s.topK));
      Value j = arith::RemUIOp::create(b, loc, p, idx0(s.topK));
      Value id = memref::LoadOp::create(b, loc, idx, ValueRange{tok, j});
      // Out-of-range expert ids (never produced by TopK) are clamped so a
      // bad index cannot write outside the lists.
      Value e = arith::IndexCastOp::create(b, loc, b.getIndexType(), id);
      return arith::MinUIOp::create(b, loc, e, idx0(s.experts - 1));
    };
    forRange(zero, idx0(pairs), 1, [&](Value p) {
      Value e = expertOf(p);
      Value c = load(count, e);
      store(arith::AddIOp::create(b, loc, c, one), count, e);
    });
    store(zero, start, zero);
    forRange(zero, idx0(s.experts), 1, [&](Value e) {
      Value next = arith::AddIOp::create(
          b, loc, load(start, e),
          load(count, e));
      store(next, start, arith::AddIOp::create(b, loc, e, one));
      store(zero, count, e);
    });
    // Second pass: place each pair, counting again.
    forRange(zero, idx0(pairs), 1, [&](Value p) {
      Value e = expertOf(p);
      Value c = load(count, e);
      Value at = arith::AddIOp::create(b, loc,
                                       load(start, e), c);
      store(p, list, at);
      store(arith::AddIOp::create(b, loc, c, one), count, e);
    });
  }

  /// rows[r, :] = x[token of list[base + r], :], rows past `here` repeat
  /// the last one (their results are never written).
  void gatherRows(Value x, Value list, Value base, Value here, Value rows) {
    int64_t lanes = lanesFor(s.hidden);
    forRange(idx0(0), idx0(s.block), 1, [&](Value r) {
      Value rr = arith::MinSIOp::create(b, loc, r, arith::SubIOp::create(b, loc, here, idx0(1)));
      Value p = load(list, arith::AddIOp::create(b, loc, base, rr));
      Value tok = arith::DivUIOp::create(b, loc, p, idx0(s.topK));
      forRange(idx0(0), idx0(s.hidden), lanes, [&](Value c) {
        Value v = vector::LoadOp::create(b, loc, vec(lanes), x, ValueRange{tok, c});
        vector::StoreOp::create(b, loc, v, rows, ValueRange{r, c});
      });
    });
  }

  /// Expert e's [rows, cols] matrix of a stacked [E, rows, cols] weight.
  Value expertWeight(Value w, Value e, int64_t rows, int64_t cols) {
    auto type = cast<MemRefType>(w.getType());
    SmallVector<OpFoldResult> offsets{e, b.getIndexAttr(0), b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(rows), b.getIndexAttr(cols)};
    SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
    auto reduced = memref::SubViewOp::inferRankReducedResultType({rows, cols}, type, offsets,
                                                                 sizes, strides);
    return memref::SubViewOp::create(b, loc, cast<MemRefType>(reduced), w, offsets, sizes,
                                     strides);
  }

  /// h1 = act(h1) * h2.
  void activate(Value h1, Value h2, Activation act) {
    int64_t lanes = lanesFor(s.inter);
    Value one = vector::BroadcastOp::create(
        b, loc, vec(lanes), arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1.0f)));
    forRange(idx0(0), idx0(s.block), 1, [&](Value r) {
      forRange(idx0(0), idx0(s.inter), lanes, [&](Value c) {
        Value g = vector::LoadOp::create(b, loc, vec(lanes), h1, ValueRange{r, c});
        Value u = vector::LoadOp::create(b, loc, vec(lanes), h2, ValueRange{r, c});
        Value a;
        switch (act) {
        case Activation::silu: { // g / (1 + exp(-g))
          Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, g));
          a = arith::DivFOp::create(b, loc, g, arith::AddFOp::create(b, loc, one, e));
          break;
        }
        case Activation::relu:
          a = arith::MaximumFOp::create(
              b, loc, g,
              vector::BroadcastOp::create(
                  b, loc, vec(lanes), arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f))));
          break;
        case Activation::gelu: { // g * (1 + erf(g / sqrt 2)) / 2
          Value half = vector::BroadcastOp::create(
              b, loc, vec(lanes), arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.5f)));
          Value inv = vector::BroadcastOp::create(
              b, loc, vec(lanes),
              arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.70710678118654752f)));
          Value erf = math::ErfOp::create(b, loc, arith::MulFOp::create(b, loc, g, inv));
          a = arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, g, half),
                                    arith::AddFOp::create(b, loc, one, erf));
          break;
        }
        case Activation::gelu_tanh: { // g/2 * (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3)))
          auto c = [&](float v) {
            return vector::BroadcastOp::create(
                b, loc, vec(lanes), arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v)));
          };
          Value g3 = arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, g, g), g);
          Value inner = arith::MulFOp::create(
              b, loc, c(0.7978845608f),
              arith::AddFOp::create(b, loc, g, arith::MulFOp::create(b, loc, c(0.044715f), g3)));
          Value th = math::TanhOp::create(b, loc, inner);
          a = arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, g, c(0.5f)),
                                    arith::AddFOp::create(b, loc, one, th));
          break;
        }
        }
        vector::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, a, u), h1,
                                ValueRange{r, c});
      });
    });
  }

  /// slots[list[base + r], :] = weight[pair] * out[r, :] for the real rows.
  void scatterRows(Value out, Value list, Value weight, Value base, Value here, Value slots) {
    int64_t lanes = lanesFor(s.hidden);
    forRange(idx0(0), here, 1, [&](Value r) {
      Value p = load(list, arith::AddIOp::create(b, loc, base, r));
      Value tok = arith::DivUIOp::create(b, loc, p, idx0(s.topK));
      Value j = arith::RemUIOp::create(b, loc, p, idx0(s.topK));
      Value w = vector::BroadcastOp::create(
          b, loc, vec(lanes), memref::LoadOp::create(b, loc, weight, ValueRange{tok, j}));
      forRange(idx0(0), idx0(s.hidden), lanes, [&](Value c) {
        Value v = vector::LoadOp::create(b, loc, vec(lanes), out, ValueRange{r, c});
        vector::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, v, w), slots,
                                ValueRange{p, c});
      });
    });
  }
};

struct MoePass : kiln::impl::KilnCpuMoeBase<MoePass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<Tiling> tiling = Tiling::forRegisters(vectorBits, registers, 256, 256);
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
    auto allStaticF32 = llvm::all_of(op->getOperands(), [](Value v) {
      auto type = cast<RankedTensorType>(v.getType());
      return type.hasStaticShape() && type.getElementType().isF32();
    });
    if (!allStaticF32)
      return op.emitError("kiln.moe on the CPU needs static f32 operands (got ")
             << xt << ")";
    MoeShape s;
    s.hidden = xt.getShape().back();
    s.tokens = xt.getNumElements() / std::max<int64_t>(s.hidden, 1);
    s.inter = gt.getDimSize(2);
    s.experts = gt.getDimSize(0);
    s.topK = op.getTopK();
    // Rows per block: a multiple of the micro-tile height, at most the
    // token count (a decode step runs one row and reads B in place), and
    // small enough that the per-thread tiles stay around 1 MiB.
    int64_t fit = (1 << 20) / (4 * (2 * s.hidden + 2 * s.inter));
    int64_t block = std::clamp<int64_t>(blockRows, 1, std::max<int64_t>(fit, t.mr));
    block = std::max<int64_t>(t.mr, block - block % t.mr);
    s.block = std::min(block, s.tokens);

    OpBuilder b(op);
    Location loc = op.getLoc();
    Type f32 = b.getF32Type();
    auto x2Type = RankedTensorType::get({s.tokens, s.hidden}, f32);
    Value x2 = ReshapeOp::create(b, loc, x2Type, op.getHidden(), Value(), false);
    auto [idx, weights] = route(b, loc, op, x2, s);

    auto buffer = [&](Value tensor) -> Value {
      auto type = cast<RankedTensorType>(tensor.getType());
      auto toBuffer = bufferization::ToBufferOp::create(
          b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor);
      toBuffer.setReadOnly(true);
      return toBuffer;
    };
    // The routing results are kiln tensors until kiln-to-linalg: the
    // kernel reads them through to_buffer like any operand.
    Value slots = memref::AllocOp::create(
        b, loc, MemRefType::get({s.tokens * s.topK, s.hidden}, f32), b.getI64IntegerAttr(64));
    ExpertEmitter(b, loc, t, s, packWeights)
        .emit(buffer(x2), buffer(idx), buffer(weights), buffer(op.getGateWeight()),
              buffer(op.getUpWeight()), buffer(op.getDownWeight()), slots, op.getActivation());
    auto slotsTensor = bufferization::ToTensorOp::create(
        b, loc, RankedTensorType::get({s.tokens * s.topK, s.hidden}, f32), slots);
    slotsTensor.setRestrict(true);
    slotsTensor.setWritable(true);
    Value perSlot = ReshapeOp::create(
        b, loc, RankedTensorType::get({s.tokens, s.topK, s.hidden}, f32), slotsTensor, Value(),
        false);
    Value out = ReduceOp::create(b, loc, ReduceKind::sum, perSlot, ArrayRef<int64_t>{1}, Value(),
                                 false);
    if (op.getSharedGate()) {
      Value shared = denseMlp(b, loc, x2, op.getSharedGate(), op.getSharedUp(),
                              op.getSharedDown(), op.getActivation());
      if (Value g = op.getSharedExpertGate())
        shared = BinaryOp::create(
            b, loc, BinaryKind::mul, shared,
            UnaryOp::create(b, loc, UnaryKind::sigmoid, MatmulOp::create(b, loc, x2, g)));
      out = BinaryOp::create(b, loc, BinaryKind::add, out, shared);
    }
    out = ReshapeOp::create(b, loc, xt, out, Value(), false);
    op.getResult().replaceAllUsesWith(out);
    op->erase();
    return success();
  }
};

} // namespace

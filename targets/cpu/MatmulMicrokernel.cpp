//===- MatmulMicrokernel.cpp - packed register-blocked f32 matmul ---------===//
//
// The CPU target's matmul strategy (see Passes.td for the loop nest). The
// shape of the kernel follows BLIS: a B panel packed once per K block and
// reused by every row block, an A micro-panel packed once and reused by
// every column tile, and an MR x NR accumulator tile that lives in vector
// registers for a whole K block. Everything is emitted as scf/vector/memref
// ops, so the LLVM backend only allocates registers and schedules.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace kiln {
#define GEN_PASS_DEF_KILNCPUMATMULMICROKERNEL
#include "targets/cpu/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// Tile sizes chosen from the target's registers and caches.
struct Tiling {
  int64_t vw; // f32 lanes per vector
  int64_t nr; // columns per micro-tile (a multiple of vw)
  int64_t mr; // rows per micro-tile
  int64_t kc; // K block
  int64_t nc; // columns per panel (workgroup), a multiple of nr
};

/// Emits C += A x B for 2-D memrefs A [M,K], B [K,N], C [M,N] (static, f32,
/// unit inner stride) at the builder's insertion point.
class MatmulEmitter {
public:
  /// `bTransposed`: B is given as [N, K] (what `x @ W.T` exports as).
  MatmulEmitter(OpBuilder &b, Location loc, Tiling t, bool bTransposed = false)
      : b(b), loc(loc), t(t), bTransposed(bTransposed) {}

  /// Packing buffers, created once before the loops (stack memory of the
  /// thread that runs them: a dispatch re-creates them on entry).
  struct Scratch {
    Value aPacked, bPacked;
  };
  /// Sized for an M x K x N product; B's buffer only when it is packed.
  static Scratch makeScratch(OpBuilder &b, Location loc, const Tiling &t, int64_t m,
                             int64_t k, int64_t n, bool bTransposed) {
    auto f32 = b.getF32Type();
    auto make = [&](int64_t size) -> Value {
      return memref::AllocaOp::create(b, loc, MemRefType::get({size}, f32),
                                      b.getI64IntegerAttr(64));
    };
    int64_t mr = std::min(t.mr, m), nMain = n - n % t.nr;
    if (nMain == 0)
      return {};
    int64_t kc = std::min(t.kc, k);
    Scratch s;
    if (mr > 1)
      s.aPacked = make(kc * mr);
    if (packsB(m, mr) || bTransposed)
      s.bPacked = make(kc * panelWidth(t, nMain));
    return s;
  }

  /// With a single row block nothing reuses a packed B: read it in place.
  static bool packsB(int64_t m, int64_t mr) {
    int64_t blocks = m / mr;
    return blocks > 1 || (blocks == 1 && m % mr != 0);
  }
  static int64_t panelWidth(const Tiling &t, int64_t n) {
    return std::max(t.nr, std::min(t.nc - t.nc % t.nr, n));
  }

  /// `parallel`: the column panels are an scf.parallel (a workgroup grid);
  /// otherwise a loop (an enclosing loop is the grid).
  void emit(Value a, Value bm, Value c, const Scratch &scratch, bool parallel = true) {
    auto shapeA = cast<MemRefType>(a.getType()).getShape();
    auto shapeC = cast<MemRefType>(c.getType()).getShape();
    int64_t m = shapeC[0], n = shapeC[1], k = shapeA[1];
    int64_t mr = std::min(t.mr, m);
    int64_t nMain = n - n % t.nr;
    if (nMain > 0)
      emitPanels(a, bm, c, m, nMain, k, mr, scratch, parallel);
    if (nMain < n) { // leftover columns: the generic loops
      Value bTail = bTransposed ? subview(bm, {nMain, 0}, {n - nMain, k})
                                : subview(bm, {0, nMain}, {k, n - nMain});
      Value cTail = subview(c, {0, nMain}, {m, n - nMain});
      emitLoops(a, bTail, cTail);
    }
  }

  /// C += A x B (or A x B^T) as a plain linalg.generic, for the leftovers.
  void emitLoops(Value a, Value bm, Value c) {
    MLIRContext *ctx = b.getContext();
    AffineExpr m, n, k;
    bindDims(ctx, m, n, k);
    SmallVector<AffineMap> maps = {
        AffineMap::get(3, 0, {m, k}, ctx),
        AffineMap::get(3, 0, bTransposed ? ArrayRef<AffineExpr>{n, k} : ArrayRef<AffineExpr>{k, n},
                       ctx),
        AffineMap::get(3, 0, {m, n}, ctx)};
    SmallVector<utils::IteratorType> iters = {utils::IteratorType::parallel,
                                              utils::IteratorType::parallel,
                                              utils::IteratorType::reduction};
    linalg::GenericOp::create(b, loc, ValueRange{a, bm}, ValueRange{c}, maps, iters,
                              [](OpBuilder &nb, Location l, ValueRange args) {
                                Value p = arith::MulFOp::create(nb, l, args[0], args[1]);
                                linalg::YieldOp::create(
                                    nb, l, ValueRange{arith::AddFOp::create(nb, l, args[2], p)});
                              });
  }

private:
  OpBuilder &b;
  Location loc;
  Tiling t;
  bool bTransposed;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t y) { return arith::MulIOp::create(b, loc, x, idx(y)); }
  Value min(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }

  Value subview(Value v, ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes) {
    SmallVector<int64_t> strides(offsets.size(), 1);
    return memref::SubViewOp::create(b, loc, v, offsets, sizes, strides);
  }

  void emitPanels(Value a, Value bm, Value c, int64_t m, int64_t n, int64_t k, int64_t mr,
                  const Scratch &scratch, bool parallel) {
    int64_t nc = panelWidth(t, n);
    int64_t kc = std::min(t.kc, k);
    int64_t panels = (n + nc - 1) / nc;
    int64_t mMain = m - m % mr;
    bool packB = packsB(m, mr) || bTransposed;
    OpBuilder::InsertionGuard guard(b);
    Value panel;
    if (parallel) {
      auto par = scf::ParallelOp::create(b, loc, ValueRange{idx(0)}, ValueRange{idx(panels)},
                                         ValueRange{idx(1)});
      b.setInsertionPointToStart(par.getBody());
      panel = par.getInductionVars()[0];
    } else {
      auto loop = scf::ForOp::create(b, loc, idx(0), idx(panels), idx(1));
      b.setInsertionPointToStart(loop.getBody());
      panel = loop.getInductionVar();
    }
    Value jc = mul(panel, nc);
    Value ncHere = min(idx(nc), arith::SubIOp::create(b, loc, idx(n), jc));
    Value bPacked = packB ? scratch.bPacked : Value();
    Value aPacked = scratch.aPacked;
    scf::ForOp::create(
        b, loc, idx(0), idx(k), idx(kc), ValueRange{},
        [&](OpBuilder &, Location, Value pc, ValueRange) {
          Value kcHere = min(idx(kc), arith::SubIOp::create(b, loc, idx(k), pc));
          if (packB)
            emitPackB(bm, bPacked, pc, kcHere, jc, ncHere, kc);
          Operands ops{a, bm, c, bPacked, aPacked, pc, kcHere, jc, ncHere, kc};
          if (mMain > 0)
            scf::ForOp::create(b, loc, idx(0), idx(mMain), idx(mr), ValueRange{},
                               [&](OpBuilder &, Location, Value i0, ValueRange) {
                                 emitRowBlock(ops, i0, mr);
                                 scf::YieldOp::create(b, loc);
                               });
          if (m > mMain)
            emitRowBlock(ops, idx(mMain), m - mMain);
          scf::YieldOp::create(b, loc);
        });
  }

  /// B[pc + k, jc + jr + 0..nr) -> bPacked[jr * kc + k * nr + 0..nr).
  /// A transposed B is read one element at a time (its columns are rows).
  void emitPackB(Value bm, Value bPacked, Value pc, Value kcHere, Value jc, Value ncHere,
                 int64_t kc) {
    auto vecType = VectorType::get({t.vw}, b.getF32Type());
    scf::ForOp::create(
        b, loc, idx(0), ncHere, idx(t.nr), ValueRange{},
        [&](OpBuilder &, Location, Value jr, ValueRange) {
          scf::ForOp::create(
              b, loc, idx(0), kcHere, idx(1), ValueRange{},
              [&](OpBuilder &, Location, Value kk, ValueRange) {
                Value row = add(pc, kk), col = add(jc, jr);
                Value dst = add(mul(jr, kc), mul(kk, t.nr));
                if (bTransposed) {
                  for (int64_t j = 0; j < t.nr; ++j) {
                    Value x = memref::LoadOp::create(b, loc, bm, ValueRange{add(col, idx(j)), row});
                    memref::StoreOp::create(b, loc, x, bPacked, ValueRange{add(dst, idx(j))});
                  }
                } else {
                  for (int64_t v = 0; v < t.nr / t.vw; ++v) {
                    Value x = vector::LoadOp::create(
                        b, loc, vecType, bm, ValueRange{row, add(col, idx(v * t.vw))});
                    vector::StoreOp::create(b, loc, x, bPacked,
                                            ValueRange{add(dst, idx(v * t.vw))});
                  }
                }
                scf::YieldOp::create(b, loc);
              });
          scf::YieldOp::create(b, loc);
        });
  }

  struct Operands {
    Value a, bm, c, bPacked, aPacked, pc, kcHere, jc, ncHere;
    int64_t kc;
  };

  /// Rows [i0, i0 + mr) against every column tile of the panel.
  void emitRowBlock(const Operands &o, Value i0, int64_t mr) {
    // A[i0 + i, pc + k] -> aPacked[k * mr + i]: the kernel's broadcasts then
    // read consecutive floats instead of mr rows K floats apart.
    bool packA = mr > 1 && o.aPacked;
    if (packA)
      scf::ForOp::create(b, loc, idx(0), o.kcHere, idx(1), ValueRange{},
                         [&](OpBuilder &, Location, Value kk, ValueRange) {
                           for (int64_t i = 0; i < mr; ++i) {
                             Value x = memref::LoadOp::create(
                                 b, loc, o.a, ValueRange{add(i0, idx(i)), add(o.pc, kk)});
                             memref::StoreOp::create(b, loc, x, o.aPacked,
                                                     ValueRange{add(mul(kk, mr), idx(i))});
                           }
                           scf::YieldOp::create(b, loc);
                         });
    scf::ForOp::create(b, loc, idx(0), o.ncHere, idx(t.nr), ValueRange{},
                       [&](OpBuilder &, Location, Value jr, ValueRange) {
                         emitMicroTile(o, i0, jr, mr, packA);
                         scf::YieldOp::create(b, loc);
                       });
  }

  /// C[i0 + 0..mr, jc + jr + 0..nr) += A-panel x B-panel over the K block.
  void emitMicroTile(const Operands &o, Value i0, Value jr, int64_t mr, bool packA) {
    auto vecType = VectorType::get({t.vw}, b.getF32Type());
    int64_t nv = t.nr / t.vw;
    Value col = add(o.jc, jr);
    SmallVector<Value> acc;
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t v = 0; v < nv; ++v)
        acc.push_back(vector::LoadOp::create(
            b, loc, vecType, o.c, ValueRange{add(i0, idx(i)), add(col, idx(v * t.vw))}));
    Value bBase = o.bPacked ? mul(jr, o.kc) : Value();
    auto loop = scf::ForOp::create(
        b, loc, idx(0), o.kcHere, idx(1), acc,
        [&](OpBuilder &, Location, Value kk, ValueRange carried) {
          SmallVector<Value> bv;
          for (int64_t v = 0; v < nv; ++v)
            bv.push_back(
                o.bPacked
                    ? vector::LoadOp::create(b, loc, vecType, o.bPacked,
                                             ValueRange{add(add(bBase, mul(kk, t.nr)),
                                                            idx(v * t.vw))})
                          .getResult()
                    : vector::LoadOp::create(b, loc, vecType, o.bm,
                                             ValueRange{add(o.pc, kk), add(col, idx(v * t.vw))})
                          .getResult());
          SmallVector<Value> next;
          for (int64_t i = 0; i < mr; ++i) {
            Value x = packA ? memref::LoadOp::create(b, loc, o.aPacked,
                                                     ValueRange{add(mul(kk, mr), idx(i))})
                                  .getResult()
                            : memref::LoadOp::create(b, loc, o.a,
                                                     ValueRange{add(i0, idx(i)), add(o.pc, kk)})
                                  .getResult();
            Value splat = vector::BroadcastOp::create(b, loc, vecType, x);
            for (int64_t v = 0; v < nv; ++v)
              next.push_back(
                  vector::FMAOp::create(b, loc, splat, bv[v], carried[i * nv + v]));
          }
          scf::YieldOp::create(b, loc, next);
        });
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t v = 0; v < nv; ++v)
        vector::StoreOp::create(b, loc, loop.getResult(i * nv + v), o.c,
                                ValueRange{add(i0, idx(i)), add(col, idx(v * t.vw))});
  }
};

/// A memref the kernel can address with vector loads along its last dim.
bool isKernelOperand(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  return succeeded(type.getStridesAndOffset(strides, offset)) && strides.back() == 1;
}

struct MatmulMicrokernelPass
    : kiln::impl::KilnCpuMatmulMicrokernelBase<MatmulMicrokernelPass> {
  using Base::Base;

  void runOnOperation() override {
    int64_t vw = vectorBits / 32;
    if (vw < 4 || registers < 8) {
      getOperation().emitError("kiln-cpu-matmul-microkernel needs vectors of at least 128 "
                               "bits and 8 registers");
      return signalPassFailure();
    }
    Tiling t;
    t.vw = vw;
    t.nr = 2 * vw;
    // 2 * mr accumulators + 2 B vectors + 1 broadcast must fit.
    t.mr = std::clamp<int64_t>((registers - 3) / 2, 1, 8);
    t.kc = kBlock;
    t.nc = std::max<int64_t>(panelCols, t.nr);

    SmallVector<linalg::LinalgOp> work;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics() && op.getNumDpsInputs() == 2 &&
          op.getNumDpsInits() == 1 && llvm::all_of(op->getOperands(), isKernelOperand) &&
          linalg::isaContractionOpInterface(op))
        work.push_back(op);
    });
    for (linalg::LinalgOp op : work)
      if (std::optional<MatmulForm> form = matchMatmul(op))
        rewrite(op, *form, t);
  }

  /// A contraction the kernel runs: C[batch.., m.., n] += A[batch.., m.., k]
  /// * B[batch.., k, n] (or B[batch.., n, k]), with the m dims collapsible
  /// into one row index.
  struct MatmulForm {
    SmallVector<ReassociationIndices> aGroups, bGroups, cGroups;
    bool batched = false, bTransposed = false;
  };

  static std::optional<MatmulForm> matchMatmul(linalg::LinalgOp op) {
    FailureOr<linalg::ContractionDimensions> dims = linalg::inferContractionDims(op);
    if (failed(dims) || dims->k.size() != 1 || dims->n.size() != 1 || dims->m.empty())
      return std::nullopt;
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    auto positions = [](AffineMap map) {
      SmallVector<unsigned> p;
      for (AffineExpr e : map.getResults()) {
        auto d = dyn_cast<AffineDimExpr>(e);
        if (!d)
          return SmallVector<unsigned>{};
        p.push_back(d.getPosition());
      }
      return p;
    };
    auto concat = [](std::initializer_list<ArrayRef<unsigned>> parts) {
      SmallVector<unsigned> r;
      for (ArrayRef<unsigned> p : parts)
        r.append(p.begin(), p.end());
      return r;
    };
    unsigned k = dims->k[0], n = dims->n[0];
    MatmulForm form;
    if (positions(maps[0]) != concat({dims->batch, dims->m, {k}}) ||
        positions(maps[2]) != concat({dims->batch, dims->m, {n}}))
      return std::nullopt;
    SmallVector<unsigned> bPos = positions(maps[1]);
    if (bPos == concat({dims->batch, {k, n}}))
      form.bTransposed = false;
    else if (bPos == concat({dims->batch, {n, k}}))
      form.bTransposed = true;
    else
      return std::nullopt;
    // Groups: [batch dims] (if any), [m dims], [last].
    int64_t nb = dims->batch.size(), nm = dims->m.size();
    form.batched = nb > 0;
    auto range = [](int64_t from, int64_t count) {
      ReassociationIndices g;
      for (int64_t i = 0; i < count; ++i)
        g.push_back(from + i);
      return g;
    };
    if (form.batched) {
      form.aGroups = {range(0, nb), range(nb, nm), {nb + nm}};
      form.cGroups = form.aGroups;
      form.bGroups = {range(0, nb), {nb}, {nb + 1}};
    } else {
      form.aGroups = {range(0, nm), {nm}};
      form.cGroups = form.aGroups;
      form.bGroups = {{0}, {1}};
    }
    auto collapsible = [](Value v, ArrayRef<ReassociationIndices> groups) {
      return memref::CollapseShapeOp::isGuaranteedCollapsible(cast<MemRefType>(v.getType()),
                                                              groups);
    };
    if (!collapsible(op.getDpsInputs()[0], form.aGroups) ||
        !collapsible(op.getDpsInputs()[1], form.bGroups) ||
        !collapsible(op.getDpsInits()[0], form.cGroups))
      return std::nullopt;
    return form;
  }

  void rewrite(linalg::LinalgOp op, const MatmulForm &form, const Tiling &t) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto collapse = [&](Value v, ArrayRef<ReassociationIndices> groups) -> Value {
      if (groups.size() == (size_t)cast<MemRefType>(v.getType()).getRank())
        return v;
      return memref::CollapseShapeOp::create(b, loc, v, groups);
    };
    Value a = collapse(op.getDpsInputs()[0], form.aGroups);
    Value bm = collapse(op.getDpsInputs()[1], form.bGroups);
    Value c = collapse(op.getDpsInits()[0], form.cGroups);
    auto shapeC = cast<MemRefType>(c.getType()).getShape();
    int64_t k = cast<MemRefType>(a.getType()).getShape().back();
    MatmulEmitter::Scratch scratch = MatmulEmitter::makeScratch(
        b, loc, t, shapeC[shapeC.size() - 2], k, shapeC.back(), form.bTransposed);
    MatmulEmitter emitter(b, loc, t, form.bTransposed);
    if (!form.batched) {
      emitter.emit(a, bm, c, scratch);
    } else {
      // The batch is the grid; each entry is a 2-D product on rank-reducing
      // subviews with its panels in sequence.
      int64_t batch = cast<MemRefType>(c.getType()).getDimSize(0);
      auto slice = [&](Value v, Value i) -> Value {
        auto type = cast<MemRefType>(v.getType());
        SmallVector<OpFoldResult> offsets{i, b.getIndexAttr(0), b.getIndexAttr(0)};
        SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(type.getDimSize(1)),
                                        b.getIndexAttr(type.getDimSize(2))};
        SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
        auto reduced = memref::SubViewOp::inferRankReducedResultType(
            {type.getDimSize(1), type.getDimSize(2)}, type, offsets, sizes, strides);
        return memref::SubViewOp::create(b, loc, cast<MemRefType>(reduced), v, offsets,
                                         sizes, strides);
      };
      Value zero = arith::ConstantIndexOp::create(b, loc, 0);
      Value one = arith::ConstantIndexOp::create(b, loc, 1);
      Value n = arith::ConstantIndexOp::create(b, loc, batch);
      auto par = scf::ParallelOp::create(b, loc, ValueRange{zero}, ValueRange{n}, ValueRange{one});
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(par.getBody());
      Value i = par.getInductionVars()[0];
      emitter.emit(slice(a, i), slice(bm, i), slice(c, i), scratch, /*parallel=*/false);
    }
    op->erase();
  }
};

} // namespace

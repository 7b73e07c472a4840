//===- MatmulEmitter.cpp - packed register-blocked f32 matmul loops -------===//
//
// The shape of the kernel follows BLIS: a B panel packed once per K block and
// reused by every row block, an A micro-panel packed once and reused by
// every column tile, and an MR x NR accumulator tile that lives in vector
// registers for a whole K block. Everything is emitted as scf/vector/memref
// ops, so the LLVM backend only allocates registers and schedules.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/MatmulEmitter.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>

using namespace mlir;

namespace kiln::cpu {

std::optional<Tiling> Tiling::forRegisters(unsigned vectorBits, unsigned registers,
                                           int64_t kBlock, int64_t panelCols) {
  int64_t vw = vectorBits / 32;
  if (vw < 4 || registers < 8)
    return std::nullopt;
  Tiling t;
  t.vw = vw;
  t.nr = 2 * vw;
  // 2 * mr accumulators + 2 B vectors + 1 broadcast must fit.
  t.mr = std::clamp<int64_t>((registers - 3) / 2, 1, 8);
  t.kc = kBlock;
  t.nc = std::max<int64_t>(panelCols, t.nr);
  return t;
}

/// Sized for an M x K x N product; B's buffer only when it is packed.
MatmulEmitter::Scratch MatmulEmitter::makeScratch(OpBuilder &b, Location loc, const Tiling &t, int64_t m,
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
bool MatmulEmitter::packsB(int64_t m, int64_t mr) {
  int64_t blocks = m / mr;
  return blocks > 1 || (blocks == 1 && m % mr != 0);
}
int64_t MatmulEmitter::panelWidth(const Tiling &t, int64_t n) {
  return std::max(t.nr, std::min(t.nc - t.nc % t.nr, n));
}

/// Fewer column panels than kMinWorkgroups (a projection of 128 or 512
/// columns is one or two panels: one thread idle, or no slack to balance)
/// also split the rows, as long as each group keeps enough row blocks to
/// amortize packing its panel's B again.
int64_t MatmulEmitter::rowGroups(const Tiling &t, int64_t m, int64_t n) {
  constexpr int64_t kMinWorkgroups = 4, kMinBlocksPerGroup = 4;
  int64_t panels = (n + panelWidth(t, n) - 1) / panelWidth(t, n);
  int64_t blocks = m / std::min(t.mr, m);
  int64_t wanted = (kMinWorkgroups + panels - 1) / panels;
  return std::max<int64_t>(1, std::min(wanted, blocks / kMinBlocksPerGroup));
}

/// `parallel`: the column panels are an scf.parallel (a workgroup grid);
/// otherwise a loop (an enclosing loop is the grid).
void MatmulEmitter::emit(Value a, Value bm, Value c, const Scratch &scratch, bool parallel) {
  auto shapeA = cast<MemRefType>(a.getType()).getShape();
  auto shapeC = cast<MemRefType>(c.getType()).getShape();
  int64_t m = shapeC[0], n = shapeC[1], k = shapeA[1];
  int64_t mr = std::min(t.mr, m);
  int64_t nMain = n - n % t.nr;
  if (nMain > 0)
    emitPanels(a, bm, c, m, nMain, k, mr, scratch, parallel,
               parallel && !activeRows ? rowGroups(t, m, nMain) : 1);
  if (nMain < n) { // leftover columns: the generic loops
    int64_t bRows = cast<MemRefType>(bm.getType()).getDimSize(bTransposed ? 1 : 0);
    Value bTail = bTransposed ? subview(bm, {nMain, 0}, {n - nMain, k})
                              : subview(bm, {0, nMain}, {bRows, n - nMain});
    Value cTail = subview(c, {0, nMain}, {m, n - nMain});
    Value aRows = a;
    if (activeRows) {
      // Only the live rows: C's rows past them may belong to someone else.
      SmallVector<OpFoldResult> zero(2, b.getIndexAttr(0)), one(2, b.getIndexAttr(1));
      aRows = memref::SubViewOp::create(
          b, loc, a, zero, SmallVector<OpFoldResult>{activeRows, b.getIndexAttr(k)}, one);
      cTail = memref::SubViewOp::create(
          b, loc, cTail, zero, SmallVector<OpFoldResult>{activeRows, b.getIndexAttr(n - nMain)},
          one);
    }
    if (zeroInit)
      linalg::FillOp::create(b, loc, ValueRange{arith::ConstantOp::create(
                                         b, loc, b.getF32FloatAttr(0.0f))},
                             ValueRange{cTail});
    if (quant) {
      auto tail = [&](Value v) -> Value {
        if (!v)
          return v;
        return subview(v, {0, nMain}, {cast<MemRefType>(v.getType()).getDimSize(0), n - nMain});
      };
      emitQuantizedLoops(aRows, bTail, tail(quant->scales), tail(quant->zeros), cTail);
    } else {
      emitLoops(aRows, bTail, cTail);
    }
  }
}

/// C += A x dequantize(B) for the leftover columns: loads of the codes and
/// scales at computed indices inside one generic over (m, n, k).
void MatmulEmitter::emitQuantizedLoops(Value a, Value codes, Value scales, Value zeros, Value c) {
  MLIRContext *ctx = b.getContext();
  AffineExpr m, n, k;
  bindDims(ctx, m, n, k);
  SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {m, k}, ctx),
                                 AffineMap::get(3, 0, {m, n}, ctx)};
  SmallVector<utils::IteratorType> iters = {utils::IteratorType::parallel,
                                            utils::IteratorType::parallel,
                                            utils::IteratorType::reduction};
  int64_t bits = quant->bits, group = quant->groupSize;
  linalg::GenericOp::create(
      b, loc, ValueRange{a}, ValueRange{c}, maps, iters,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        auto at = [&](int64_t v) { return arith::ConstantIndexOp::create(nb, l, v); };
        Value col = linalg::IndexOp::create(nb, l, 1), row = linalg::IndexOp::create(nb, l, 2);
        Value byteRow = bits == 8 ? row : arith::DivUIOp::create(nb, l, row, at(2)).getResult();
        Value byte = memref::LoadOp::create(nb, l, codes, ValueRange{byteRow, col});
        Value g = arith::DivUIOp::create(nb, l, row, at(group));
        Value scale = memref::LoadOp::create(nb, l, scales, ValueRange{g, col});
        Value zero = zeros ? memref::LoadOp::create(nb, l, zeros, ValueRange{g, col}).getResult()
                           : arith::ConstantOp::create(
                                 nb, l, nb.getF32FloatAttr((float)(1 << (bits - 1))))
                                 .getResult();
        Value w = dequantize(nb, l, byte, row, scale, zero);
        Value x = args[0];
        if (!x.getType().isF32())
          x = arith::ExtFOp::create(nb, l, nb.getF32Type(), x);
        Value p = arith::MulFOp::create(nb, l, x, w);
        linalg::YieldOp::create(nb, l, ValueRange{arith::AddFOp::create(nb, l, args[1], p)});
      });
}

Value MatmulEmitter::dequantize(OpBuilder &nb, Location l, Value bytes, Value row, Value scale,
                                Value zero) {
  auto vt = dyn_cast<VectorType>(bytes.getType());
  auto like = [&](Type elt) -> Type { return vt ? VectorType::get(vt.getShape(), elt) : elt; };
  auto i32 = nb.getI32Type();
  auto splat = [&](Value scalar) -> Value {
    return vt ? vector::BroadcastOp::create(nb, l, like(scalar.getType()), scalar).getResult()
              : scalar;
  };
  Value code = arith::ExtUIOp::create(nb, l, like(i32), bytes);
  if (quant->bits == 4) {
    // Even rows in the low nibble, odd rows in the high one.
    Value odd = arith::AndIOp::create(nb, l, row, arith::ConstantIndexOp::create(nb, l, 1));
    Value shift = arith::ShLIOp::create(nb, l, arith::IndexCastOp::create(nb, l, i32, odd),
                                        arith::ConstantIntOp::create(nb, l, i32, 2));
    code = arith::AndIOp::create(nb, l, arith::ShRUIOp::create(nb, l, code, splat(shift)),
                                 splat(arith::ConstantIntOp::create(nb, l, i32, 15)));
  }
  Value x = arith::UIToFPOp::create(nb, l, like(nb.getF32Type()), code);
  return arith::MulFOp::create(nb, l, arith::SubFOp::create(nb, l, x, zero), scale);
}

Value MatmulEmitter::loadBVector(Value bm, Value row, Value col) {
  if (!quant)
    return loadVector(bm, ValueRange{row, col});
  Value byteRow = quant->bits == 8 ? row : arith::DivUIOp::create(b, loc, row, idx(2)).getResult();
  Value bytes = vector::LoadOp::create(b, loc, VectorType::get({t.vw}, b.getI8Type()), bm,
                                       ValueRange{byteRow, col});
  auto f32v = VectorType::get({t.vw}, b.getF32Type());
  Value g = arith::DivUIOp::create(b, loc, row, idx(quant->groupSize));
  Value scale = vector::LoadOp::create(b, loc, f32v, quant->scales, ValueRange{g, col});
  Value zero =
      quant->zeros
          ? vector::LoadOp::create(b, loc, f32v, quant->zeros, ValueRange{g, col}).getResult()
          : arith::ConstantOp::create(
                b, loc, f32v, DenseElementsAttr::get(f32v, (float)(1 << (quant->bits - 1))))
                .getResult();
  return dequantize(b, loc, bytes, row, scale, zero);
}

/// C += A x B (or A x B^T) as a plain linalg.generic, for the leftovers.
void MatmulEmitter::emitLoops(Value a, Value bm, Value c) {
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
                              auto widen = [&](Value v) -> Value {
                                return v.getType() == args[2].getType()
                                           ? v
                                           : arith::ExtFOp::create(nb, l, args[2].getType(), v);
                              };
                              Value p = arith::MulFOp::create(nb, l, widen(args[0]), widen(args[1]));
                              linalg::YieldOp::create(
                                  nb, l, ValueRange{arith::AddFOp::create(nb, l, args[2], p)});
                            });
}



void MatmulEmitter::emitPanels(Value a, Value bm, Value c, int64_t m, int64_t n, int64_t k, int64_t mr,
                const Scratch &scratch, bool parallel, int64_t groups) {
  int64_t nc = panelWidth(t, n);
  int64_t kc = std::min(t.kc, k);
  int64_t panels = (n + nc - 1) / nc;
  int64_t mMain = m - m % mr;
  bool packB = packsB(m, mr) || bTransposed;
  OpBuilder::InsertionGuard guard(b);
  Value panel, group;
  if (parallel) {
    // One workgroup per (row group, panel).
    auto par = scf::ParallelOp::create(b, loc, ValueRange{idx(0)},
                                       ValueRange{idx(panels * groups)}, ValueRange{idx(1)});
    b.setInsertionPointToStart(par.getBody());
    panel = par.getInductionVars()[0];
    if (groups > 1) {
      group = arith::DivUIOp::create(b, loc, panel, idx(panels));
      panel = arith::RemUIOp::create(b, loc, panel, idx(panels));
    }
  } else {
    auto loop = scf::ForOp::create(b, loc, idx(0), idx(panels), idx(1));
    b.setInsertionPointToStart(loop.getBody());
    panel = loop.getInductionVar();
  }
  // The micro-tile columns spread evenly over the panels (a short last
  // panel would leave one thread idle at the end).
  int64_t tiles = n / t.nr;
  auto panelStart = [&](Value p) {
    return mul(arith::DivUIOp::create(b, loc, mul(p, tiles), idx(panels)), t.nr);
  };
  Value jc = panelStart(panel);
  Value ncHere = arith::SubIOp::create(b, loc, panelStart(add(panel, idx(1))), jc);
  Value bPacked = packB ? scratch.bPacked : Value();
  Value aPacked = scratch.aPacked;
  scf::ForOp::create(
      b, loc, idx(0), idx(k), idx(kc), ValueRange{},
      [&](OpBuilder &, Location, Value pc, ValueRange) {
        Value kcHere = min(idx(kc), arith::SubIOp::create(b, loc, idx(k), pc));
        if (packB)
          emitPackB(bm, bPacked, pc, kcHere, jc, ncHere, kc);
        Operands ops{a, bm, c, bPacked, aPacked, pc, kcHere, jc, ncHere, kc};
        // With a dynamic row count only the micro-tiles holding live rows
        // run (the buffer's rows past it are padding).
        Value rowStart = idx(0), rowEnd = idx(mMain);
        if (activeRows && m % mr == 0)
          rowEnd = min(rowEnd, mul(arith::DivUIOp::create(b, loc, add(activeRows, idx(mr - 1)),
                                                          idx(mr)),
                                   mr));
        if (group) { // this group's share of the row blocks, evenly
          int64_t blocks = mMain / mr;
          auto groupStart = [&](Value g) {
            return mul(arith::DivUIOp::create(b, loc, mul(g, blocks), idx(groups)), mr);
          };
          rowStart = groupStart(group);
          rowEnd = groupStart(add(group, idx(1)));
        }
        if (mMain > 0)
          scf::ForOp::create(b, loc, rowStart, rowEnd, idx(mr), ValueRange{},
                             [&](OpBuilder &, Location, Value i0, ValueRange) {
                               emitRowBlock(ops, i0, mr);
                               scf::YieldOp::create(b, loc);
                             });
        if (m > mMain) { // the rows left over: the last group's
          if (group) {
            Value last = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, group,
                                               idx(groups - 1));
            scf::IfOp::create(b, loc, last, [&](OpBuilder &, Location) {
              emitRowBlock(ops, idx(mMain), m - mMain);
              scf::YieldOp::create(b, loc);
            });
          } else {
            emitRowBlock(ops, idx(mMain), m - mMain);
          }
        }
        scf::YieldOp::create(b, loc);
      });
}

Value MatmulEmitter::loadVector(Value mem, ValueRange indices) {
  Type elt = cast<MemRefType>(mem.getType()).getElementType();
  Value v = vector::LoadOp::create(b, loc, VectorType::get({t.vw}, elt), mem, indices);
  if (elt.isF32())
    return v;
  return arith::ExtFOp::create(b, loc, VectorType::get({t.vw}, b.getF32Type()), v);
}

Value MatmulEmitter::loadScalar(Value mem, ValueRange indices) {
  Value x = memref::LoadOp::create(b, loc, mem, indices);
  if (x.getType().isF32())
    return x;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), x);
}

/// B[pc + k, jc + jr + 0..nr) -> bPacked[jr * kc + k * nr + 0..nr).
/// A transposed B is read one element at a time (its columns are rows).
void MatmulEmitter::emitPackB(Value bm, Value bPacked, Value pc, Value kcHere, Value jc, Value ncHere,
               int64_t kc) {
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
                  Value x = loadScalar(bm, ValueRange{add(col, idx(j)), row});
                  memref::StoreOp::create(b, loc, x, bPacked, ValueRange{add(dst, idx(j))});
                }
              } else {
                for (int64_t v = 0; v < t.nr / t.vw; ++v) {
                  Value x = loadBVector(bm, row, add(col, idx(v * t.vw)));
                  vector::StoreOp::create(b, loc, x, bPacked,
                                          ValueRange{add(dst, idx(v * t.vw))});
                }
              }
              scf::YieldOp::create(b, loc);
            });
        scf::YieldOp::create(b, loc);
      });
}


/// Rows [i0, i0 + mr) against every column tile of the panel.
void MatmulEmitter::emitRowBlock(const Operands &o, Value i0, int64_t mr) {
  // A[i0 + i, pc + k] -> aPacked[k * mr + i]: the kernel's broadcasts then
  // read consecutive floats instead of mr rows K floats apart.
  bool packA = mr > 1 && o.aPacked;
  if (packA)
    scf::ForOp::create(b, loc, idx(0), o.kcHere, idx(1), ValueRange{},
                       [&](OpBuilder &, Location, Value kk, ValueRange) {
                         for (int64_t i = 0; i < mr; ++i) {
                           Value x = loadScalar(o.a, ValueRange{add(i0, idx(i)), add(o.pc, kk)});
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
void MatmulEmitter::emitMicroTile(const Operands &o, Value i0, Value jr, int64_t mr, bool packA) {
  auto vecType = VectorType::get({t.vw}, b.getF32Type());
  int64_t nv = t.nr / t.vw;
  Value col = add(o.jc, jr);
  auto loadC = [&](OpBuilder &, Location) {
    SmallVector<Value> acc;
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t v = 0; v < nv; ++v)
        acc.push_back(vector::LoadOp::create(
            b, loc, vecType, o.c, ValueRange{add(i0, idx(i)), add(col, idx(v * t.vw))}));
    return acc;
  };
  SmallVector<Value> acc;
  if (zeroInit) {
    // The first K block starts from zero; later ones from C.
    Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, o.pc, idx(0));
    auto init = scf::IfOp::create(
        b, loc, first,
        [&](OpBuilder &nb, Location l) {
          Value zero = arith::ConstantOp::create(nb, l, vecType,
                                                 DenseElementsAttr::get(vecType, 0.0f));
          scf::YieldOp::create(nb, l, SmallVector<Value>(mr * nv, zero));
        },
        [&](OpBuilder &nb, Location l) { scf::YieldOp::create(nb, l, loadC(nb, l)); });
    acc.assign(init.getResults().begin(), init.getResults().end());
  } else {
    acc = loadC(b, loc);
  }
  Value bBase = o.bPacked ? mul(jr, o.kc) : Value();
  int64_t k = cast<MemRefType>(o.a.getType()).getDimSize(1);
  bool prefetch = prefetchB && o.bPacked && !bTransposed && !quant;
  auto loop = scf::ForOp::create(
      b, loc, idx(0), o.kcHere, idx(1), acc,
      [&](OpBuilder &, Location, Value kk, ValueRange carried) {
        if (prefetch) {
          // This tile's columns of the next K block's B rows, so the next
          // packing reads cache instead of memory.
          Value row = min(add(add(o.pc, idx(o.kc)), kk), idx(k - 1));
          for (int64_t v = 0; v < nv; ++v)
            memref::PrefetchOp::create(b, loc, o.bm, ValueRange{row, add(col, idx(v * t.vw))},
                                       /*isWrite=*/false, /*localityHint=*/2,
                                       /*isDataCache=*/true);
        }
        SmallVector<Value> bv;
        for (int64_t v = 0; v < nv; ++v)
          bv.push_back(
              o.bPacked
                  ? vector::LoadOp::create(b, loc, vecType, o.bPacked,
                                           ValueRange{add(add(bBase, mul(kk, t.nr)),
                                                          idx(v * t.vw))})
                        .getResult()
                  : loadBVector(o.bm, add(o.pc, kk), add(col, idx(v * t.vw))));
        SmallVector<Value> next;
        for (int64_t i = 0; i < mr; ++i) {
          Value x = packA ? memref::LoadOp::create(b, loc, o.aPacked,
                                                   ValueRange{add(mul(kk, mr), idx(i))})
                                .getResult()
                          : loadScalar(o.a, ValueRange{add(i0, idx(i)), add(o.pc, kk)});
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

} // namespace kiln::cpu

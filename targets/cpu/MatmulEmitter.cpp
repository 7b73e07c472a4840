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

#include "dialects/kiln/IR/QuantCodes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/MathExtras.h"

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
  if (ShapedType::isDynamic(m)) // any row count: both ways of reading B
    m = INT32_MAX;
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
  int64_t nMain = n - n % t.nr;
  // Rows as a size (dynamic M: read from C).
  OpFoldResult rows = b.getIndexAttr(m);
  if (ShapedType::isDynamic(m)) {
    rows = memref::DimOp::create(b, loc, c, 0).getResult();
    if (nMain > 0) {
      // Row groups as for a product of many rows (those of a short run
      // find no work).
      int64_t groups = parallel ? rowGroups(t, 64 * t.mr, nMain) : 1;
      emitPanelsDynamicRows(a, bm, c, cast<Value>(rows), nMain, k, scratch, parallel, groups);
    }
  } else if (nMain > 0) {
    int64_t mr = std::min(t.mr, m);
    emitPanels(a, bm, c, m, nMain, k, mr, scratch, parallel,
               parallel && !activeRows ? rowGroups(t, m, nMain) : 1);
  }
  if (nMain < n) { // leftover columns: the generic loops
    int64_t bRows = cast<MemRefType>(bm.getType()).getDimSize(bTransposed ? 1 : 0);
    Value bTail = bTransposed ? subview(bm, {nMain, 0}, {n - nMain, k})
                              : subview(bm, {0, nMain}, {bRows, n - nMain});
    SmallVector<OpFoldResult> unit(2, b.getIndexAttr(1));
    Value cTail = memref::SubViewOp::create(
        b, loc, c, SmallVector<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(nMain)},
        SmallVector<OpFoldResult>{rows, b.getIndexAttr(n - nMain)}, unit);
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
      // FP8 scales are per block of columns: indexed from the full table.
      emitQuantizedLoops(aRows, bTail, quant->float8 ? quant->scales : tail(quant->scales),
                         tail(quant->zeros), cTail, nMain);
    } else {
      emitLoops(aRows, bTail, cTail);
    }
  }
}

/// C += A x dequantize(B) for the leftover columns: loads of the codes and
/// scales at computed indices inside one generic over (m, n, k).
void MatmulEmitter::emitQuantizedLoops(Value a, Value codes, Value scales, Value zeros, Value c,
                                       int64_t colOffset) {
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
        Value scaleCol = quant->float8 ? arith::DivUIOp::create(
                                             nb, l, arith::AddIOp::create(nb, l, col, at(colOffset)),
                                             at(group))
                                             .getResult()
                                       : col;
        Value scale = memref::LoadOp::create(nb, l, scales, ValueRange{g, scaleCol});
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
  Type i32 = vt ? Type(VectorType::get(vt.getShape(), nb.getI32Type())) : Type(nb.getI32Type());
  Value x = codeValue(nb, l, arith::ExtUIOp::create(nb, l, i32, bytes), row, quant->bits,
                      quant->float8);
  if (quant->float8)
    return arith::MulFOp::create(nb, l, x, scale);
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
  Value scale = blockScale(g, col);
  Value zero =
      quant->zeros
          ? vector::LoadOp::create(b, loc, f32v, quant->zeros, ValueRange{g, col}).getResult()
          : arith::ConstantOp::create(
                b, loc, f32v, DenseElementsAttr::get(f32v, (float)(1 << (quant->bits - 1))))
                .getResult();
  return dequantize(b, loc, bytes, row, scale, zero);
}

/// The scales of group row `g` for the vector of columns at `col`: a
/// vector of per-column scales, or (FP8) the one scale of its block.
Value MatmulEmitter::blockScale(Value g, Value col) {
  auto f32v = VectorType::get({t.vw}, b.getF32Type());
  if (!quant->float8)
    return vector::LoadOp::create(b, loc, f32v, quant->scales, ValueRange{g, col});
  Value s = memref::LoadOp::create(
      b, loc, quant->scales,
      ValueRange{g, arith::DivUIOp::create(b, loc, col, idx(quant->groupSize))});
  return vector::BroadcastOp::create(b, loc, f32v, s);
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



int64_t MatmulEmitter::chooseBlocking(int64_t k, bool packB) {
  int64_t kc = std::min(t.kc, k);
  // Codes read in place go group by group (each group scaled once): K
  // blocks of whole groups, at most the packing buffers' depth.
  inPlaceTiles = false;
  if (quant && !packB) {
    int64_t g = quant->groupSize;
    if (g <= kc)
      kc -= kc % g;
    // else one block must hold the only (partial) group
    inPlaceTiles = g <= kc || k <= kc;
  } else if (!packB && !bTransposed) {
    inPlaceTiles = true; // a float B read in place: the same tiles, no scales
  }
  return kc;
}

MatmulEmitter::PanelPosition MatmulEmitter::emitPanelLoop(int64_t n, bool parallel,
                                                          int64_t groups) {
  int64_t nc = panelWidth(t, n);
  int64_t panels = (n + nc - 1) / nc;
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
  return {jc, ncHere, group};
}

void MatmulEmitter::emitPanels(Value a, Value bm, Value c, int64_t m, int64_t n, int64_t k, int64_t mr,
                const Scratch &scratch, bool parallel, int64_t groups) {
  int64_t mMain = m - m % mr;
  bool packB = packsB(m, mr) || bTransposed;
  int64_t kc = chooseBlocking(k, packB);
  OpBuilder::InsertionGuard guard(b);
  PanelPosition at = emitPanelLoop(n, parallel, groups);
  Value jc = at.jc, ncHere = at.ncHere, group = at.group;
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

void MatmulEmitter::emitPanelsDynamicRows(Value a, Value bm, Value c, Value rows, int64_t n,
                                          int64_t k, const Scratch &scratch, bool parallel,
                                          int64_t groups) {
  int64_t mr = t.mr;
  OpBuilder::InsertionGuard guard(b);
  PanelPosition at = emitPanelLoop(n, parallel, groups);
  Value jc = at.jc, ncHere = at.ncHere, group = at.group;
  // One version of the K loop per way of reading B, chosen per run.
  auto kLoop = [&](bool packB) {
    int64_t kc = chooseBlocking(k, packB);
    Value bPacked = packB ? scratch.bPacked : Value();
    scf::ForOp::create(
        b, loc, idx(0), idx(k), idx(kc), ValueRange{},
        [&](OpBuilder &, Location, Value pc, ValueRange) {
          Value kcHere = min(idx(kc), arith::SubIOp::create(b, loc, idx(k), pc));
          if (packB)
            emitPackB(bm, bPacked, pc, kcHere, jc, ncHere, kc);
          Operands ops{a, bm, c, bPacked, scratch.aPacked, pc, kcHere, jc, ncHere, kc};
          Value blocks = arith::DivUIOp::create(b, loc, rows, idx(mr));
          Value mMain = mul(blocks, mr);
          Value rowStart = idx(0), rowEnd = mMain;
          if (group) { // this group's share of the row blocks, evenly
            auto groupStart = [&](Value g) {
              return mul(arith::DivUIOp::create(
                             b, loc, arith::MulIOp::create(b, loc, g, blocks), idx(groups)),
                         mr);
            };
            rowStart = groupStart(group);
            rowEnd = groupStart(add(group, idx(1)));
          }
          scf::ForOp::create(b, loc, rowStart, rowEnd, idx(mr), ValueRange{},
                             [&](OpBuilder &, Location, Value i0, ValueRange) {
                               emitRowBlock(ops, i0, mr);
                               scf::YieldOp::create(b, loc);
                             });
          // The last group's leftover rows, fewer than MR: a micro-tile of
          // exactly their height (one case each).
          auto leftover = [&] {
            Value left = arith::SubIOp::create(b, loc, rows, mMain);
            SmallVector<int64_t> heights;
            for (int64_t h = 1; h < mr; ++h)
              heights.push_back(h);
            auto sw = scf::IndexSwitchOp::create(b, loc, TypeRange{}, left, heights,
                                                 heights.size());
            OpBuilder::InsertionGuard g(b);
            b.setInsertionPointToStart(&sw.getDefaultRegion().emplaceBlock());
            scf::YieldOp::create(b, loc);
            for (auto [i, h] : llvm::enumerate(heights)) {
              b.setInsertionPointToStart(&sw.getCaseRegions()[i].emplaceBlock());
              emitRowBlock(ops, mMain, h);
              scf::YieldOp::create(b, loc);
            }
          };
          if (mr == 1) {
          } else if (group) {
            Value last = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, group,
                                               idx(groups - 1));
            scf::IfOp::create(b, loc, last, [&](OpBuilder &, Location) {
              leftover();
              scf::YieldOp::create(b, loc);
            });
          } else {
            leftover();
          }
          scf::YieldOp::create(b, loc);
        });
  };
  if (bTransposed) {
    kLoop(true);
    return;
  }
  // A few rows (a decode step) read B in place: packing it would cost a
  // pass over B that no second row block repays.
  Value few = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, rows, idx(mr));
  scf::IfOp::create(
      b, loc, few,
      [&](OpBuilder &, Location) {
        kLoop(false);
        scf::YieldOp::create(b, loc);
      },
      [&](OpBuilder &, Location) {
        kLoop(true);
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
  Value tilesStart = idx(0);
  if (inPlaceTiles && !o.bPacked) {
    // B read in place: tiles up to 8 vectors wide for few rows, so a row's
    // read is a whole cache line or more (64 int8 columns on AVX2) and 8
    // FMA chains cover the latency, within the accumulators the registers
    // hold (2 MR); the panel's last columns take NR-wide tiles.
    int64_t nv = t.nr / t.vw;
    int64_t minSets = quant && quant->bits == 4 ? 2 : 1;
    // A power of two: 6 vectors of 4-bit codes (48 bytes) straddle lines.
    int64_t wide = nv;
    while (wide * 2 <= std::min<int64_t>(8, 2 * t.mr / (minSets * mr)))
      wide *= 2;
    if (wide > nv) {
      Value wideEnd = arith::SubIOp::create(
          b, loc, o.ncHere, arith::RemUIOp::create(b, loc, o.ncHere, idx(wide * t.vw)));
      scf::ForOp::create(b, loc, idx(0), wideEnd, idx(wide * t.vw), ValueRange{},
                         [&](OpBuilder &, Location, Value jr, ValueRange) {
                           emitInPlaceTile(o, i0, jr, mr, packA, wide);
                           scf::YieldOp::create(b, loc);
                         });
      tilesStart = wideEnd;
    }
  }
  scf::ForOp::create(b, loc, tilesStart, o.ncHere, idx(t.nr), ValueRange{},
                     [&](OpBuilder &, Location, Value jr, ValueRange) {
                       emitMicroTile(o, i0, jr, mr, packA);
                       scf::YieldOp::create(b, loc);
                     });
}

/// A[i0 + i, pc + k] as f32, from the packed micro-panel when there is one.
Value MatmulEmitter::loadA(const Operands &o, Value i0, int64_t i, Value k, int64_t mr,
                           bool packA) {
  if (packA)
    return memref::LoadOp::create(b, loc, o.aPacked, ValueRange{add(mul(k, mr), idx(i))});
  return loadScalar(o.a, ValueRange{add(i0, idx(i)), add(o.pc, k)});
}

/// The MR x NR accumulators of a micro-tile at the start of a K block:
/// zeros for the first block of a zero-initialized product, else C.
SmallVector<Value> MatmulEmitter::initAccumulators(const Operands &o, Value i0, Value col,
                                                   int64_t mr, int64_t nv) {
  auto vecType = VectorType::get({t.vw}, b.getF32Type());
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
  return acc;
}

/// C[i0 + 0..mr, jc + jr + 0..nr) += A-panel x B-panel over the K block.
void MatmulEmitter::emitMicroTile(const Operands &o, Value i0, Value jr, int64_t mr, bool packA) {
  if (inPlaceTiles && !o.bPacked)
    return emitInPlaceTile(o, i0, jr, mr, packA, t.nr / t.vw);
  auto vecType = VectorType::get({t.vw}, b.getF32Type());
  int64_t nv = t.nr / t.vw;
  Value col = add(o.jc, jr);
  SmallVector<Value> acc = initAccumulators(o, i0, col, mr, nv);
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
          Value x = loadA(o, i0, i, kk, mr, packA);
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

/// The micro-tile against B read in place (one row block: decode), codes
/// or floats.
/// Per group of rows the codes are accumulated unscaled, sum a * code, with
/// the row sums of A beside them; the group then adds
/// scale * (sum a * code - zero * sum a): per row and B vector the loop is
/// a widening load, a conversion and an FMA. The rows of an iteration each
/// have their own accumulators (`sets`), so at least 8 FMA chains cover
/// the FMA latency even for one row of A; 4-bit codes come two rows per
/// byte load (low nibble, then high). Rows left over (a partial group, odd
/// K) take a loop of one row at a time.
void MatmulEmitter::emitInPlaceTile(const Operands &o, Value i0, Value jr, int64_t mr,
                                    bool packA, int64_t nv) {
  auto f32 = b.getF32Type();
  auto vecType = VectorType::get({t.vw}, f32);
  auto i32Vec = VectorType::get({t.vw}, b.getI32Type());
  // A float B is one "group" per K block, unscaled.
  int64_t group = quant ? quant->groupSize : o.kc;
  bool pairs = quant && quant->bits == 4 && group % 2 == 0; // every iteration starts even
  bool rowSums = quant && !quant->float8; // for the zero point
  // Accumulator sets for 8 FMA chains; rows per iteration (a power of two,
  // two for 4-bit pairs), row r of an iteration summing into set r % sets.
  int64_t sets = (int64_t)llvm::PowerOf2Ceil(std::clamp<int64_t>((8 + mr * nv - 1) / (mr * nv), 1, 4));
  int64_t step = pairs ? std::max<int64_t>(sets, 2) : sets;
  // Per set: mr * nv vector sums, then mr scalar sums of A.
  int64_t perSet = mr * nv + mr;
  constexpr int64_t kPrefetchRows = 24;
  int64_t codeRows = cast<MemRefType>(o.bm.getType()).getDimSize(0);
  // Bytes of B one vector of columns reads per (byte) row: a code byte per
  // column (4-bit bytes hold two rows), or an element.
  int64_t vectorBytes =
      quant ? t.vw
            : t.vw * (int64_t)cast<MemRefType>(o.bm.getType()).getElementTypeBitWidth() / 8;
  Value col = add(o.jc, jr);
  SmallVector<Value> acc = initAccumulators(o, i0, col, mr, nv);
  auto i32Splat = [&](int64_t v) {
    return arith::ConstantOp::create(b, loc, i32Vec, DenseElementsAttr::get(i32Vec, (int32_t)v));
  };
  // The code bytes holding `row` (absolute) at column tile v, zero-extended.
  auto codesAt = [&](Value row, int64_t v) -> Value {
    Value byteRow = quant->bits == 8 ? row : arith::DivUIOp::create(b, loc, row, idx(2)).getResult();
    Value bytes = vector::LoadOp::create(b, loc, VectorType::get({t.vw}, b.getI8Type()), o.bm,
                                         ValueRange{byteRow, add(col, idx(v * t.vw))});
    return arith::ExtUIOp::create(b, loc, i32Vec, bytes).getResult();
  };
  auto toFloat = [&](Value codes) {
    return arith::UIToFPOp::create(b, loc, vecType, codes).getResult();
  };
  // The codes of one row as f32 (4-bit: the row's own nibble; FP8: the
  // value, unscaled).
  auto rowCodes = [&](Value row, int64_t v) -> Value {
    if (!quant)
      return loadVector(o.bm, ValueRange{row, add(col, idx(v * t.vw))});
    return codeValue(b, loc, codesAt(row, v), row, quant->bits, quant->float8);
  };
  // One row of A against `codes` into set `set`: sums += a * codes, asum += a.
  auto rowStep = [&](SmallVector<Value> &sums, int64_t set, Value kInBlock,
                     ArrayRef<Value> codes) {
    Value *s = sums.data() + set * perSet;
    for (int64_t i = 0; i < mr; ++i) {
      Value x = loadA(o, i0, i, kInBlock, mr, packA);
      Value splat = vector::BroadcastOp::create(b, loc, vecType, x);
      for (int64_t v = 0; v < nv; ++v)
        s[i * nv + v] = vector::FMAOp::create(b, loc, splat, codes[v], s[i * nv + v]);
      if (rowSums)
        s[mr * nv + i] = arith::AddFOp::create(b, loc, s[mr * nv + i], x);
    }
  };
  auto groups = scf::ForOp::create(
      b, loc, idx(0), o.kcHere, idx(group), acc,
      [&](OpBuilder &, Location, Value gs, ValueRange outer) {
        Value gLen = min(idx(group), arith::SubIOp::create(b, loc, o.kcHere, gs));
        Value zeroVec = arith::ConstantOp::create(b, loc, vecType,
                                                  DenseElementsAttr::get(vecType, 0.0f));
        Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
        SmallVector<Value> init;
        for (int64_t r = 0; r < sets; ++r) {
          init.append(mr * nv, zeroVec);
          init.append(mr, zero);
        }
        // gLen rounded down to whole iterations (step is a power of two).
        Value mainEnd = arith::AndIOp::create(b, loc, gLen, idx(~(step - 1)));
        auto main = scf::ForOp::create(
            b, loc, idx(0), mainEnd, idx(step), init,
            [&](OpBuilder &, Location, Value kk, ValueRange carried) {
              SmallVector<Value> sums(carried.begin(), carried.end());
              Value kInBlock = add(gs, kk);
              for (int64_t r = 0; r < step; r += pairs ? 2 : 1) {
                Value k = add(kInBlock, idx(r));
                // Rows of a weight are N bytes apart, on another page each
                // for wide N: the hardware prefetchers do not follow, so
                // the codes kPrefetchRows byte rows ahead are asked for.
                Value byteRow = !quant || quant->bits == 8
                                    ? add(o.pc, k)
                                    : arith::DivUIOp::create(b, loc, add(o.pc, k), idx(2))
                                          .getResult();
                Value ahead = min(add(byteRow, idx(kPrefetchRows)), idx(codeRows - 1));
                for (int64_t v = 0; v < nv; v += std::max<int64_t>(1, 64 / vectorBytes))
                  memref::PrefetchOp::create(b, loc, o.bm, ValueRange{ahead, add(col, idx(v * t.vw))},
                                             /*isWrite=*/false, /*localityHint=*/3,
                                             /*isDataCache=*/true);
                SmallVector<Value> lo, hi;
                for (int64_t v = 0; v < nv; ++v) {
                  if (pairs) { // rows k (even: pc, gs and kk are) and k + 1
                    Value codes = codesAt(add(o.pc, k), v);
                    lo.push_back(toFloat(arith::AndIOp::create(b, loc, codes, i32Splat(15))));
                    hi.push_back(toFloat(arith::ShRUIOp::create(b, loc, codes, i32Splat(4))));
                  } else {
                    lo.push_back(rowCodes(add(o.pc, k), v));
                  }
                }
                rowStep(sums, r % sets, k, lo);
                if (pairs)
                  rowStep(sums, (r + 1) % sets, add(k, idx(1)), hi);
              }
              scf::YieldOp::create(b, loc, sums);
            });
        // The rows left over, one at a time into set 0.
        auto rest = scf::ForOp::create(
            b, loc, mainEnd, gLen, idx(1), main.getResults(),
            [&](OpBuilder &, Location, Value kk, ValueRange carried) {
              SmallVector<Value> sums(carried.begin(), carried.end());
              Value k = add(gs, kk), row = add(o.pc, k);
              SmallVector<Value> codes;
              for (int64_t v = 0; v < nv; ++v)
                codes.push_back(rowCodes(row, v));
              rowStep(sums, 0, k, codes);
              scf::YieldOp::create(b, loc, sums);
            });
        // acc += scale * (sum a * code - zero * sum a), the sets added up.
        SmallVector<Value> sums(rest.getResults());
        Value g = arith::DivUIOp::create(b, loc, add(o.pc, gs), idx(group));
        SmallVector<Value> next;
        for (int64_t i = 0; i < mr && !quant; ++i) // float B: acc += dot
          for (int64_t v = 0; v < nv; ++v) {
            Value dot = sums[i * nv + v];
            for (int64_t r = 1; r < sets; ++r)
              dot = arith::AddFOp::create(b, loc, dot, sums[r * perSet + i * nv + v]);
            next.push_back(arith::AddFOp::create(b, loc, outer[i * nv + v], dot));
          }
        for (int64_t i = 0; i < mr && quant; ++i) {
          Value asumScalar = sums[mr * nv + i];
          for (int64_t r = 1; r < sets; ++r)
            asumScalar = arith::AddFOp::create(b, loc, asumScalar, sums[r * perSet + mr * nv + i]);
          Value asum = vector::BroadcastOp::create(b, loc, vecType, asumScalar);
          for (int64_t v = 0; v < nv; ++v) {
            Value dot = sums[i * nv + v];
            for (int64_t r = 1; r < sets; ++r)
              dot = arith::AddFOp::create(b, loc, dot, sums[r * perSet + i * nv + v]);
            Value at = add(col, idx(v * t.vw));
            Value scale = blockScale(g, at);
            if (quant->float8) { // no zero point
              next.push_back(vector::FMAOp::create(b, loc, scale, dot, outer[i * nv + v]));
              continue;
            }
            Value negZero =
                quant->zeros
                    ? arith::NegFOp::create(b, loc,
                                            vector::LoadOp::create(b, loc, vecType, quant->zeros,
                                                                   ValueRange{g, at}))
                          .getResult()
                    : arith::ConstantOp::create(
                          b, loc, vecType,
                          DenseElementsAttr::get(vecType, -(float)(1 << (quant->bits - 1))))
                          .getResult();
            Value centered = vector::FMAOp::create(b, loc, negZero, asum, dot);
            next.push_back(vector::FMAOp::create(b, loc, scale, centered, outer[i * nv + v]));
          }
        }
        scf::YieldOp::create(b, loc, next);
      });
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t v = 0; v < nv; ++v)
      vector::StoreOp::create(b, loc, groups.getResult(i * nv + v), o.c,
                              ValueRange{add(i0, idx(i)), add(col, idx(v * t.vw))});
}

} // namespace kiln::cpu

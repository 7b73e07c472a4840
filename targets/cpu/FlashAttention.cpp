//===- FlashAttention.cpp - fused attention kernel for the CPU ------------===//
//
// The CPU target's kernel for `kiln.attention` (see Passes.td for the loop
// nest): online softmax over blocks of keys, so the scores never exist
// beyond one [block rows x block cols] tile per thread. Rows are query
// positions x grouped heads (row r is position r / G of head h * G + r % G),
// so a block of rows reads each K/V block once for the whole group and the
// causal limit grows with r. Both products go through the matmul emitter;
// the softmax bookkeeping is vector code over the tile's rows.
//
// The op is rewritten on tensors, before bufferization: its operands are
// taken as buffers (`bufferization.to_buffer`), the kernel writes a new
// buffer, and `bufferization.to_tensor restrict` hands it back to the
// tensor program, which one-shot bufferization then handles as usual.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/MatmulEmitter.h"
#include "targets/cpu/Passes.h"
#include "targets/cpu/TensorBuffers.h"

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/IR/NodeLocation.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

namespace kiln {
#define GEN_PASS_DEF_KILNCPUFLASHATTENTION
#include "targets/cpu/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using kiln::AttentionOp;
using kiln::cpu::MatmulEmitter;
using kiln::cpu::Tiling;

namespace {

/// Facts of one attention op the kernel is built for. Batch and lengths
/// may be dynamic (`dynamic`): the kernel then reads them from its
/// operands when it runs (the *V values), decides the key splits and the
/// tail block per run, and reads K in place for both row counts.
struct Shape {
  int64_t b, hq, hkv, group, sq, l, d, dv;
  int64_t rows;   // group * sq rows per K/V head
  int64_t br, bc; // block rows, block columns (keys)
  int64_t splits; // key ranges per row block (decode: few rows, long cache)
  bool directScores; // rows <= MR: dot products on K as stored, no Kᵀ
  bool dynamic = false;
  Value bV, sqV, lV; // index values (constants when static)
};

class FlashEmitter {
public:
  FlashEmitter(OpBuilder &b, Location loc, const Tiling &t, const Shape &s)
      : b(b), loc(loc), t(t), s(s), f32(b.getF32Type()) {}

  /// Writes softmax(q kᵀ scale + mask) v into `out` ([B, Hq, Sq, Dv]);
  /// `kt` is the key transposed to [B, Hkv, D, L]. With direct scores the
  /// key is as stored ([B, Hkv, L, D]), maybe in two feature parts
  /// (`setKeyParts`).
  void emit(Value q, Value kt, Value v, Value mask, Value out, float scale, bool causal,
            float softcap = 0.0f) {
    this->mask = mask;
    this->softcap = softcap;
    this->causal = causal;
    // Per-thread tiles: allocas before the grid, which dispatch
    // partitioning re-creates in every dispatch call.
    qs = scratch({s.br, s.d});
    tile = scratch({s.br, s.bc});
    acc = scratch({s.br, s.dv});
    rowMax = scratch({s.br});
    rowSum = scratch({s.br});
    if (s.dynamic) {
      // Kᵀ blocks read from K in place; the last, partial block of keys
      // copied into zero-padded tiles.
      qkScratch = MatmulEmitter::makeScratch(b, loc, t, s.br, s.d, s.bc, true);
      keyTail = scratch({s.bc, s.d});
      valueTail = scratch({s.bc, s.dv});
    } else if (!s.directScores) { // a few rows take dot products, no Q Kᵀ product
      qkScratch = MatmulEmitter::makeScratch(b, loc, t, s.br, s.d, s.bc, false);
    }
    pvScratch = MatmulEmitter::makeScratch(b, loc, t, s.br, s.bc, s.dv, false);

    if (s.dynamic)
      return emitDynamic(q, kt, v, out, scale);
    rowsV = idx(s.rows);
    keysBeforeQueries = idx(s.l - s.sq);
    splitsV = idx(s.splits);
    int64_t rowBlocks = ceilDiv(s.rows, s.br);
    int64_t heads = s.b * s.hkv * rowBlocks;
    // Split over the keys (decode): partial (max, sum, acc) per split, in
    // an arena buffer both dispatches see, combined afterwards.
    int64_t stride = s.dv + 2;
    Value partial;
    if (s.splits > 1)
      partial = memref::AllocOp::create(
          b, loc, MemRefType::get({heads * s.splits * s.br * stride}, f32),
          b.getI64IntegerAttr(64));
    {
      auto grid = scf::ParallelOp::create(b, loc, ValueRange{idx(0)},
                                          ValueRange{idx(heads * s.splits)}, ValueRange{idx(1)});
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(grid.getBody());
      Value wg = grid.getInductionVars()[0];
      Value split = rem(wg, s.splits);
      Value head = div(wg, s.splits);
      Value rowsHere = locate(head, idx(rowBlocks));

      packQuery(q, scale);
      fill(rowMax, -std::numeric_limits<float>::infinity());
      fill(rowSum, 0.0f);
      fill(acc, 0.0f);

      // Key blocks [0, end): with a causal mask the last row of the block
      // sees keys up to its position + (L - Sq); later blocks are skipped.
      Value end = idx(s.l);
      if (causal) {
        Value lastPos = div(add(r0, sub(rowsHere, idx(1))), s.group);
        Value limit = add(lastPos, idx(s.l - s.sq + 1));
        end = arith::MaxSIOp::create(b, loc, idx(0),
                                     arith::MinSIOp::create(b, loc, end, limit));
      }
      // This split's blocks [first, last) of the ceil(L / bc) blocks.
      int64_t blocks = ceilDiv(s.l, s.bc), per = ceilDiv(blocks, s.splits);
      Value first = mul(split, per);
      Value last = arith::MinSIOp::create(b, loc, add(first, idx(per)), idx(blocks));
      int64_t full = s.l / s.bc, tail = s.l % s.bc;
      Value fullEnd = arith::MinSIOp::create(
          b, loc, arith::MinSIOp::create(b, loc, idx(full), last),
          div(add(end, idx(s.bc - 1)), s.bc));
      scf::ForOp::create(b, loc, first, arith::MaxSIOp::create(b, loc, first, fullEnd), idx(1),
                         ValueRange{}, [&](OpBuilder &, Location, Value blk, ValueRange) {
                           keyBlock(kt, v, mul(blk, s.bc), s.bc);
                           scf::YieldOp::create(b, loc);
                         });
      if (tail) {
        // The tail block is block `full`: this split's, and visible.
        Value mine = arith::AndIOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, first, idx(full)),
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, last, idx(full)));
        Value reaches = arith::AndIOp::create(
            b, loc, mine,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, end, idx(full * s.bc)));
        scf::IfOp::create(b, loc, reaches, [&](OpBuilder &, Location) {
          keyBlock(kt, v, idx(full * s.bc), tail);
          scf::YieldOp::create(b, loc);
        });
      }
      if (s.splits == 1)
        writeOutput(out, rowsHere);
      else
        writePartial(partial, wg, rowsHere);
    }
    if (s.splits > 1)
      combine(partial, out, idx(heads), idx(rowBlocks));
  }

private:
  /// emit() for dynamic batch or lengths: the same loop nest with its
  /// counts computed per run. Q Kᵀ reads K blocks in place (the matmul
  /// packs them transposed), the rows of a block past the live ones are
  /// skipped by both products, and the keys past the last full block go
  /// through zero-padded tiles with their columns hidden.
  void emitDynamic(Value q, Value key, Value v, Value out, float scale) {
    Value rows = arith::MulIOp::create(b, loc, s.sqV, idx(s.group));
    rowsV = rows;
    keysBeforeQueries = sub(s.lV, s.sqV);
    Value rowBlocks = ceilDivV(rows, s.br);
    Value heads = arith::MulIOp::create(b, loc, mul(s.bV, s.hkv), rowBlocks);
    Value blocks = ceilDivV(s.lV, s.bc);
    // Few row blocks (a decode step) would leave threads idle: split the
    // keys so each split has at least 4 key blocks, up to 16 splits.
    Value few = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, heads, idx(16));
    Value perFour = arith::MinSIOp::create(
        b, loc, idx(16), arith::MaxSIOp::create(b, loc, idx(1), divV(blocks, idx(4))));
    splitsV = arith::SelectOp::create(b, loc, few, perFour, idx(1));
    Value split1 = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, splitsV, idx(1));
    int64_t stride = s.dv + 2;
    // The partial results of split rows (one entry when not split).
    Value partialSize = arith::SelectOp::create(
        b, loc, split1, idx(1),
        arith::MulIOp::create(b, loc, arith::MulIOp::create(b, loc, heads, splitsV),
                              idx(s.br * stride)));
    Value partial = memref::AllocOp::create(b, loc, MemRefType::get({ShapedType::kDynamic}, f32),
                                            ValueRange{partialSize}, b.getI64IntegerAttr(64));
    {
      auto grid = scf::ParallelOp::create(
          b, loc, ValueRange{idx(0)},
          ValueRange{arith::MulIOp::create(b, loc, heads, splitsV).getResult()},
          ValueRange{idx(1)});
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(grid.getBody());
      Value wg = grid.getInductionVars()[0];
      Value split = remV(wg, splitsV);
      Value head = divV(wg, splitsV);
      Value rowsHere = locate(head, rowBlocks);
      activeRows = rowsHere;

      packQuery(q, scale);
      fill(rowMax, -std::numeric_limits<float>::infinity());
      fill(rowSum, 0.0f);
      fill(acc, 0.0f);

      // Key blocks [0, end): causal rows see keys up to position + (L - Sq).
      Value end = s.lV;
      if (causal) {
        Value lastPos = div(add(r0, sub(rowsHere, idx(1))), s.group);
        Value limit = add(add(lastPos, keysBeforeQueries), idx(1));
        end = arith::MaxSIOp::create(b, loc, idx(0), arith::MinSIOp::create(b, loc, end, limit));
      }
      Value per = ceilDivV(blocks, splitsV);
      Value first = arith::MulIOp::create(b, loc, split, per);
      Value last = arith::MinSIOp::create(b, loc, add(first, per), blocks);
      Value full = div(s.lV, s.bc);
      Value fullEnd = arith::MinSIOp::create(b, loc, arith::MinSIOp::create(b, loc, full, last),
                                             ceilDivV(end, s.bc));
      scf::ForOp::create(b, loc, first, arith::MaxSIOp::create(b, loc, first, fullEnd), idx(1),
                         ValueRange{}, [&](OpBuilder &, Location, Value blk, ValueRange) {
                           Value j0 = mul(blk, s.bc);
                           keyBlockInPlace(window(key, batch, kvHead, j0, b.getIndexAttr(0), s.bc, s.d),
                                           window(v, batch, kvHead, j0, b.getIndexAttr(0), s.bc, s.dv),
                                           j0, Value());
                           scf::YieldOp::create(b, loc);
                         });
      // The tail block `full` (L % bc keys): this split's, and visible.
      Value j0 = mul(full, s.bc);
      Value tail = sub(s.lV, j0);
      Value mine = arith::AndIOp::create(
          b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, first, full),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, last, full));
      Value reaches = arith::AndIOp::create(
          b, loc, arith::AndIOp::create(b, loc, mine,
                                        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                                              end, j0)),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, tail, idx(0)));
      scf::IfOp::create(b, loc, reaches, [&](OpBuilder &, Location) {
        copyRows(key, j0, tail, keyTail, s.d);
        copyRows(v, j0, tail, valueTail, s.dv);
        keyBlockInPlace(keyTail, valueTail, j0, tail);
        scf::YieldOp::create(b, loc);
      });
      scf::IfOp::create(
          b, loc, split1,
          [&](OpBuilder &, Location) {
            writeOutput(out, rowsHere);
            scf::YieldOp::create(b, loc);
          },
          [&](OpBuilder &, Location) {
            writePartial(partial, wg, rowsHere);
            scf::YieldOp::create(b, loc);
          });
    }
    // Combined only when split (an empty grid otherwise).
    combine(partial, out, arith::SelectOp::create(b, loc, split1, idx(0), heads), rowBlocks);
  }

  /// tile[0, n) = rows [j0, j0 + n) of `m` ([B, H, L, width]) at the
  /// current (batch, kvHead), the rest zeros (p = 0 there must not meet a
  /// NaN of stale memory).
  void copyRows(Value m, Value j0, Value n, Value tileBuf, int64_t width) {
    fill(tileBuf, 0.0f);
    auto type = cast<MemRefType>(m.getType());
    SmallVector<OpFoldResult> offsets{batch, kvHead, j0, b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(1), n,
                                    b.getIndexAttr(width)};
    SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
    auto reduced = memref::SubViewOp::inferRankReducedResultType(
        {ShapedType::kDynamic, width}, type, offsets, sizes, strides);
    Value from = memref::SubViewOp::create(b, loc, cast<MemRefType>(reduced), m, offsets, sizes,
                                           strides);
    Value to = memref::SubViewOp::create(
        b, loc, tileBuf, SmallVector<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
        SmallVector<OpFoldResult>{n, b.getIndexAttr(width)},
        SmallVector<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    linalg::CopyOp::create(b, loc, from, to);
  }

  /// One block of keys given as [bc, D] and [bc, Dv] views from j0, the
  /// first `valid` of them real (null: all): scores, online softmax, P V.
  void keyBlockInPlace(Value keys, Value values, Value j0, Value valid) {
    Value scores = tile;
    fill(scores, 0.0f);
    MatmulEmitter qk(b, loc, t, /*bTransposed=*/true);
    qk.setActiveRows(activeRows);
    qk.emit(qs, keys, scores, qkScratch, /*parallel=*/false);
    scf::ForOp::create(b, loc, idx(0), activeRows, idx(1), ValueRange{},
                       [&](OpBuilder &, Location, Value rr, ValueRange) {
                         softmaxRow(scores, rr, j0, s.bc, valid);
                         scf::YieldOp::create(b, loc);
                       });
    MatmulEmitter pv(b, loc, t);
    pv.setActiveRows(activeRows);
    pv.emit(scores, values, acc, pvScratch, /*parallel=*/false);
  }

  /// (batch, kvHead, r0) of row block `head`; returns its live row count.
  Value locate(Value head, Value rowBlocks) {
    Value rb = remV(head, rowBlocks);
    Value bh = divV(head, rowBlocks);
    batch = div(bh, s.hkv);
    kvHead = rem(bh, s.hkv);
    r0 = mul(rb, s.br);
    return arith::MinSIOp::create(b, loc, idx(s.br), sub(rowsV, r0));
  }

  /// partial[wg][rr] = (acc[rr, :], max, sum).
  void writePartial(Value partial, Value wg, Value rowsHere) {
    int64_t stride = s.dv + 2;
    scf::ForOp::create(
        b, loc, idx(0), rowsHere, idx(1), ValueRange{},
        [&](OpBuilder &, Location, Value rr, ValueRange) {
          Value base = mul(add(mul(wg, s.br), rr), stride);
          scf::ForOp::create(b, loc, idx(0), idx(s.dv), idx(1), ValueRange{},
                             [&](OpBuilder &, Location, Value e, ValueRange) {
                               memref::StoreOp::create(
                                   b, loc, memref::LoadOp::create(b, loc, acc, ValueRange{rr, e}),
                                   partial, ValueRange{add(base, e)});
                               scf::YieldOp::create(b, loc);
                             });
          memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, rowMax, ValueRange{rr}),
                                  partial, ValueRange{add(base, idx(s.dv))});
          memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, rowSum, ValueRange{rr}),
                                  partial, ValueRange{add(base, idx(s.dv + 1))});
          scf::YieldOp::create(b, loc);
        });
  }

  /// out = sum_s exp(m_s - M) acc_s / sum_s exp(m_s - M) l_s, per row.
  void combine(Value partial, Value out, Value heads, Value rowBlocks) {
    int64_t stride = s.dv + 2;
    float negInf = -std::numeric_limits<float>::infinity();
    auto grid = scf::ParallelOp::create(b, loc, ValueRange{idx(0)}, ValueRange{heads},
                                        ValueRange{idx(1)});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(grid.getBody());
    Value head = grid.getInductionVars()[0];
    Value rowsHere = locate(head, rowBlocks);
    auto at = [&](Value split, Value rr, int64_t e) -> Value {
      Value wg = add(arith::MulIOp::create(b, loc, head, splitsV), split);
      return add(mul(add(mul(wg, s.br), rr), stride), idx(e));
    };
    scf::ForOp::create(
        b, loc, idx(0), rowsHere, idx(1), ValueRange{},
        [&](OpBuilder &, Location, Value rr, ValueRange) {
          auto overSplits = [&](Value init, function_ref<Value(Value, Value)> body) {
            return scf::ForOp::create(b, loc, idx(0), splitsV, idx(1), ValueRange{init},
                                      [&](OpBuilder &, Location, Value sp, ValueRange c) {
                                        scf::YieldOp::create(b, loc, body(sp, c[0]));
                                      })
                .getResult(0);
          };
          Value m = overSplits(cst(negInf), [&](Value sp, Value c) -> Value {
            Value ms = memref::LoadOp::create(b, loc, partial, ValueRange{at(sp, rr, s.dv)});
            return arith::MaximumFOp::create(b, loc, c, ms);
          });
          Value hidden = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, m, cst(negInf));
          Value shift = arith::SelectOp::create(b, loc, hidden, cst(0.0f), m);
          auto weightOf = [&](Value sp) -> Value {
            Value ms = memref::LoadOp::create(b, loc, partial, ValueRange{at(sp, rr, s.dv)});
            return math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, ms, shift));
          };
          Value sum = overSplits(cst(0.0f), [&](Value sp, Value c) -> Value {
            Value ls = memref::LoadOp::create(b, loc, partial, ValueRange{at(sp, rr, s.dv + 1)});
            return arith::AddFOp::create(b, loc, c, arith::MulFOp::create(b, loc, weightOf(sp), ls));
          });
          Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, sum, cst(0.0f));
          Value inv = arith::SelectOp::create(b, loc, empty, cst(0.0f),
                                              arith::DivFOp::create(b, loc, cst(1.0f), sum));
          auto [posV, headV] = rowCoordinates(rr);
          Value pos = posV, qHead = headV;
          scf::ForOp::create(
              b, loc, idx(0), idx(s.dv), idx(1), ValueRange{},
              [&](OpBuilder &, Location, Value e, ValueRange) {
                Value y = overSplits(cst(0.0f), [&](Value sp, Value c) -> Value {
                  Value a = memref::LoadOp::create(
                      b, loc, partial, ValueRange{add(at(sp, rr, 0), e)});
                  return arith::AddFOp::create(b, loc, c,
                                               arith::MulFOp::create(b, loc, weightOf(sp), a));
                });
                memref::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, y, inv), out,
                                        ValueRange{batch, qHead, pos, e});
                scf::YieldOp::create(b, loc);
              });
          scf::YieldOp::create(b, loc);
        });
  }

private:
  OpBuilder &b;
  Location loc;
  Tiling t;
  Shape s;
  Type f32;
  Value mask;
  bool causal = false;
  float softcap = 0.0f;
  /// Direct scores over K = [K1 K2] on the feature axis, read in place:
  /// K2 and the width of K1 (no concatenated copy of a cache).
  Value key2;
  int64_t d1 = 0;

public:
  void setKeyParts(Value second, int64_t firstWidth) {
    key2 = second;
    d1 = firstWidth;
  }

private:
  Value qs, tile, acc, rowMax, rowSum, keyTail, valueTail;
  MatmulEmitter::Scratch qkScratch, pvScratch;
  Value batch, kvHead, r0;
  // Per run: rows (group x Sq), L - Sq, key splits; the live rows of the
  // workgroup's block (dynamic shapes).
  Value rowsV, keysBeforeQueries, splitsV, activeRows;

  static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t y) { return arith::MulIOp::create(b, loc, x, idx(y)); }
  Value div(Value x, int64_t y) { return arith::DivUIOp::create(b, loc, x, idx(y)); }
  Value rem(Value x, int64_t y) { return arith::RemUIOp::create(b, loc, x, idx(y)); }
  Value divV(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
  Value remV(Value x, Value y) { return arith::RemUIOp::create(b, loc, x, y); }
  Value ceilDivV(Value x, int64_t y) { return div(add(x, idx(y - 1)), y); }
  Value ceilDivV(Value x, Value y) { return divV(sub(add(x, y), idx(1)), y); }
  Value cst(float v) { return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v)); }

  Value scratch(ArrayRef<int64_t> shape) {
    return memref::AllocaOp::create(b, loc, MemRefType::get(shape, f32), b.getI64IntegerAttr(64));
  }
  void fill(Value buffer, float v) {
    linalg::FillOp::create(b, loc, ValueRange{cst(v)}, ValueRange{buffer});
  }
  /// A [rows, cols] window of a 4-D buffer at (i0, i1, o2, o3), rank-reduced.
  Value window(Value m, Value i0, Value i1, OpFoldResult o2, OpFoldResult o3, int64_t rows,
               int64_t cols) {
    auto type = cast<MemRefType>(m.getType());
    SmallVector<OpFoldResult> offsets{i0, i1, o2, o3};
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(1), b.getIndexAttr(rows),
                                    b.getIndexAttr(cols)};
    SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
    auto reduced = memref::SubViewOp::inferRankReducedResultType({rows, cols}, type, offsets,
                                                                 sizes, strides);
    return memref::SubViewOp::create(b, loc, cast<MemRefType>(reduced), m, offsets, sizes,
                                     strides);
  }
  Value tileCols(Value m, int64_t cols) {
    auto type = cast<MemRefType>(m.getType());
    if (type.getDimSize(1) == cols)
      return m;
    SmallVector<int64_t> offsets{0, 0}, sizes{type.getDimSize(0), cols}, strides{1, 1};
    return memref::SubViewOp::create(b, loc, m, offsets, sizes, strides);
  }

  /// Lanes for a loop over `n` contiguous floats: full vectors when they
  /// divide it, else one at a time.
  int64_t lanesFor(int64_t n) const { return n % t.vw == 0 ? t.vw : 1; }
  /// for (c = 0; c < n; c += lanes) body(c, carried), carrying `init`.
  scf::ForOp chunks(int64_t n, int64_t lanes, ValueRange init,
                    function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    return scf::ForOp::create(b, loc, idx(0), idx(n), idx(lanes), init,
                              [&](OpBuilder &, Location, Value c, ValueRange carried) {
                                scf::YieldOp::create(b, loc, body(c, carried));
                              });
  }
  VectorType vec(int64_t lanes) { return VectorType::get({lanes}, f32); }
  Value splat(int64_t lanes, Value x) { return vector::BroadcastOp::create(b, loc, vec(lanes), x); }

  /// (position, query head) of block row `rr`; rows past the end repeat
  /// the last one (their results are never written).
  std::pair<Value, Value> rowCoordinates(Value rr) {
    Value r = arith::MinSIOp::create(b, loc, add(r0, rr), sub(rowsV, idx(1)));
    Value pos = div(r, s.group);
    Value head = add(mul(kvHead, s.group), rem(r, s.group));
    return {pos, head};
  }

  /// qs[rr, :] = q[b, head, pos, :] * scale.
  void packQuery(Value q, float scale) {
    int64_t lanes = lanesFor(s.d);
    Value sc = splat(lanes, cst(scale));
    scf::ForOp::create(b, loc, idx(0), idx(s.br), idx(1), ValueRange{},
                       [&](OpBuilder &, Location, Value rr, ValueRange) {
                         auto [posV, headV] = rowCoordinates(rr);
    Value pos = posV, head = headV;
                         chunks(s.d, lanes, {}, [&](Value c, ValueRange) {
                           Value x = vector::LoadOp::create(b, loc, vec(lanes), q,
                                                            ValueRange{batch, head, pos, c});
                           x = arith::MulFOp::create(b, loc, x, sc);
                           vector::StoreOp::create(b, loc, x, qs, ValueRange{rr, c});
                           return SmallVector<Value>{};
                         });
                         scf::YieldOp::create(b, loc);
                       });
  }

  /// One block of `w` keys from j0: scores, online softmax, P V.
  void keyBlock(Value kt, Value v, Value j0, int64_t w) {
    Value scores = tileCols(tile, w);
    if (s.directScores) {
      directScores(kt, scores, j0, w);
    } else {
      fill(scores, 0.0f);
      MatmulEmitter(b, loc, t).emit(qs, window(kt, batch, kvHead, b.getIndexAttr(0), j0, s.d, w),
                                    scores, qkScratch, /*parallel=*/false);
    }
    scf::ForOp::create(b, loc, idx(0), idx(s.br), idx(1), ValueRange{},
                       [&](OpBuilder &, Location, Value rr, ValueRange) {
                         softmaxRow(scores, rr, j0, w);
                         scf::YieldOp::create(b, loc);
                       });
    MatmulEmitter(b, loc, t).emit(scores, window(v, batch, kvHead, j0, b.getIndexAttr(0), w, s.dv),
                                  acc, pvScratch, /*parallel=*/false);
  }

  /// scores[rr, c] = qs[rr, :] . key[b, kv, j0 + c, :] for a few rows: dot
  /// products along the head dim read K as stored (no transposed copy).
  void directScores(Value key, Value scores, Value j0, int64_t w) {
    // The key's feature parts: (buffer, first feature in Q, width).
    SmallVector<std::tuple<Value, int64_t, int64_t>, 2> parts = {{key, 0, s.d}};
    if (key2)
      parts = {{key, 0, d1}, {key2, d1, s.d - d1}};
    scf::ForOp::create(
        b, loc, idx(0), idx(w), idx(1), ValueRange{},
        [&](OpBuilder &, Location, Value c, ValueRange) {
          Value j = add(j0, c);
          for (int64_t rr = 0; rr < s.br; ++rr) {
            Value dot;
            for (auto &entry : parts) {
              Value part = std::get<0>(entry);
              int64_t from = std::get<1>(entry), width = std::get<2>(entry);
              int64_t lanes = lanesFor(width);
              Value sum =
                  chunks(width, lanes, {splat(lanes, cst(0.0f))},
                         [&](Value dd, ValueRange carried) {
                           Value kv = vector::LoadOp::create(b, loc, vec(lanes), part,
                                                             ValueRange{batch, kvHead, j, dd});
                           Value qv = vector::LoadOp::create(
                               b, loc, vec(lanes), qs, ValueRange{idx(rr), add(dd, idx(from))});
                           return SmallVector<Value>{
                               vector::FMAOp::create(b, loc, qv, kv, carried[0])};
                         })
                      .getResult(0);
              Value partDot =
                  vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, sum);
              dot = dot ? arith::AddFOp::create(b, loc, dot, partDot).getResult() : partDot;
            }
            memref::StoreOp::create(b, loc, dot, scores, ValueRange{idx(rr), c});
          }
          scf::YieldOp::create(b, loc);
        });
  }

  /// The mask value(s) for row (pos, head) at keys j .. j + lanes; with
  /// `inside` (lanes of keys that exist: the tail block) the others are not
  /// read.
  Value maskAt(Value pos, Value head, Value j, int64_t lanes, Value inside) {
    auto type = cast<MemRefType>(mask.getType());
    int64_t lead = 4 - type.getRank();
    bool keysBroadcast = type.getShape().back() == 1;
    if (inside && lanes == 1 && !keysBroadcast) // a key past the end reads the last
      j = arith::MinSIOp::create(b, loc, j, sub(s.lV, idx(1)));
    Value full[4] = {batch, head, pos, j};
    SmallVector<Value> indices;
    for (int64_t i = 0; i < type.getRank(); ++i)
      indices.push_back(type.getDimSize(i) == 1 ? idx(0) : full[lead + i]);
    if (keysBroadcast && lanes > 1)
      return splat(lanes, memref::LoadOp::create(b, loc, mask, indices));
    auto vt = VectorType::get({lanes}, type.getElementType());
    if (inside && lanes > 1)
      return vector::MaskedLoadOp::create(
          b, loc, vt, mask, indices, inside,
          arith::ConstantOp::create(b, loc, vt, DenseElementsAttr::get(vt, 0.0f)));
    return vector::LoadOp::create(b, loc, vt, mask, indices);
  }

  /// Row rr of the tile: apply scale-free mask and causal limit, then the
  /// online softmax update of (max, sum, acc) and p = exp(s - max) in place.
  void softmaxRow(Value scores, Value rr, Value j0, int64_t w, Value valid = Value()) {
    // An i1 mask is read one element at a time: vectors of i1 are bit-packed
    // in memory, its elements are bytes.
    bool boolMask = mask && cast<MemRefType>(mask.getType()).getElementType().isInteger(1);
    int64_t lanes = boolMask ? 1 : lanesFor(w);
    float negInf = -std::numeric_limits<float>::infinity();
    Value hidden = splat(lanes, cst(negInf));
    auto [posV, headV] = rowCoordinates(rr);
    Value pos = posV, head = headV;
    Value limit = causal ? add(pos, keysBeforeQueries) : Value();
    SmallVector<Attribute> steps;
    for (int64_t i = 0; i < lanes; ++i)
      steps.push_back(b.getIndexAttr(i));
    auto indexVec = VectorType::get({lanes}, b.getIndexType());
    Value iota = causal || valid ? arith::ConstantOp::create(
                                       b, loc, DenseElementsAttr::get(indexVec, ArrayRef(steps)))
                                 : Value();
    scf::ForOp maxLoop = chunks(w, lanes, {hidden}, [&](Value c, ValueRange carried) {
      Value x = vector::LoadOp::create(b, loc, vec(lanes), scores, ValueRange{rr, c});
      Value j = add(j0, c);
      if (softcap > 0.0f) // c * tanh(x / c), before the mask
        x = arith::MulFOp::create(
            b, loc, splat(lanes, cst(softcap)),
            math::TanhOp::create(b, loc,
                                 arith::MulFOp::create(b, loc, x, splat(lanes, cst(1.0f / softcap)))));
      // Keys past the tail's real ones: hidden, and their mask not read.
      Value inside;
      if (valid)
        inside = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::slt,
            arith::AddIOp::create(b, loc, vector::BroadcastOp::create(b, loc, indexVec, c), iota),
            vector::BroadcastOp::create(b, loc, indexVec, valid));
      if (mask) {
        Value m = maskAt(pos, head, j, lanes, inside);
        x = boolMask ? arith::SelectOp::create(b, loc, m, x, hidden).getResult()
                     : arith::AddFOp::create(b, loc, x, m).getResult();
      }
      if (causal) {
        Value js = arith::AddIOp::create(b, loc, vector::BroadcastOp::create(b, loc, indexVec, j),
                                         iota);
        Value visible =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, js,
                                  vector::BroadcastOp::create(b, loc, indexVec, limit));
        x = arith::SelectOp::create(b, loc, visible, x, hidden);
      }
      if (inside)
        x = arith::SelectOp::create(b, loc, inside, x, hidden);
      vector::StoreOp::create(b, loc, x, scores, ValueRange{rr, c});
      return SmallVector<Value>{arith::MaximumFOp::create(b, loc, x, carried[0])};
    });
    Value blockMax = vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXIMUMF,
                                                 maxLoop.getResult(0));
    Value oldMax = memref::LoadOp::create(b, loc, rowMax, ValueRange{rr});
    Value newMax = arith::MaximumFOp::create(b, loc, oldMax, blockMax);
    // Everything seen so far is hidden: p = 0 and nothing to rescale.
    Value allHidden = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, newMax, cst(negInf));
    Value shift = arith::SelectOp::create(b, loc, allHidden, cst(0.0f), newMax);
    Value shiftVec = splat(lanes, shift);
    scf::ForOp sumLoop = chunks(w, lanes, {splat(lanes, cst(0.0f))}, [&](Value c, ValueRange carried) {
      Value x = vector::LoadOp::create(b, loc, vec(lanes), scores, ValueRange{rr, c});
      Value p = math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, x, shiftVec));
      vector::StoreOp::create(b, loc, p, scores, ValueRange{rr, c});
      return SmallVector<Value>{arith::AddFOp::create(b, loc, p, carried[0])};
    });
    Value blockSum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                                 sumLoop.getResult(0));
    // alpha = exp(old max - new max) rescales what earlier blocks summed.
    Value alpha = math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, oldMax, shift));
    alpha = arith::SelectOp::create(b, loc, allHidden, cst(1.0f), alpha);
    Value sum = memref::LoadOp::create(b, loc, rowSum, ValueRange{rr});
    sum = arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, sum, alpha), blockSum);
    memref::StoreOp::create(b, loc, sum, rowSum, ValueRange{rr});
    memref::StoreOp::create(b, loc, newMax, rowMax, ValueRange{rr});
    int64_t accLanes = lanesFor(s.dv);
    Value alphaVec = splat(accLanes, alpha);
    chunks(s.dv, accLanes, {}, [&](Value c, ValueRange) {
      Value x = vector::LoadOp::create(b, loc, vec(accLanes), acc, ValueRange{rr, c});
      vector::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, x, alphaVec), acc,
                              ValueRange{rr, c});
      return SmallVector<Value>{};
    });
  }

  /// out[b, head, pos, :] = acc[rr, :] / sum (zeros for a row that saw
  /// nothing) for the block's real rows.
  void writeOutput(Value out, Value rowsHere) {
    int64_t lanes = lanesFor(s.dv);
    scf::ForOp::create(
        b, loc, idx(0), rowsHere, idx(1), ValueRange{},
        [&](OpBuilder &, Location, Value rr, ValueRange) {
          auto [posV, headV] = rowCoordinates(rr);
    Value pos = posV, head = headV;
          Value sum = memref::LoadOp::create(b, loc, rowSum, ValueRange{rr});
          Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, sum, cst(0.0f));
          Value inv = arith::DivFOp::create(b, loc, cst(1.0f), sum);
          inv = splat(lanes, arith::SelectOp::create(b, loc, empty, cst(0.0f), inv));
          chunks(s.dv, lanes, {}, [&](Value c, ValueRange) {
            Value x = vector::LoadOp::create(b, loc, vec(lanes), acc, ValueRange{rr, c});
            vector::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, x, inv), out,
                                    ValueRange{batch, head, pos, c});
            return SmallVector<Value>{};
          });
          scf::YieldOp::create(b, loc);
        });
  }
};

/// Block sizes: columns a multiple of the micro-tile width, rows a
/// multiple of its height (or all rows when there are fewer).
Shape shapeOf(AttentionOp op, RankedTensorType k, const Tiling &t, int64_t blockRows,
              int64_t blockCols) {
  auto q = op.getQuery().getType();
  auto v = op.getValue().getType();
  Shape s;
  s.b = q.getDimSize(0);
  s.hq = q.getDimSize(1);
  s.sq = q.getDimSize(2);
  s.d = q.getDimSize(3);
  s.hkv = k.getDimSize(1);
  s.l = k.getDimSize(2);
  s.dv = v.getDimSize(3);
  s.group = s.hq / s.hkv;
  s.bc = std::max(t.nr, blockCols - blockCols % t.nr);
  int64_t br = std::max(t.mr, blockRows - blockRows % t.mr);
  s.dynamic = ShapedType::isDynamic(s.b) || ShapedType::isDynamic(s.sq) ||
              ShapedType::isDynamic(s.l);
  if (s.dynamic) { // decided per run
    s.rows = ShapedType::kDynamic;
    s.br = br;
    s.splits = 1;
    s.directScores = false;
    return s;
  }
  s.rows = s.group * s.sq;
  s.br = std::min(br, s.rows);
  // Few row blocks (a decode step) would leave threads idle: split the keys
  // so each split has at least 4 key blocks, up to 16 splits.
  int64_t rowBlocks = (s.rows + s.br - 1) / s.br;
  int64_t keyBlocks = (s.l + s.bc - 1) / s.bc;
  s.splits = s.b * s.hkv * rowBlocks < 16 ? std::clamp<int64_t>(keyBlocks / 4, 1, 16) : 1;
  // With a micro-tile's worth of rows or fewer (decode), transposing all
  // of K per call would cost more than the attention: dot products instead.
  s.directScores = s.br <= t.mr;
  return s;
}

/// With dynamic dims the sizes the kernel takes to agree are checked when
/// the plan runs (kiln-shape-checks' form: the CPU target hoists these
/// asserts into the shape function): batch of Q, K, V; K and V lengths;
/// each dynamic mask dim against the scores'.
void checkSizes(OpBuilder &b, AttentionOp op, Value q, Value k, Value v, Value mask) {
  Location loc = op.getLoc();
  std::string what = kiln::describeNode(op);
  auto size = [&](Value m, int64_t i) -> Value {
    auto type = cast<MemRefType>(m.getType());
    if (!type.isDynamicDim(i))
      return arith::ConstantIndexOp::create(b, loc, type.getDimSize(i));
    return memref::DimOp::create(b, loc, m, i);
  };
  auto equal = [&](Value m, int64_t i, Value n, int64_t j) {
    if (!cast<MemRefType>(m.getType()).isDynamicDim(i) &&
        !cast<MemRefType>(n.getType()).isDynamicDim(j))
      return;
    Value cond = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, size(m, i), size(n, j));
    cf::AssertOp::create(b, loc, cond, what + " needs sizes {0} and {1} to be equal");
  };
  equal(q, 0, k, 0);
  equal(k, 0, v, 0);
  equal(k, 2, v, 2);
  if (!mask)
    return;
  auto mt = cast<MemRefType>(mask.getType());
  int64_t lead = 4 - mt.getRank();
  std::pair<Value, int64_t> scores[4] = {{q, 0}, {q, 1}, {q, 2}, {k, 2}};
  for (int64_t i = 0; i < mt.getRank(); ++i)
    if (mt.isDynamicDim(i))
      equal(mask, i, scores[lead + i].first, scores[lead + i].second);
}

struct FlashAttentionPass : kiln::impl::KilnCpuFlashAttentionBase<FlashAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<Tiling> tiling = Tiling::forRegisters(vectorBits, registers, 256, 256);
    if (!tiling) {
      getOperation().emitError("kiln-cpu-flash-attention needs vectors of at least 128 bits "
                               "and 8 registers");
      return signalPassFailure();
    }
    SmallVector<AttentionOp> work;
    getOperation().walk([&](AttentionOp op) {
      if (supported(op))
        work.push_back(op);
    });
    for (AttentionOp op : work)
      rewrite(op, *tiling);
  }

  /// f32 with static heads and head dims (batch and lengths may be
  /// dynamic; a mask's dynamic dims are the scores' sizes); everything
  /// else keeps the reference lowering.
  static bool supported(AttentionOp op) {
    auto isF32 = [](Value v) {
      auto type = dyn_cast<RankedTensorType>(v.getType());
      return type && type.getRank() == 4 && !type.isDynamicDim(1) && !type.isDynamicDim(3) &&
             type.getElementType().isF32();
    };
    if (!isF32(op.getQuery()) || !isF32(op.getKey()) || !isF32(op.getValue()))
      return false;
    if (op.getPastKey() && (!isF32(op.getPastKey()) || !isF32(op.getPastValue())))
      return false;
    if (Value m = op.getMask()) {
      auto type = dyn_cast<RankedTensorType>(m.getType());
      if (!type || type.getRank() > 4 ||
          !(type.getElementType().isF32() || type.getElementType().isInteger(1)))
        return false;
    }
    auto q = op.getQuery().getType(), k = op.getKey().getType();
    auto nonEmpty = [](RankedTensorType t) {
      return !t.hasStaticShape() || t.getNumElements() > 0;
    };
    return k.getDimSize(1) > 0 && q.getDimSize(1) % k.getDimSize(1) == 0 && nonEmpty(q) &&
           nonEmpty(k);
  }

  void rewrite(AttentionOp op, const Tiling &t) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    Value key = op.getKey(), value = op.getValue();
    SmallVector<Value> results;
    if (op.getPastKey()) {
      key = tensor::ConcatOp::create(b, loc, 2, ValueRange{op.getPastKey(), key});
      value = tensor::ConcatOp::create(b, loc, 2, ValueRange{op.getPastValue(), value});
    }
    auto kType = cast<RankedTensorType>(key.getType());
    Shape s = shapeOf(op, kType, t, blockRows, blockCols);
    // Operands given as [B, S, H, D] transposed to heads first (the
    // projections' layout) are read in place through a transposed view,
    // and an output transposed back is written in that layout: the kernel
    // indexes [b, h, s, d] either way, rows stay unit-stride.
    const SmallVector<int64_t> swap = {0, 2, 1, 3};
    auto headsFirst = [&](Value v) -> Value {
      auto tr = v.getDefiningOp<kiln::TransposeOp>();
      return tr && tr.getPerm() == ArrayRef<int64_t>(swap) ? tr.getInput() : Value();
    };
    auto buffer = [&](Value tensor) { return kiln::cpu::readOnlyBuffer(b, loc, tensor); };
    auto swapped = [&](Value m) -> Value {
      return memref::TransposeOp::create(
          b, loc, m, AffineMapAttr::get(AffineMap::getPermutationMap(swap, b.getContext())));
    };
    auto view = [&](Value tensor) -> Value {
      if (Value x = headsFirst(tensor))
        return swapped(buffer(x));
      return buffer(tensor);
    };
    // Kᵀ once per call, so the score product reads key blocks as rows
    // (not for a few rows: they take dot products on K as stored).
    Value kt = key;
    Value keyBuffer;
    std::pair<Value, int64_t> keyParts;
    if (s.dynamic) {
      keyBuffer = view(key); // read in place, block by block
    } else if (!s.directScores) {
      SmallVector<int64_t> ktShape = {s.b, s.hkv, s.d, s.l};
      Value ktInit = tensor::EmptyOp::create(b, loc, ktShape, b.getF32Type());
      Value source = key;
      SmallVector<int64_t> perm = {0, 1, 3, 2};
      if (Value x = headsFirst(key)) { // [B, L, H, D] -> [B, H, D, L] in one copy
        source = x;
        perm = {0, 2, 3, 1};
      }
      kt = linalg::TransposeOp::create(b, loc, source, ktInit, perm).getResult()[0];
      keyBuffer = buffer(kt);
    } else if (auto parts = key.getDefiningOp<kiln::ConcatOp>();
               parts && parts.getInputs().size() == 2 &&
               (static_cast<int64_t>(parts.getAxis()) == 3 ||
                static_cast<int64_t>(parts.getAxis()) == -1)) {
      // K = [K1 K2] on the features (MLA's absorbed decode: the latent
      // cache and the RoPE key): dot products over each part in place,
      // no concatenated copy of the cache per step.
      keyBuffer = view(parts.getInputs()[0]);
      keyParts = {view(parts.getInputs()[1]),
                  cast<RankedTensorType>(parts.getInputs()[0].getType()).getDimSize(3)};
    } else {
      keyBuffer = view(key);
    }
    Value mask = op.getMask() ? buffer(op.getMask()) : Value();
    auto outType = cast<RankedTensorType>(op.getOutput().getType());
    // The output's only user transposes it back to [B, S, H, Dv]: write that.
    auto back = op.getPastKey() || !op.getOutput().hasOneUse()
                    ? kiln::TransposeOp()
                    : dyn_cast<kiln::TransposeOp>(*op.getOutput().getUsers().begin());
    if (back && back.getPerm() != ArrayRef<int64_t>(swap))
      back = kiln::TransposeOp();
    auto storedType = back ? cast<RankedTensorType>(back.getType()) : outType;
    Value query, valueBuffer;
    SmallVector<Value> outSizes;
    if (s.dynamic) {
      query = view(op.getQuery());
      valueBuffer = view(value);
      auto dimOf = [&](Value m, int64_t i) -> Value {
        return memref::DimOp::create(b, loc, m, i);
      };
      s.bV = dimOf(query, 0);
      s.sqV = dimOf(query, 2);
      s.lV = dimOf(keyBuffer, 2);
      checkSizes(b, op, query, keyBuffer, valueBuffer, mask);
      // [B, Hq, Sq, Dv], or [B, Sq, Hq, Dv] written transposed back.
      int64_t bAt = 0, sqAt = back ? 1 : 2;
      for (int64_t i = 0; i < 4; ++i)
        if (storedType.isDynamicDim(i))
          outSizes.push_back(i == bAt ? s.bV : i == sqAt ? s.sqV : Value());
      if (llvm::is_contained(outSizes, Value()))
        return; // (verified shapes: only batch and Sq are dynamic)
    }
    Value out = memref::AllocOp::create(
        b, loc, MemRefType::get(storedType.getShape(), storedType.getElementType()), outSizes,
        b.getI64IntegerAttr(64));
    if (!query) {
      query = view(op.getQuery());
      valueBuffer = view(value);
      // Static Q, K, V with a mask of dynamic dims (an imported Attention's
      // attn_mask): those dims are read as the scores', checked per run.
      if (mask && !cast<MemRefType>(mask.getType()).hasStaticShape())
        checkSizes(b, op, query, view(key), valueBuffer, mask);
    }
    FlashEmitter emitter(b, loc, t, s);
    if (keyParts.first)
      emitter.setKeyParts(keyParts.first, keyParts.second);
    emitter.emit(query, keyBuffer, valueBuffer, mask, back ? swapped(out) : out,
                 op.getEffectiveScale(), op.getCausal(),
                 op.getSoftcap() ? op.getSoftcap()->convertToFloat() : 0.0f);
    Value stored = kiln::cpu::resultTensor(b, loc, storedType, out);
    if (back) {
      back.getResult().replaceAllUsesWith(stored);
      back->erase();
      op->erase();
      return;
    }
    results.push_back(stored);
    if (op.getPastKey())
      results.append({key, value});
    op->replaceAllUsesWith(results);
    op->erase();
  }
};

} // namespace

//===- MatmulEmitter.h - packed register-blocked f32 matmul loops --*- C++ -*-===//
//
// Emits C += A x B on 2-D f32 memrefs as the CPU target's micro-kernel loop
// nest (BLIS-shaped: packed B panels, packed A micro-panels, an MR x NR
// accumulator tile in vector registers). Used by the matmul strategy
// (MatmulMicrokernel.cpp) and by the fused kernels that contain products
// (FlashAttention.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TARGETS_CPU_MATMULEMITTER_H
#define KILN_TARGETS_CPU_MATMULEMITTER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace kiln::cpu {

/// Tile sizes chosen from the target's registers and caches.
struct Tiling {
  int64_t vw; // f32 lanes per vector
  int64_t nr; // columns per micro-tile (a multiple of vw)
  int64_t mr; // rows per micro-tile
  int64_t kc; // K block
  int64_t nc; // columns per panel (workgroup), a multiple of nr

  /// The tiling for `vectorBits`-wide registers, `registers` of them;
  /// null when the vectors are narrower than 128 bits or fewer than 8.
  static std::optional<Tiling> forRegisters(unsigned vectorBits, unsigned registers,
                                            int64_t kBlock, int64_t panelCols);
};

/// Emits C += A x B for 2-D memrefs A [M,K], B [K,N], C [M,N] (f32, unit
/// inner stride; offsets may be dynamic) at the builder's insertion point.
/// K and N are static; M may be dynamic (a model's batch x sequence): each
/// workgroup then reads B in place for a few rows (a decode step) and packs
/// it for more, with the leftover rows on micro-tiles of their own height.
class MatmulEmitter {
public:
  /// `bTransposed`: B is given as [N, K] (what `x @ W.T` exports as).
  MatmulEmitter(mlir::OpBuilder &b, mlir::Location loc, Tiling t, bool bTransposed = false)
      : b(b), loc(loc), t(t), bTransposed(bTransposed) {}

  /// Packing buffers, created once before the loops (stack memory of the
  /// thread that runs them: a dispatch re-creates them on entry).
  struct Scratch {
    mlir::Value aPacked, bPacked;
  };
  /// Sized for an M x K x N product; B's buffer only when it is packed.
  static Scratch makeScratch(mlir::OpBuilder &b, mlir::Location loc, const Tiling &t, int64_t m,
                             int64_t k, int64_t n, bool bTransposed);
  /// With a single row block nothing reuses a packed B: read it in place.
  static bool packsB(int64_t m, int64_t mr);
  static int64_t panelWidth(const Tiling &t, int64_t n);
  /// How many row groups split the rows of an M x N product's workgroups.
  static int64_t rowGroups(const Tiling &t, int64_t m, int64_t n);

  /// Only the first `rows` rows (a dynamic count, at most M) hold data: row
  /// micro-tiles past them are skipped when M is a multiple of MR, and
  /// leftover columns are computed for those rows only (C's rows past the
  /// live micro-tiles are never written).
  void setActiveRows(mlir::Value rows) { activeRows = rows; }
  /// While a packed B block is used, prefetch the next one (B streamed
  /// from memory once, as expert weights are).
  void setPrefetchB(bool on) { prefetchB = on; }
  /// B is a block-quantized weight in kiln.block_dequantize's layout: the
  /// `bm` given to emit() holds its i8 codes ([K * bits / 8, N], K-major),
  /// `scales` (and `zeros`, or none for the symmetric 2^(bits-1)) are
  /// [ceil(K / group), N] f32. Every read of B widens and scales codes in
  /// registers; packed panels hold f32. Not with a transposed B.
  struct QuantizedB {
    mlir::Value scales, zeros;
    int64_t bits = 8, groupSize = 128;
    /// FP8 e4m3 codes; scales [ceil(K / group), ceil(N / group)] (group a
    /// multiple of the vector width, so a vector has one scale).
    bool float8 = false;
  };
  void setQuantizedB(const QuantizedB &q) { quant = q; }
  /// C = A x B instead of C += A x B: the first K block starts its
  /// accumulators at zero instead of loading C (the zero fill before a
  /// matmul, folded away).
  void setZeroInit(bool on) { zeroInit = on; }

  /// `parallel`: the column panels are an scf.parallel (a workgroup grid);
  /// otherwise a loop (an enclosing loop is the grid).
  void emit(mlir::Value a, mlir::Value bm, mlir::Value c, const Scratch &scratch,
            bool parallel = true);
  /// C += A x B (or A x B^T) as a plain linalg.generic, for the leftovers.
  void emitLoops(mlir::Value a, mlir::Value bm, mlir::Value c);

private:
  mlir::OpBuilder &b;
  mlir::Location loc;
  Tiling t;
  bool bTransposed;
  mlir::Value activeRows;
  bool prefetchB = false;
  bool zeroInit = false;
  std::optional<QuantizedB> quant;
  bool inPlaceTiles = false; // this product reads B in place with emitInPlaceTile

  struct Operands {
    mlir::Value a, bm, c, bPacked, aPacked, pc, kcHere, jc, ncHere;
    int64_t kc;
  };

  mlir::Value idx(int64_t v) { return mlir::arith::ConstantIndexOp::create(b, loc, v); }
  mlir::Value add(mlir::Value x, mlir::Value y) { return mlir::arith::AddIOp::create(b, loc, x, y); }
  mlir::Value mul(mlir::Value x, int64_t y) { return mlir::arith::MulIOp::create(b, loc, x, idx(y)); }
  mlir::Value min(mlir::Value x, mlir::Value y) {
    return mlir::arith::MinSIOp::create(b, loc, x, y);
  }
  mlir::Value subview(mlir::Value v, llvm::ArrayRef<int64_t> offsets, llvm::ArrayRef<int64_t> sizes) {
    llvm::SmallVector<int64_t> strides(offsets.size(), 1);
    return mlir::memref::SubViewOp::create(b, loc, v, offsets, sizes, strides);
  }

  void emitPanels(mlir::Value a, mlir::Value bm, mlir::Value c, int64_t m, int64_t n, int64_t k,
                  int64_t mr, const Scratch &scratch, bool parallel, int64_t groups);
  /// emitPanels for a run-time row count `rows`.
  void emitPanelsDynamicRows(mlir::Value a, mlir::Value bm, mlir::Value c, mlir::Value rows,
                             int64_t n, int64_t k, const Scratch &scratch, bool parallel,
                             int64_t groups);
  /// The grid (or loop) over (row group, column panel): sets the insertion
  /// point inside it and returns the panel's first column, width and group
  /// (null when one group).
  struct PanelPosition {
    mlir::Value jc, ncHere, group;
  };
  PanelPosition emitPanelLoop(int64_t n, bool parallel, int64_t groups);
  /// K block size for this product; sets inPlaceTiles for B packed or not.
  int64_t chooseBlocking(int64_t k, bool packB);
  void emitPackB(mlir::Value bm, mlir::Value bPacked, mlir::Value pc, mlir::Value kcHere,
                 mlir::Value jc, mlir::Value ncHere, int64_t kc);
  void emitRowBlock(const Operands &o, mlir::Value i0, int64_t mr);
  void emitMicroTile(const Operands &o, mlir::Value i0, mlir::Value jr, int64_t mr, bool packA);
  mlir::Value loadA(const Operands &o, mlir::Value i0, int64_t i, mlir::Value k, int64_t mr,
                    bool packA);
  /// `nv` vectors of columns per row.
  llvm::SmallVector<mlir::Value> initAccumulators(const Operands &o, mlir::Value i0,
                                                  mlir::Value col, int64_t mr, int64_t nv);
  /// A micro-tile `nv` vectors wide against B (codes or floats) read in
  /// place, with several accumulator sets and prefetch.
  void emitInPlaceTile(const Operands &o, mlir::Value i0, mlir::Value jr, int64_t mr,
                         bool packA, int64_t nv);
  /// t.vw elements of `mem` (f32, f16 or bf16) at `indices`, as f32: half
  /// operands are widened in registers (F16C / AVX-512 conversions).
  mlir::Value loadVector(mlir::Value mem, mlir::ValueRange indices);
  /// t.vw columns of B from row `row`, column `col`, as f32 (dequantized
  /// when B is quantized).
  mlir::Value loadBVector(mlir::Value bm, mlir::Value row, mlir::Value col);
  /// Codes (i8, or a vector of them) of row `row` as f32 values, scaled.
  mlir::Value dequantize(mlir::OpBuilder &b, mlir::Location loc, mlir::Value bytes,
                         mlir::Value row, mlir::Value scale, mlir::Value zero);
  /// C += A x B for quantized B's leftover columns, as a plain generic.
  void emitQuantizedLoops(mlir::Value a, mlir::Value codes, mlir::Value scales,
                          mlir::Value zeros, mlir::Value c, int64_t colOffset);
  mlir::Value blockScale(mlir::Value g, mlir::Value col);
  /// One element of `mem` at `indices`, as f32.
  mlir::Value loadScalar(mlir::Value mem, mlir::ValueRange indices);
};

} // namespace kiln::cpu

#endif // KILN_TARGETS_CPU_MATMULEMITTER_H

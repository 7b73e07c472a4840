//===- MatmulMicrokernel.cpp - packed register-blocked f32 matmul ---------===//
//
// The CPU target's matmul strategy (see Passes.td for the loop nest): finds
// the contractions the micro-kernel runs (MatmulEmitter.h emits it), views
// them as 2-D products, and makes the batch a workgroup grid.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"
#include "targets/cpu/MatmulEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h" // the pass creates vector ops
#include "mlir/IR/Matchers.h"

namespace kiln {
#define GEN_PASS_DEF_KILNCPUMATMULMICROKERNEL
#include "targets/cpu/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using kiln::cpu::MatmulEmitter;
using kiln::cpu::Tiling;

namespace {

/// A memref the kernel can address with vector loads along its last dim:
/// f32, or (an A or B operand) f16/bf16 widened as it is read. Only the
/// leading dims (batch, rows) may be dynamic; B (`rowsDynamic` false) is
/// static.
bool isKernelOperand(Value v, bool accumulator, bool rowsDynamic = true) {
  auto type = dyn_cast<MemRefType>(v.getType());
  Type elt = type ? type.getElementType() : Type();
  if (!type || type.getRank() == 0 || type.isDynamicDim(type.getRank() - 1) ||
      (!rowsDynamic && !type.hasStaticShape()) ||
      !(elt.isF32() || (!accumulator && (elt.isF16() || elt.isBF16()))))
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  return succeeded(type.getStridesAndOffset(strides, offset)) && strides.back() == 1;
}

struct MatmulMicrokernelPass
    : kiln::impl::KilnCpuMatmulMicrokernelBase<MatmulMicrokernelPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<Tiling> tiling = Tiling::forRegisters(vectorBits, registers, kBlock, panelCols);
    if (!tiling) {
      getOperation().emitError("kiln-cpu-matmul-microkernel needs vectors of at least 128 "
                               "bits and 8 registers");
      return signalPassFailure();
    }
    const Tiling &t = *tiling;

    SmallVector<linalg::LinalgOp> work;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics() && op.getNumDpsInputs() == 2 &&
          op.getNumDpsInits() == 1 && isKernelOperand(op.getDpsInputs()[0], false) &&
          isKernelOperand(op.getDpsInputs()[1], false, /*rowsDynamic=*/false) &&
          isKernelOperand(op.getDpsInits()[0], true) &&
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
    // B has no batch dims but the rows' outer dims cannot join the rows
    // (a view of a session cache: [B, 1, T, C] with B's stride the
    // cache's): those dims are the grid, B the same in each entry.
    bool bShared = false;
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
    if (!form.batched && nm > 1 &&
        (!collapsible(op.getDpsInputs()[0], form.aGroups) ||
         !collapsible(op.getDpsInits()[0], form.cGroups))) {
      form.batched = form.bShared = true;
      form.aGroups = {range(0, nm - 1), {nm - 1}, {nm}};
      form.cGroups = form.aGroups;
    }
    if (!collapsible(op.getDpsInputs()[0], form.aGroups) ||
        !collapsible(op.getDpsInputs()[1], form.bGroups) ||
        !collapsible(op.getDpsInits()[0], form.cGroups))
      return std::nullopt;
    return form;
  }

  void rewrite(linalg::LinalgOp op, const MatmulForm &form, const Tiling &t) {
    // A zero fill of C right before: the kernel writes C instead (one
    // dispatch and one pass over C fewer).
    linalg::FillOp zeroFill;
    if (auto fill = dyn_cast_or_null<linalg::FillOp>(op->getPrevNode());
        fill && fill.hasPureBufferSemantics() && fill.getDpsInits()[0] == op.getDpsInits()[0]) {
      FloatAttr value;
      if (matchPattern(fill.getInputs()[0], m_Constant(&value)) && value.getValue().isZero())
        zeroFill = fill;
    }
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
    if (zeroFill) {
      emitter.setZeroInit(true);
      zeroFill->erase();
    }
    if (!form.batched) {
      emitter.emit(a, bm, c, scratch);
    } else {
      // The batch is the grid; each entry is a 2-D product on rank-reducing
      // subviews with its panels in sequence. (Batch and rows may be
      // dynamic: sizes read from the operand.)
      auto size = [&](Value v, int64_t d) -> OpFoldResult {
        auto type = cast<MemRefType>(v.getType());
        if (!type.isDynamicDim(d))
          return b.getIndexAttr(type.getDimSize(d));
        return memref::DimOp::create(b, loc, v, d).getResult();
      };
      auto slice = [&](Value v, Value i) -> Value {
        auto type = cast<MemRefType>(v.getType());
        SmallVector<OpFoldResult> offsets{i, b.getIndexAttr(0), b.getIndexAttr(0)};
        SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), size(v, 1), size(v, 2)};
        SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
        auto reduced = memref::SubViewOp::inferRankReducedResultType(
            {type.getDimSize(1), type.getDimSize(2)}, type, offsets, sizes, strides);
        return memref::SubViewOp::create(b, loc, cast<MemRefType>(reduced), v, offsets,
                                         sizes, strides);
      };
      Value zero = arith::ConstantIndexOp::create(b, loc, 0);
      Value one = arith::ConstantIndexOp::create(b, loc, 1);
      Value n = getValueOrCreateConstantIndexOp(b, loc, size(c, 0));
      auto par = scf::ParallelOp::create(b, loc, ValueRange{zero}, ValueRange{n}, ValueRange{one});
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(par.getBody());
      Value i = par.getInductionVars()[0];
      emitter.emit(slice(a, i), form.bShared ? bm : slice(bm, i), slice(c, i), scratch,
                   /*parallel=*/false);
    }
    op->erase();
  }
};

} // namespace

//===- QuantizedMatmul.cpp - products with block-quantized weights --------===//
//
// kiln.matmul of activations and a kiln.block_dequantize'd weight, run by
// the matmul micro-kernel with B read as codes (MatmulEmitter::QuantizedB):
// decode reads the weight's 1- or 0.5-byte codes once instead of a
// materialized f32 copy.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"
#include "targets/cpu/MatmulEmitter.h"
#include "targets/cpu/TensorBuffers.h"

#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace kiln {
#define GEN_PASS_DEF_KILNCPUQUANTIZEDMATMUL
#include "targets/cpu/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using kiln::cpu::MatmulEmitter;
using kiln::cpu::Tiling;

namespace {

struct QuantizedMatmulPass : kiln::impl::KilnCpuQuantizedMatmulBase<QuantizedMatmulPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<Tiling> tiling = Tiling::forRegisters(vectorBits, registers, kBlock, panelCols);
    if (!tiling) {
      getOperation().emitError("kiln-cpu-quantized-matmul needs vectors of at least 128 bits "
                               "and 8 registers");
      return signalPassFailure();
    }
    SmallVector<kiln::MatmulOp> work;
    getOperation().walk([&](kiln::MatmulOp op) {
      auto x = cast<RankedTensorType>(op.getLhs().getType());
      auto y = cast<RankedTensorType>(op.getType());
      auto w = op.getRhs().getDefiningOp<kiln::BlockDequantizeOp>();
      // FP8 block scales: a vector of columns must lie in one block.
      // Rows may be dynamic (batch x sequence), K and N not.
      if (w && (!w.getFloat8() || w.getGroupSize() % tiling->vw == 0) && x.getRank() >= 2 &&
          !x.isDynamicDim(x.getRank() - 1) && !y.isDynamicDim(y.getRank() - 1) &&
          x.getElementType().isF32() && y.getElementType().isF32())
        work.push_back(op);
    });
    for (kiln::MatmulOp op : work)
      rewrite(op, *tiling);
  }

  void rewrite(kiln::MatmulOp op, const Tiling &t) {
    auto w = op.getRhs().getDefiningOp<kiln::BlockDequantizeOp>();
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto xType = cast<RankedTensorType>(op.getLhs().getType());
    auto yType = cast<RankedTensorType>(op.getType());
    int64_t k = xType.getShape().back(), n = yType.getShape().back();
    int64_t m = xType.hasStaticShape() ? xType.getNumElements() / k : ShapedType::kDynamic;
    // The result's leading dims are the activations'.
    SmallVector<OpFoldResult> yShape;
    for (int64_t i = 0; i + 1 < xType.getRank(); ++i)
      yShape.push_back(xType.isDynamicDim(i)
                           ? OpFoldResult(tensor::DimOp::create(b, loc, op.getLhs(), i).getResult())
                           : OpFoldResult(b.getIndexAttr(xType.getDimSize(i))));
    yShape.push_back(b.getIndexAttr(n));
    // The activations' rows as one M: [.., M, K] -> [M', K] and back.
    ReassociationIndices rows;
    for (int64_t i = 0; i + 1 < xType.getRank(); ++i)
      rows.push_back(i);
    SmallVector<ReassociationIndices> groups = {rows, {xType.getRank() - 1}};
    Value x = op.getLhs();
    if (xType.getRank() > 2)
      x = tensor::CollapseShapeOp::create(b, loc, x, groups);
    auto buffer = [&](Value v) { return v ? kiln::cpu::readOnlyBuffer(b, loc, v) : v; };
    SmallVector<Value> rowCount;
    if (ShapedType::isDynamic(m))
      rowCount.push_back(tensor::DimOp::create(b, loc, x, 0));
    Value out = memref::AllocOp::create(b, loc, MemRefType::get({m, n}, b.getF32Type()),
                                        rowCount, b.getI64IntegerAttr(64));
    MatmulEmitter emitter(b, loc, t);
    emitter.setQuantizedB({buffer(w.getScales()), buffer(w.getZeroPoints()),
                           (int64_t)w.getBits(), (int64_t)w.getGroupSize(), w.getFloat8()});
    emitter.setZeroInit(true);
    MatmulEmitter::Scratch scratch = MatmulEmitter::makeScratch(b, loc, t, m, k, n, false);
    emitter.emit(buffer(x), buffer(w.getData()), out, scratch);
    Value y = kiln::cpu::resultTensor(b, loc, RankedTensorType::get({m, n}, b.getF32Type()), out);
    if (yType.getRank() > 2)
      y = tensor::ExpandShapeOp::create(b, loc, yType, y, groups, yShape);
    op.getResult().replaceAllUsesWith(y);
    op->erase();
    if (w->use_empty())
      w->erase();
  }
};

} // namespace

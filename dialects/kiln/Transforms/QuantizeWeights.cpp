//===- QuantizeWeights.cpp - weight-only block quantization of products ---===//
//
// Rewrites the weights products read into block-quantized codes and scales
// (kiln.block_quantize), read back through kiln.block_dequantize. Only
// weights are quantized: the compiler computes the codes while it writes
// the artifact, so a checkpoint of any size is quantized in one pass over
// its bytes and nothing is evaluated here.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/Transforms/Passes.h"

namespace kiln {
#define GEN_PASS_DEF_KILNQUANTIZEWEIGHTS
#include "dialects/kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The weight `v` is a view of (through transposes, slices, reshapes and a
/// widening cast, each with static shapes), or null.
WeightOp weightBehind(Value v) {
  while (true) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t || !t.hasStaticShape())
      return {};
    Operation *def = v.getDefiningOp();
    if (auto w = dyn_cast_or_null<WeightOp>(def))
      return w;
    if (!def || def->getNumOperands() != 1 || !isa<TransposeOp, SliceOp, ReshapeOp, CastOp>(def))
      return {};
    if (auto c = dyn_cast<CastOp>(def)) {
      Type in = cast<RankedTensorType>(c.getInput().getType()).getElementType();
      if (!t.getElementType().isF32() || !(in.isF16() || in.isBF16() || in.isF32()))
        return {};
    }
    v = def->getOperand(0);
  }
}

struct QuantizeWeightsPass : kiln::impl::KilnQuantizeWeightsBase<QuantizeWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (float8 && bits != 8) {
      getOperation().emitError("kiln-quantize-weights: float8 codes are 8 bits");
      return signalPassFailure();
    }
    if (bits != 4 && bits != 8) {
      getOperation().emitError("kiln-quantize-weights: bits must be 4 or 8, got ") << (int64_t)bits;
      return signalPassFailure();
    }
    if (groupSize < 1) {
      getOperation().emitError("kiln-quantize-weights: group-size must be positive, got ")
          << (int64_t)groupSize;
      return signalPassFailure();
    }
    // A gated MLP over three weights becomes its products first.
    SmallVector<GatedMlpOp> mlps;
    getOperation().walk([&](GatedMlpOp op) {
      if (eligible(op.getGateWeight()) && eligible(op.getUpWeight()) &&
          eligible(op.getDownWeight()))
        mlps.push_back(op);
    });
    for (GatedMlpOp op : mlps)
      decompose(op);
    SmallVector<MatmulOp> products;
    getOperation().walk([&](MatmulOp op) { products.push_back(op); });
    for (MatmulOp op : products)
      quantize(op);
    if (report)
      getOperation().walk([&](MoeOp op) {
        op.emitRemark("expert weights not quantized: the MoE kernel reads them as they are");
      });
  }

  bool eligible(Value w) {
    auto t = dyn_cast<RankedTensorType>(w.getType());
    return t && t.getRank() == 2 && isa<FloatType>(t.getElementType()) && weightBehind(w) &&
           t.getNumElements() >= minElements;
  }

  void decompose(GatedMlpOp op) {
    OpBuilder b(op);
    op.replaceAllUsesWith(op.buildDecomposition(b));
    op.erase();
  }

  void quantize(MatmulOp op) {
    Value w = op.getRhs();
    WeightOp source = weightBehind(w);
    auto wt = dyn_cast<RankedTensorType>(w.getType());
    auto xt = dyn_cast<RankedTensorType>(op.getLhs().getType());
    if (!source || !wt || wt.getRank() != 2 || !xt || !isa<FloatType>(xt.getElementType()))
      return;
    if (wt.getNumElements() < minElements) {
      if (report)
        op.emitRemark() << "weight '" << source.getName() << "' not quantized: "
                        << wt.getNumElements() << " elements, fewer than " << (int64_t)minElements;
      return;
    }
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto f32 = b.getF32Type();
    auto [dataType, scalesType] = BlockQuantizeOp::typesFor(wt, bits, groupSize, float8);
    UnitAttr fp8 = float8 ? b.getUnitAttr() : UnitAttr();
    auto q = BlockQuantizeOp::create(b, loc, TypeRange{dataType, scalesType}, w,
                                     b.getI64IntegerAttr(bits), b.getI64IntegerAttr(groupSize),
                                     fp8);
    Value dequantized = BlockDequantizeOp::create(
        b, loc, RankedTensorType::get(wt.getShape(), f32), q.getData(), q.getScales(), Value(),
        b.getI64IntegerAttr(bits), b.getI64IntegerAttr(groupSize), fp8);
    // Half activations: the product runs in f32 around the quantized weight.
    Value x = op.getLhs();
    if (!xt.getElementType().isF32())
      x = CastOp::create(b, loc, RankedTensorType::get(xt.getShape(), f32), x);
    Value y = MatmulOp::create(b, loc, x, dequantized);
    if (y.getType() != op.getType())
      y = CastOp::create(b, loc, op.getType(), y);
    if (report) {
      if (float8)
        op.emitRemark() << "weight '" << source.getName() << "' (" << wt.getDimSize(0) << " x "
                        << wt.getDimSize(1) << ") quantized to fp8 e4m3, blocks of "
                        << (int64_t)groupSize << " x " << (int64_t)groupSize;
      else
        op.emitRemark() << "weight '" << source.getName() << "' (" << wt.getDimSize(0) << " x "
                        << wt.getDimSize(1) << ") quantized to int" << (int64_t)bits
                        << ", groups of " << (int64_t)groupSize << " rows";
    }
    op.replaceAllUsesWith(y);
    op.erase();
  }
};

} // namespace

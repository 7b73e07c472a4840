//===- QuantizationToLinalg.cpp - kiln.block_dequantize -> linalg ---------===//
//
// The reference lowering of a block-quantized weight: one generic over the
// [K, N] result reading the code byte, the group's scale and zero point
// with tensor.extract at computed indices (k / 2 for 4-bit codes, k / group
// for the scales), so the loop bounds come from the result alone. The CPU
// target's quantized matmul kernel replaces the products that read it; this
// is the path for other targets and other users.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"

#include "dialects/kiln/IR/QuantCodes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace kiln::conversion {
namespace {

struct BlockDequantizeLowering : OpRewritePattern<BlockDequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BlockDequantizeOp op, PatternRewriter &rewriter) const override {
    auto out = cast<RankedTensorType>(op.getType());
    Location loc = op.getLoc();
    int64_t bits = op.getBits(), group = op.getGroupSize();
    Value data = op.getData(), scales = op.getScales(), zeros = op.getZeroPoints();
    Value init = tensor::EmptyOp::create(rewriter, loc, out.getShape(), out.getElementType());
    SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(2, op.getContext())};
    auto g = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out}, ValueRange{}, ValueRange{init}, maps,
        SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange) {
          auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, l, v); };
          Value k = linalg::IndexOp::create(b, l, 0), n = linalg::IndexOp::create(b, l, 1);
          Value row = bits == 8 ? k : arith::DivUIOp::create(b, l, k, idx(2)).getResult();
          Value byte = tensor::ExtractOp::create(b, l, data, ValueRange{row, n});
          Value code = arith::ExtUIOp::create(b, l, b.getI32Type(), byte);
          Value x = codeValue(b, l, code, k, bits, op.getFloat8());
          Value gi = arith::DivUIOp::create(b, l, k, idx(group));
          if (op.getFloat8()) { // one scale per group x group block, no zero point
            Value gj = arith::DivUIOp::create(b, l, n, idx(group));
            Value scale = tensor::ExtractOp::create(b, l, scales, ValueRange{gi, gj});
            linalg::YieldOp::create(b, l, ValueRange{arith::MulFOp::create(b, l, x, scale)});
            return;
          }
          Value zero = zeros ? tensor::ExtractOp::create(b, l, zeros, ValueRange{gi, n}).getResult()
                             : arith::ConstantOp::create(
                                   b, l, b.getF32FloatAttr((float)(1 << (bits - 1))))
                                   .getResult();
          Value scale = tensor::ExtractOp::create(b, l, scales, ValueRange{gi, n});
          Value y = arith::MulFOp::create(b, l, arith::SubFOp::create(b, l, x, zero), scale);
          linalg::YieldOp::create(b, l, y);
        });
    rewriter.replaceOp(op, g.getResults());
    return success();
  }
};

} // namespace

void populateQuantizationPatterns(RewritePatternSet &patterns) {
  patterns.add<BlockDequantizeLowering>(patterns.getContext());
}

} // namespace kiln::conversion

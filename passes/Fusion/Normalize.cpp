//===- Normalize.cpp - one form per idiom before the raising patterns -----===//
//
// Exporters write the same math in different op sequences; the raising
// patterns read one form, so kiln-fuse first rewrites the others:
//
// - Gemm linear layers: torch's current exporter (torch.export +
//   onnxscript) writes a 2-D nn.Linear as Gemm(x, W, transB=1) on the
//   [out, in] weight, where the TorchScript exporter wrote MatMul(x, Wᵀ)
//   with the transpose folded into the initializer. A plain product
//   (alpha 1, no transA, no C) becomes kiln.matmul(x, transpose(W)); the
//   compiler binds that transpose as a view of the weight (gathered once
//   when the artifact is written), so it costs nothing per call.
// - Batched transposes through reshapes: onnxscript's
//   scaled_dot_product_attention writes Kᵀ as Reshape(Transpose(Reshape(K,
//   [B*H, L, D]), [0, 2, 1]), [B, H, D, L]); that is Transpose(Reshape(K,
//   [B, H, L, D]), [0, 1, 3, 2]), the Q Kᵀ form.
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/Patterns.h"

using namespace mlir;

namespace kiln::fusion {

namespace {

struct GemmAsMatmul : OpRewritePattern<GemmOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GemmOp op, PatternRewriter &rewriter) const override {
    // A bias, a scale or a transposed A is not a bare linear layer: the
    // Conversion decomposition handles those.
    if (op.getC() || op.getTransA() || op.getAlpha().convertToDouble() != 1.0 ||
        !isa<FloatType>(cast<RankedTensorType>(op.getType()).getElementType()))
      return failure();
    Value b = op.getB();
    if (op.getTransB())
      b = TransposeOp::create(rewriter, op.getLoc(), b, ArrayRef<int64_t>{1, 0});
    auto product = MatmulOp::create(rewriter, op.getLoc(), op.getA(), b);
    if (product.getType() != op.getType())
      return failure(); // (unreachable for a verified gemm; never change a type)
    rewriter.replaceOp(op, product);
    return success();
  }
};

/// Whether `perm` swaps the last two axes and keeps the others.
bool swapsLastTwo(ArrayRef<int64_t> perm) {
  int64_t r = static_cast<int64_t>(perm.size());
  if (r < 2 || perm[r - 2] != r - 1 || perm[r - 1] != r - 2)
    return false;
  for (int64_t i = 0; i + 2 < r; ++i)
    if (perm[i] != i)
      return false;
  return true;
}

/// Reshape(Transpose(Reshape(x, [N.., L, D]), swap last two), [M.., D, L])
/// with prod(N) = prod(M) -> Transpose(Reshape(x, [M.., L, D]), swap last
/// two): both regroup only the leading axes of the same L x D blocks.
struct TransposeThroughLeadingReshapes : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp outer, PatternRewriter &rewriter) const override {
    auto t = outer.getInput().getDefiningOp<TransposeOp>();
    auto inner = t ? t.getInput().getDefiningOp<ReshapeOp>() : ReshapeOp();
    if (!inner || outer.getShape() || inner.getShape() || !swapsLastTwo(t.getPerm()))
      return failure();
    auto mid = dyn_cast<RankedTensorType>(t.getType());
    auto out = dyn_cast<RankedTensorType>(outer.getType());
    if (!mid || !out || !mid.hasStaticShape() || !out.hasStaticShape() || out.getRank() < 2 ||
        out.getShape().take_back(2) != mid.getShape().take_back(2))
      return failure();
    SmallVector<int64_t> shape(out.getShape());
    std::swap(shape[shape.size() - 1], shape[shape.size() - 2]);
    auto merged = RankedTensorType::get(shape, out.getElementType());
    Value x = ReshapeOp::create(rewriter, inner.getLoc(), merged, inner.getInput(), Value(),
                                false);
    SmallVector<int64_t> perm;
    for (int64_t i = 0; i < out.getRank(); ++i)
      perm.push_back(i);
    std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
    rewriter.replaceOpWithNewOp<TransposeOp>(outer, x, perm);
    return success();
  }
};

} // namespace

void populateNormalizePatterns(RewritePatternSet &patterns) {
  patterns.add<GemmAsMatmul, TransposeThroughLeadingReshapes>(patterns.getContext());
}

} // namespace kiln::fusion

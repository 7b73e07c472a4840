//===- Patterns.h - fusion pattern families and shared matchers ---*- C++ -*-===//
//
// Internal to passes/Fusion: each file populates one family; Fuse.cpp runs
// them. Patterns call notifyMatchFailure only once they have found the
// start of their form (a near miss worth reporting), and plain failure()
// for ops that are not candidates at all.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_FUSION_PATTERNS_H
#define KILN_PASSES_FUSION_PATTERNS_H

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/Transforms/SymbolicShapes.h"

#include "mlir/IR/PatternMatch.h"

#include <optional>

namespace kiln::fusion {

/// One form per idiom for the families below (Normalize.cpp): Gemm linear
/// layers as kiln.matmul, Kᵀ through leading-axis reshapes as a transpose.
void populateNormalizePatterns(mlir::RewritePatternSet &patterns);
/// x * x^-1/2 * w forms -> kiln.rms_norm (RmsNorm.cpp).
void populateRmsNormPatterns(mlir::RewritePatternSet &patterns);
/// softmax(Q Kᵀ scale + mask) V -> kiln.attention (Attention.cpp).
void populateAttentionPatterns(mlir::RewritePatternSet &patterns);
/// Router, TopK and weighted expert MLPs -> kiln.moe (Moe.cpp).
void populateMoePatterns(mlir::RewritePatternSet &patterns);
/// down(SiLU(x · gate) * (x · up)) -> kiln.gated_mlp (GatedMlp.cpp).
void populateGatedMlpPatterns(mlir::RewritePatternSet &patterns);
/// x * cos + rotate_half(x) * sin -> kiln.rope (Rope.cpp).
void populateRopePatterns(mlir::RewritePatternSet &patterns);
/// Naive MLA over a latent cache -> attention over the latent (MlaAbsorb.cpp).
void populateMlaAbsorbPatterns(mlir::RewritePatternSet &patterns);

/// A SwiGLU MLP: (SiLU(input · gate) * (input · up)) · down, 2-D weights.
struct GatedMlpMatch {
  mlir::Value input, gate, up, down;
  llvm::SmallVector<mlir::Location> locs;
};
/// `y` as a SwiGLU MLP (the ops, or a kiln.gated_mlp) of `x` (any input
/// when null) (GatedMlp.cpp).
std::optional<GatedMlpMatch> matchGatedMlp(mlir::Value y, mlir::Value x);

/// What the TopK anchoring a MoE layer says about it (Moe.cpp parses it):
/// the router, the selection and the routing weights.
struct MoeRouting {
  TopKOp topk;
  mlir::Value x;            // the router's input, [T, H]
  mlir::Value routerWeight; // [H, E]
  ScoreFunc scoring;
  mlir::Value scores, bias; // softmax/sigmoid of x · W; selection bias or null
  int64_t experts, nGroup, topkGroup;
  mlir::Value weights;      // the routing weights, normalized and scaled
  mlir::Operation *weightsGather; // the gather of unbiased scores, or null
  bool normalize;
  float factor;
  llvm::SmallVector<mlir::Location> locs;
};
/// Where and why a MoE layer was not raised.
struct MoeMiss {
  mlir::Operation *at = nullptr;
  std::string why;
};
/// Raises the layer `routing` anchors by proof (MoeByEvaluation.cpp): the
/// layer's output found where everything computed from the TopK meets, its
/// stacked expert weights found upstream, and the kiln.moe candidate (of
/// every way to read those weights) that evaluates equal to the subgraph
/// on random inputs replaces it.
mlir::LogicalResult raiseMoeByEvaluation(const MoeRouting &routing,
                                         mlir::PatternRewriter &rewriter, MoeMiss &miss);

/// The value of a constant with a single (splat) element.
std::optional<double> scalarConstant(mlir::Value v);

/// Whether the additive float `mask` on [.., Sq, L] scores is the causal
/// triangle (0 where j <= i + L - Sq, -inf or a float's lowest elsewhere),
/// evaluated from constants, weights and the ops that build it
/// (ConstantEvaluation.cpp).
bool isCausalMask(mlir::Value mask, int64_t sq, int64_t l);
/// Whether every element of a constant, weight or constant-only subgraph is
/// zero (ConstantEvaluation.cpp).
bool isZeroTensor(mlir::Value v);

/// `v` defined by a kiln.binary of `kind`: its operands, else null.
BinaryOp binaryOf(mlir::Value v, BinaryKind kind);
/// The single user of `v`, or null.
mlir::Operation *soleUser(mlir::Value v);
/// `v` defined by a kiln.unary of `kind`, else null.
UnaryOp unaryOf(mlir::Value v, UnaryKind kind);

} // namespace kiln::fusion

#endif // KILN_PASSES_FUSION_PATTERNS_H

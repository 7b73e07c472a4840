//===- ElementwiseToLinalg.cpp - elementwise kiln ops -> linalg.generic ---===//
//
// One pattern for every elementwise op: operands are broadcast (numpy
// rules, right-aligned) through their indexing maps, so no broadcast is
// ever materialized, and the body is the scalar function of ScalarMath.cpp.
// Chains of these generics fuse later (linalg elementwise fusion).
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"
#include "dialects/kiln/IR/NodeLocation.h"
#include "dialects/kiln/IR/ConstantFolding.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

#include <limits>

using namespace mlir;

namespace kiln::conversion {

Value emptyLike(OpBuilder &b, Location loc, RankedTensorType type, ValueRange like) {
  SmallVector<Value> dynamic;
  int64_t rank = type.getRank();
  for (int64_t i = 0; i < rank; ++i) {
    if (!type.isDynamicDim(i))
      continue;
    Value extent;
    for (Value v : like) {
      auto t = cast<RankedTensorType>(v.getType());
      int64_t j = i - (rank - t.getRank());
      if (j < 0 || t.getDimSize(j) == 1)
        continue;
      extent = tensor::DimOp::create(b, loc, v, j);
      break;
    }
    if (!extent) // every operand has a static 1 here
      extent = arith::ConstantIndexOp::create(b, loc, 1);
    dynamic.push_back(extent);
  }
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 dynamic);
}

namespace {

/// The map reading `operand` (right-aligned, broadcasting static 1s) inside
/// a loop nest over `resultRank` dimensions.
AffineMap broadcastMap(MLIRContext *ctx, RankedTensorType operand,
                       RankedTensorType result) {
  int64_t lead = result.getRank() - operand.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t j = 0; j < operand.getRank(); ++j) {
    bool broadcast = operand.getDimSize(j) == 1 && result.getDimSize(lead + j) != 1;
    exprs.push_back(broadcast ? getAffineConstantExpr(0, ctx)
                              : getAffineDimExpr(lead + j, ctx));
  }
  return AffineMap::get(result.getRank(), 0, exprs, ctx);
}

using ScalarFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// Replaces `op` by a linalg.generic computing `fn` elementwise over
/// `inputs` into a tensor of the op's result type. Unsigned elements stay
/// in the tensor types; `fn` gets signless scalars (arith is signless) and
/// chooses unsigned operations itself.
LogicalResult lowerElementwise(PatternRewriter &rewriter, Operation *op,
                               ValueRange inputs, ScalarFn fn) {
  auto result = cast<RankedTensorType>(op->getResult(0).getType());
  auto supported = [](Type t) { return isLowerableElement(t) || isUnsignedElement(t); };
  for (Value v : inputs)
    if (!supported(cast<RankedTensorType>(v.getType()).getElementType()))
      return rewriter.notifyMatchFailure(op, "element type not lowered yet");
  if (!supported(result.getElementType()))
    return rewriter.notifyMatchFailure(op, "result element type not lowered yet");
  Type bodyResult = signlessElement(result.getElementType());
  // Build the body once in a detached block first: a pattern that fails must
  // leave the IR untouched (or the greedy driver never converges).
  {
    Block scratch;
    SmallVector<Value> args;
    for (Value v : inputs)
      args.push_back(scratch.addArgument(
          signlessElement(cast<RankedTensorType>(v.getType()).getElementType()),
          op->getLoc()));
    OpBuilder b(op->getContext());
    b.setInsertionPointToEnd(&scratch);
    Value probe = fn(b, op->getLoc(), args);
    if (!probe || probe.getType() != bodyResult)
      return rewriter.notifyMatchFailure(op, "this kind has no scalar lowering for "
                                             "the element type");
  }
  Location loc = op->getLoc();
  MLIRContext *ctx = op->getContext();
  SmallVector<AffineMap> maps;
  for (Value v : inputs)
    maps.push_back(broadcastMap(ctx, cast<RankedTensorType>(v.getType()), result));
  maps.push_back(AffineMap::getMultiDimIdentityMap(result.getRank(), ctx));
  SmallVector<utils::IteratorType> iters(result.getRank(),
                                         utils::IteratorType::parallel);
  Value init = emptyLike(rewriter, loc, result, inputs);
  // Unsigned scalars meet the signless body through casts that vanish in
  // the LLVM conversion (both sides become the same iN there).
  auto cast = [](OpBuilder &b, Location l, Value v, Type to) -> Value {
    if (v.getType() == to)
      return v;
    return UnrealizedConversionCastOp::create(b, l, to, v).getResult(0);
  };
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{result}, inputs, ValueRange{init}, maps, iters,
      [&](OpBuilder &b, Location l, ValueRange args) {
        SmallVector<Value> scalars;
        for (Value a : args.drop_back())
          scalars.push_back(cast(b, l, a, signlessElement(a.getType())));
        linalg::YieldOp::create(b, l, cast(b, l, fn(b, l, scalars), result.getElementType()));
      });
  rewriter.replaceOp(op, generic.getResults());
  return success();
}

/// Whether the op's operands are unsigned integers.
bool unsignedOperands(Operation *op) {
  return isUnsignedElement(cast<ShapedType>(op->getOperand(0).getType()).getElementType());
}

struct UnaryLowering : OpRewritePattern<UnaryOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(UnaryOp op, PatternRewriter &rewriter) const override {
    UnaryKind kind = op.getKind();
    Type out = signlessElement(op.getType().getElementType());
    bool uns = unsignedOperands(op);
    return lowerElementwise(rewriter, op, op->getOperands(),
                            [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                              // is_nan / is_inf produce i1 from floats.
                              if (kind == UnaryKind::is_nan)
                                return arith::CmpFOp::create(
                                    b, l, arith::CmpFPredicate::UNO, a[0], a[0]);
                              if (kind == UnaryKind::is_inf && isa<FloatType>(a[0].getType())) {
                                Value inf = arith::ConstantOp::create(
                                    b, l, b.getFloatAttr(a[0].getType(),
                                                         std::numeric_limits<double>::infinity()));
                                return arith::CmpFOp::create(
                                    b, l, arith::CmpFPredicate::OEQ,
                                    math::AbsFOp::create(b, l, a[0]), inf);
                              }
                              Value v = buildUnary(b, l, kind, a[0], uns);
                              return v && v.getType() == out ? v : Value();
                            });
  }
};

struct BinaryLowering : OpRewritePattern<BinaryOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BinaryOp op, PatternRewriter &rewriter) const override {
    BinaryKind kind = op.getKind();
    bool uns = unsignedOperands(op);
    return lowerElementwise(rewriter, op, op->getOperands(),
                            [&](OpBuilder &b, Location l, ValueRange a) {
                              return buildBinary(b, l, kind, a[0], a[1], uns);
                            });
  }
};

struct CompareLowering : OpRewritePattern<CompareOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CompareOp op, PatternRewriter &rewriter) const override {
    CompareKind kind = op.getKind();
    bool uns = unsignedOperands(op);
    return lowerElementwise(rewriter, op, op->getOperands(),
                            [&](OpBuilder &b, Location l, ValueRange a) {
                              return buildCompare(b, l, kind, a[0], a[1], uns);
                            });
  }
};

struct WhereLowering : OpRewritePattern<WhereOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(WhereOp op, PatternRewriter &rewriter) const override {
    return lowerElementwise(rewriter, op, op->getOperands(),
                            [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                              return arith::SelectOp::create(b, l, a[0], a[1], a[2]);
                            });
  }
};

struct CastLowering : OpRewritePattern<CastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CastOp op, PatternRewriter &rewriter) const override {
    Type to = op.getType().getElementType();
    bool fromUns = unsignedOperands(op), toUns = isUnsignedElement(to);
    return lowerElementwise(rewriter, op, op->getOperands(),
                            [&](OpBuilder &b, Location l, ValueRange a) {
                              return buildCast(b, l, a[0], signlessElement(to), fromUns, toUns);
                            });
  }
};

/// Expand with a static result: a broadcasting copy (the maps do it).
struct ExpandLowering : OpRewritePattern<ExpandOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ExpandOp op, PatternRewriter &rewriter) const override {
    if (op.getShape() || !cast<RankedTensorType>(op.getType()).hasStaticShape())
      return rewriter.notifyMatchFailure(op, "run-time target shape not lowered yet");
    return lowerElementwise(rewriter, op, ValueRange{op.getInput()},
                            [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  }
};

/// Whether every dim of an Expand is decided by the types (and a constant
/// target): the result's dim is the input's, or a static 1 broadcast to a
/// static size.
static bool broadcastIsStatic(ExpandOp op, RankedTensorType in, RankedTensorType out,
                              int64_t lead) {
  std::optional<SmallVector<int64_t>> target;
  if (op.getShape()) {
    target = constfold::constantInts(op.getShape());
    if (!target || (int64_t)target->size() != out.getRank())
      return false;
  }
  for (int64_t i = 0; i < out.getRank(); ++i) {
    if (i < lead) {
      if (out.isDynamicDim(i))
        return false;
      continue;
    }
    int64_t have = in.getDimSize(i - lead);
    if (have == 1 && !out.isDynamicDim(i))
      continue; // broadcast (or kept: 1 to 1)
    // Kept: a dynamic dim the target leaves alone, or equal static sizes.
    bool kept = ShapedType::isDynamic(have)
                    ? out.isDynamicDim(i) && (!target || (*target)[i] == 1)
                    : out.getDimSize(i) == have;
    if (!kept)
      return false;
  }
  return true;
}

/// Expand with a dynamic result (to a run-time target, or to the result
/// type's dims): ONNX broadcasting decided per run, dim by dim: the input's
/// dim unless it is 1, else the target's; a dim of 1 is read at index 0.
struct DynamicExpandLowering : OpRewritePattern<ExpandOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ExpandOp op, PatternRewriter &rewriter) const override {
    auto out = cast<RankedTensorType>(op.getType());
    auto in = cast<RankedTensorType>(op.getInput().getType());
    if (out.hasStaticShape() || !isLowerableElement(out.getElementType()))
      return rewriter.notifyMatchFailure(op, "static expand");
    Location loc = op.getLoc();
    int64_t rank = out.getRank(), lead = rank - in.getRank();
    // Broadcasting the types decide (a static 1 to a static size, a dynamic
    // dim kept by a target entry of 1, as GQA's repeat of K/V heads
    // writes): indexing maps, a copy that vectorizes.
    if (broadcastIsStatic(op, in, out, lead))
      return lowerElementwise(rewriter, op, ValueRange{op.getInput()},
                              [](OpBuilder &, Location, ValueRange a) { return a[0]; });
    // Without a run-time target the result type is the target: its static
    // dims, and the input's where it is dynamic.
    if (!op.getShape())
      for (int64_t i = 0; i < lead; ++i)
        if (out.isDynamicDim(i))
          return rewriter.notifyMatchFailure(op, "a leading dynamic dim with no target");
    auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(rewriter, loc, v); };
    SmallVector<Value> inDims, outDims, dynamic;
    for (int64_t j = 0; j < in.getRank(); ++j)
      inDims.push_back(tensor::DimOp::create(rewriter, loc, op.getInput(), j));
    for (int64_t i = 0; i < rank; ++i) {
      Value e;
      if (!op.getShape()) {
        e = out.isDynamicDim(i) ? inDims[i - lead] : idx(out.getDimSize(i)).getResult();
      } else {
        e = tensor::ExtractOp::create(rewriter, loc, op.getShape(), ValueRange{idx(i)});
        e = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(), e);
      }
      Value d = e;
      if (i >= lead) {
        Value have = inDims[i - lead];
        auto isOne = [&](Value v) {
          return arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, v, idx(1));
        };
        d = arith::SelectOp::create(rewriter, loc, isOne(have), e, have);
        // Either side 1, or both one size (checked before a run,
        // kiln-shape-checks): the two sides with a 1 taken as the other.
        cf::AssertOp::create(
            rewriter, loc,
            arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, d,
                                  arith::SelectOp::create(rewriter, loc, isOne(e), have, e)),
            describeNode(op) + " broadcasts a dim of {0} to {1}");
      }
      outDims.push_back(out.isDynamicDim(i) ? d : idx(out.getDimSize(i)).getResult());
      if (out.isDynamicDim(i))
        dynamic.push_back(d);
    }
    Value init =
        tensor::EmptyOp::create(rewriter, loc, out.getShape(), out.getElementType(), dynamic);
    Value input = op.getInput();
    SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, op.getContext())};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out}, ValueRange{}, ValueRange{init}, maps,
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> at;
          for (int64_t j = 0; j < in.getRank(); ++j) {
            Value i = linalg::IndexOp::create(b, l, j + lead);
            Value one = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, inDims[j],
                                              arith::ConstantIndexOp::create(b, l, 1));
            at.push_back(arith::SelectOp::create(b, l, one,
                                                 arith::ConstantIndexOp::create(b, l, 0), i));
          }
          linalg::YieldOp::create(b, l, ValueRange{tensor::ExtractOp::create(b, l, input, at)});
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void populateElementwisePatterns(RewritePatternSet &patterns) {
  patterns.add<UnaryLowering, BinaryLowering, CompareLowering, WhereLowering,
               CastLowering, ExpandLowering, DynamicExpandLowering>(patterns.getContext());
}

} // namespace kiln::conversion

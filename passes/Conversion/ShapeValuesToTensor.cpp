//===- ShapeValuesToTensor.cpp - shape computations as scalars -----------===//
//
// With dynamic dims, exporters' shape computations (Shape -> Gather ->
// Unsqueeze -> Concat, Range(0, seq)) stay in the program. Lowered as
// tensors of a few elements they would become buffers, and a size read from
// a buffer is data to the CPU plan. Lowered here as tensor.from_elements of
// scalars, tensor.extract folds them back to the tensor.dim they come from,
// so every size stays a function of the inputs' dims. Float scalars take
// part too (a Range's float bounds, a window length cast to float): the
// CPU plan computes sizes in float where the model does.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/IR/NodeLocation.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace kiln::conversion {
namespace {

constexpr int64_t kMaxElements = 16;

bool isFloat(Type t) { return isa<Float16Type, BFloat16Type, Float32Type, Float64Type>(t); }

/// A small static integer tensor (a shape vector or a scalar) or a float
/// scalar (float vectors stay data: small ones are common in models).
bool isShapeValue(Type t) {
  auto type = dyn_cast<RankedTensorType>(t);
  if (!type || !type.hasStaticShape() || type.getRank() > 1)
    return false;
  if (isFloat(type.getElementType()))
    return type.getRank() == 0;
  return type.getNumElements() <= kMaxElements && type.getElementType().isSignlessInteger();
}

/// The elements of a shape value as scalars of its element type.
SmallVector<Value> scalars(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<Value> out;
  for (int64_t i = 0; i < type.getNumElements(); ++i) {
    SmallVector<Value> at;
    if (type.getRank() == 1)
      at.push_back(arith::ConstantIndexOp::create(b, loc, i));
    out.push_back(tensor::ExtractOp::create(b, loc, v, at));
  }
  return out;
}

/// `v` (a float scalar) to the integer type `to`, truncating toward zero:
/// NaN becomes 0 and values past the type's range saturate (fptosi of
/// either would be poison, and these values size buffers).
Value saturatingToInt(OpBuilder &b, Location loc, Value v, IntegerType to) {
  auto ft = cast<FloatType>(v.getType());
  auto bound = [&](const APInt &i) {
    APFloat f(ft.getFloatSemantics());
    (void)f.convertFromAPInt(i, /*isSigned=*/true, APFloat::rmTowardZero);
    return arith::ConstantOp::create(b, loc, FloatAttr::get(ft, f)).getResult();
  };
  unsigned w = to.getWidth();
  Value x = arith::MaxNumFOp::create(b, loc, v, bound(APInt::getSignedMinValue(w)));
  x = arith::MinNumFOp::create(b, loc, x, bound(APInt::getSignedMaxValue(w)));
  Value nan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, v, v);
  x = arith::SelectOp::create(b, loc, nan, arith::ConstantOp::create(b, loc, FloatAttr::get(ft, 0.0)), x);
  return arith::FPToSIOp::create(b, loc, to, x);
}

/// ONNX Cast of a scalar (integers signed, as Kiln's shape values are;
/// a bool is 0 or 1, and x != 0 to one; a float to an integer truncates
/// toward zero, saturating).
Value castScalar(OpBuilder &b, Location loc, Value v, Type to) {
  Type in = v.getType();
  unsigned from = in.getIntOrFloatBitWidth(), bits = to.getIntOrFloatBitWidth();
  if (in == to)
    return v;
  if (isFloat(in) && isFloat(to)) {
    if (from == bits) // f16 <-> bf16: through f32
      v = arith::ExtFOp::create(b, loc, b.getF32Type(), v), from = 32;
    if (from == bits)
      return v;
    return from < bits ? arith::ExtFOp::create(b, loc, to, v).getResult()
                       : arith::TruncFOp::create(b, loc, to, v).getResult();
  }
  if (isFloat(to))
    return from == 1 ? arith::UIToFPOp::create(b, loc, to, v).getResult()
                     : arith::SIToFPOp::create(b, loc, to, v).getResult();
  if (isFloat(in))
    return bits == 1 ? arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v,
                                             arith::ConstantOp::create(b, loc, b.getFloatAttr(in, 0.0)))
                           .getResult()
                     : saturatingToInt(b, loc, v, cast<IntegerType>(to));
  if (from == bits)
    return v;
  if (from < bits) // (a bool is 0 or 1, not -1)
    return from == 1 ? arith::ExtUIOp::create(b, loc, to, v).getResult()
                     : arith::ExtSIOp::create(b, loc, to, v).getResult();
  if (bits == 1)
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v,
                                 arith::ConstantOp::create(b, loc, b.getIntegerAttr(in, 0)));
  return arith::TruncIOp::create(b, loc, to, v);
}

/// lhs / rhs of integers, truncating, that cannot trap: a zero divisor
/// (undefined in ONNX) gives lhs, and MIN / -1 wraps to MIN (the shape
/// function runs these before any check).
Value safeDivSI(OpBuilder &b, Location loc, Value lhs, Value rhs, bool ceil = false) {
  Type t = rhs.getType();
  auto c = [&](int64_t v) { return arith::ConstantOp::create(b, loc, b.getIntegerAttr(t, v)).getResult(); };
  Value minusOne = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, rhs, c(-1));
  Value unsafe = arith::OrIOp::create(
      b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, rhs, c(0)), minusOne);
  Value d = arith::SelectOp::create(b, loc, unsafe, c(1), rhs);
  Value q = ceil ? arith::CeilDivSIOp::create(b, loc, lhs, d).getResult()
                 : arith::DivSIOp::create(b, loc, lhs, d).getResult();
  return arith::SelectOp::create(b, loc, minusOne, arith::SubIOp::create(b, loc, c(0), lhs), q);
}

/// Whether every operand is a shape value of `n` entries or one (which
/// broadcasts).
bool broadcastable(ValueRange operands, int64_t n) {
  return llvm::all_of(operands, [&](Value v) {
    if (!isShapeValue(v.getType()))
      return false;
    int64_t size = cast<RankedTensorType>(v.getType()).getNumElements();
    return size == n || size == 1;
  });
}

/// Entry i of `fn` applied to the operands' entries (one-entry operands
/// broadcast).
SmallVector<Value> elementwise(OpBuilder &b, Location loc, ValueRange operands, int64_t n,
                               function_ref<Value(ArrayRef<Value>)> fn) {
  SmallVector<SmallVector<Value>> in;
  for (Value v : operands)
    in.push_back(scalars(b, loc, v));
  SmallVector<Value> out;
  for (int64_t i = 0; i < n; ++i) {
    SmallVector<Value> args;
    for (const SmallVector<Value> &v : in)
      args.push_back(v[v.size() == 1 ? 0 : i]);
    out.push_back(fn(args));
  }
  return out;
}

std::optional<arith::CmpIPredicate> predicate(CompareKind kind) {
  switch (kind) {
  case CompareKind::eq: return arith::CmpIPredicate::eq;
  case CompareKind::ne: return arith::CmpIPredicate::ne;
  case CompareKind::lt: return arith::CmpIPredicate::slt;
  case CompareKind::le: return arith::CmpIPredicate::sle;
  case CompareKind::gt: return arith::CmpIPredicate::sgt;
  case CompareKind::ge: return arith::CmpIPredicate::sge;
  }
  return std::nullopt;
}

/// The entries of a shape value `op` computes from shape values, as
/// scalars; nothing (and no IR created) when it does not apply.
std::optional<SmallVector<Value>> shapeEntries(Operation *op, RankedTensorType type,
                                               PatternRewriter &rewriter) {
  Location loc = op->getLoc();
  int64_t n = type.getNumElements();
  if (auto g = dyn_cast<GatherOp>(op)) {
    DenseIntElementsAttr at;
    if (!isShapeValue(g.getData().getType()) || g.getData().getType().getRank() != 1 ||
        !matchPattern(g.getIndices(), m_Constant(&at)))
      return std::nullopt;
    int64_t size = g.getData().getType().getNumElements();
    SmallVector<int64_t> picks;
    for (const APInt &i : at.getValues<APInt>()) {
      int64_t k = i.getSExtValue() < 0 ? i.getSExtValue() + size : i.getSExtValue();
      if (k < 0 || k >= size)
        return std::nullopt;
      picks.push_back(k);
    }
    SmallVector<Value> data = scalars(rewriter, loc, g.getData());
    SmallVector<Value> out;
    for (int64_t k : picks)
      out.push_back(data[k]);
    return out;
  }
  if (auto sl = dyn_cast<SliceOp>(op)) {
    if (!isShapeValue(sl.getInput().getType()) || sl.getRuntimeStarts() ||
        sl.getInput().getType().getRank() != 1)
      return std::nullopt;
    int64_t size = sl.getInput().getType().getNumElements(), step = sl.getSteps()[0];
    int64_t start = sl.getStarts()[0] < 0 ? sl.getStarts()[0] + size : sl.getStarts()[0];
    start = step > 0 ? std::clamp<int64_t>(start, 0, size) : std::clamp<int64_t>(start, -1, size - 1);
    if (n && (start < 0 || start + (n - 1) * step < 0 || start + (n - 1) * step >= size))
      return std::nullopt;
    SmallVector<Value> data = scalars(rewriter, loc, sl.getInput());
    SmallVector<Value> out;
    for (int64_t i = 0; i < n; ++i)
      out.push_back(data[start + i * step]);
    return out;
  }
  if (isa<ReshapeOp, CastOp>(op)) {
    Value in = op->getOperand(0);
    if (!isShapeValue(in.getType()) || cast<RankedTensorType>(in.getType()).getNumElements() != n)
      return std::nullopt;
    Type elt = type.getElementType();
    return elementwise(rewriter, loc, in, n,
                       [&](ArrayRef<Value> x) { return castScalar(rewriter, loc, x[0], elt); });
  }
  if (auto c = dyn_cast<ConcatOp>(op)) {
    if (!llvm::all_of(c.getInputs(), [](Value v) { return isShapeValue(v.getType()); }))
      return std::nullopt;
    SmallVector<Value> out;
    for (Value in : c.getInputs())
      llvm::append_range(out, scalars(rewriter, loc, in));
    return out;
  }
  if (auto bin = dyn_cast<BinaryOp>(op)) {
    BinaryKind kind = bin.getKind();
    if (!llvm::is_contained({BinaryKind::add, BinaryKind::sub, BinaryKind::mul, BinaryKind::div,
                             BinaryKind::max, BinaryKind::min},
                            kind) ||
        !broadcastable(op->getOperands(), n))
      return std::nullopt;
    if (isFloat(type.getElementType()))
      return elementwise(rewriter, loc, op->getOperands(), n, [&](ArrayRef<Value> x) -> Value {
        switch (kind) {
        case BinaryKind::add: return arith::AddFOp::create(rewriter, loc, x[0], x[1]);
        case BinaryKind::sub: return arith::SubFOp::create(rewriter, loc, x[0], x[1]);
        case BinaryKind::mul: return arith::MulFOp::create(rewriter, loc, x[0], x[1]);
        case BinaryKind::div: return arith::DivFOp::create(rewriter, loc, x[0], x[1]);
        // ONNX Max/Min propagate NaN.
        case BinaryKind::max: return arith::MaximumFOp::create(rewriter, loc, x[0], x[1]);
        default: return arith::MinimumFOp::create(rewriter, loc, x[0], x[1]);
        }
      });
    return elementwise(rewriter, loc, op->getOperands(), n, [&](ArrayRef<Value> x) -> Value {
      switch (kind) {
      case BinaryKind::add: return arith::AddIOp::create(rewriter, loc, x[0], x[1]);
      case BinaryKind::sub: return arith::SubIOp::create(rewriter, loc, x[0], x[1]);
      case BinaryKind::mul: return arith::MulIOp::create(rewriter, loc, x[0], x[1]);
      case BinaryKind::div: return safeDivSI(rewriter, loc, x[0], x[1]);
      case BinaryKind::max: return arith::MaxSIOp::create(rewriter, loc, x[0], x[1]);
      default: return arith::MinSIOp::create(rewriter, loc, x[0], x[1]);
      }
    });
  }
  if (auto cmp = dyn_cast<CompareOp>(op)) {
    std::optional<arith::CmpIPredicate> pred = predicate(cmp.getKind());
    if (!pred || !broadcastable(op->getOperands(), n))
      return std::nullopt;
    if (isFloat(getElementTypeOrSelf(cmp.getLhs()))) {
      // Ordered, but `ne` is true for NaN (as C++'s !=).
      arith::CmpFPredicate f = *pred == arith::CmpIPredicate::eq    ? arith::CmpFPredicate::OEQ
                               : *pred == arith::CmpIPredicate::ne  ? arith::CmpFPredicate::UNE
                               : *pred == arith::CmpIPredicate::slt ? arith::CmpFPredicate::OLT
                               : *pred == arith::CmpIPredicate::sle ? arith::CmpFPredicate::OLE
                               : *pred == arith::CmpIPredicate::sgt ? arith::CmpFPredicate::OGT
                                                                    : arith::CmpFPredicate::OGE;
      return elementwise(rewriter, loc, op->getOperands(), n, [&](ArrayRef<Value> x) -> Value {
        return arith::CmpFOp::create(rewriter, loc, f, x[0], x[1]);
      });
    }
    return elementwise(rewriter, loc, op->getOperands(), n, [&](ArrayRef<Value> x) -> Value {
      return arith::CmpIOp::create(rewriter, loc, *pred, x[0], x[1]);
    });
  }
  if (isa<WhereOp>(op)) {
    if (!broadcastable(op->getOperands(), n))
      return std::nullopt;
    return elementwise(rewriter, loc, op->getOperands(), n, [&](ArrayRef<Value> x) -> Value {
      return arith::SelectOp::create(rewriter, loc, x[0], x[1], x[2]);
    });
  }
  return std::nullopt;
}

/// Gather with constant indices, slice, reshape, cast, concat and integer
/// arithmetic, comparisons and selects of shape values.
struct ShapeValueOps : RewritePattern {
  ShapeValueOps(MLIRContext *ctx) : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/2, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    if (op->getNumResults() != 1 || !isShapeValue(op->getResult(0).getType()))
      return failure();
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    std::optional<SmallVector<Value>> out = shapeEntries(op, type, rewriter);
    if (!out)
      return failure();
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, type, *out);
    return success();
  }
};

/// Range(start, limit, delta): ceil((limit - start) / delta) elements,
/// element i = start + i * delta.
struct RangeLowering : OpRewritePattern<RangeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RangeOp op, PatternRewriter &rewriter) const override {
    auto out = cast<RankedTensorType>(op.getType());
    Type elt = out.getElementType();
    if (out.getRank() != 1 || !(elt.isSignlessInteger() || isa<FloatType>(elt)))
      return rewriter.notifyMatchFailure(op, "element type not lowered yet");
    Location loc = op.getLoc();
    auto scalar = [&](Value v) {
      return tensor::ExtractOp::create(rewriter, loc, v, ValueRange{}).getResult();
    };
    Value start = scalar(op.getStart()), limit = scalar(op.getLimit()),
          delta = scalar(op.getDelta());
    Type index = rewriter.getIndexType();
    Value count;
    if (isa<FloatType>(elt)) {
      // As onnxruntime: the span in the element type, the quotient in
      // double. NaN or a negative count is none, and a huge one saturates
      // (the runtime refuses it as a size).
      Type f64 = rewriter.getF64Type();
      auto wide = [&](Value v) -> Value {
        return elt == f64 ? v : arith::ExtFOp::create(rewriter, loc, f64, v).getResult();
      };
      Value n = arith::DivFOp::create(
          rewriter, loc, wide(arith::SubFOp::create(rewriter, loc, limit, start)), wide(delta));
      n = math::CeilOp::create(rewriter, loc, n);
      count = saturatingToInt(rewriter, loc, n, rewriter.getI64Type());
      count = arith::IndexCastOp::create(rewriter, loc, index, count);
    } else {
      // (A zero delta -- invalid -- must not trap the shape function; the
      // run is refused instead.)
      Value nonzero = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::ne, delta,
          arith::ConstantOp::create(rewriter, loc, rewriter.getIntegerAttr(elt, 0)));
      cf::AssertOp::create(rewriter, loc, nonzero, describeNode(op) + ": delta must not be 0");
      Value span = arith::SubIOp::create(rewriter, loc, limit, start);
      count = arith::IndexCastOp::create(rewriter, loc, index,
                                         safeDivSI(rewriter, loc, span, delta, /*ceil=*/true));
    }
    count = arith::MaxSIOp::create(rewriter, loc, count,
                                   arith::ConstantIndexOp::create(rewriter, loc, 0));
    Value init = tensor::EmptyOp::create(rewriter, loc, out.getShape(), elt, ValueRange{count});
    SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(1, rewriter.getContext())};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out}, ValueRange{}, ValueRange{init}, maps,
        SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange) {
          Value i = linalg::IndexOp::create(b, l, 0);
          Value step;
          if (isa<FloatType>(elt)) {
            Value fi = arith::UIToFPOp::create(
                b, l, elt, arith::IndexCastOp::create(b, l, b.getI64Type(), i));
            step = arith::MulFOp::create(b, l, fi, delta);
            linalg::YieldOp::create(b, l, ValueRange{arith::AddFOp::create(b, l, start, step)});
          } else {
            step = arith::MulIOp::create(b, l, arith::IndexCastOp::create(b, l, elt, i), delta);
            linalg::YieldOp::create(b, l, ValueRange{arith::AddIOp::create(b, l, start, step)});
          }
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void populateShapeValuePatterns(RewritePatternSet &patterns) {
  patterns.add<ShapeValueOps, RangeLowering>(patterns.getContext());
}

} // namespace kiln::conversion

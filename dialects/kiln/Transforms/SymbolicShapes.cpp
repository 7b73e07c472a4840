//===- SymbolicShapes.cpp - dynamic dims as symbols with equalities --------===//
//
// See SymbolicShapes.h.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/Transforms/SymbolicShapes.h"

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/IR/TypeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace kiln {
namespace {

constexpr int kMaxDepth = 64;
constexpr int kMaxNesting = 1024;
constexpr int64_t kMaxElements = 64;

/// The name of dim `d` of argument `i` (kiln.dim_names), or "".
StringRef dimName(func::FuncOp fn, unsigned i, int64_t d) {
  auto names = fn.getArgAttrOfType<ArrayAttr>(i, "kiln.dim_names");
  if (!names || d >= (int64_t)names.size())
    return {};
  auto s = dyn_cast<StringAttr>(names[d]);
  return s ? s.getValue() : StringRef();
}

/// An axis attribute in [0, rank): ODS returns I64Attr as uint64_t, so a
/// negative axis must be read as signed before it is compared.
int64_t normalizedAxis(uint64_t attr, int64_t rank) {
  int64_t axis = (int64_t)attr;
  return axis < 0 ? axis + rank : axis;
}

/// Dim `i` of `v` counted from the right of a result of rank `rank`.
std::optional<std::pair<Value, int64_t>> aligned(Value v, int64_t rank, int64_t d) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t)
    return std::nullopt;
  int64_t j = d - (rank - t.getRank());
  if (j < 0 || !t.isDynamicDim(j))
    return std::nullopt;
  return std::make_pair(v, j);
}

std::optional<SmallVector<SymbolicDim>> elements(Value v, int depth);

/// Cancels a reshape target's entries but entry `skip` against the input's
/// dims: copies (0) claim the dim at their own position first, then each
/// size claims an unclaimed dynamic input dim of that size; `used` marks
/// the claimed dims. The product of the positive constants, or nothing for
/// any other entry.
std::optional<int64_t> cancelEntries(ReshapeOp r, ArrayRef<SymbolicDim> target, int64_t skip,
                                     SmallVectorImpl<bool> &used) {
  auto in = r.getInput().getType();
  used.assign(in.getRank(), false);
  auto isCopy = [&](const SymbolicDim &e) {
    return e.isConstant() && e.constant == 0 && !r.getAllowzero();
  };
  for (auto [i, e] : llvm::enumerate(target)) {
    if ((int64_t)i == skip || !isCopy(e))
      continue;
    if ((int64_t)i >= in.getRank() || used[i])
      return std::nullopt;
    used[i] = true;
  }
  int64_t product = 1;
  for (auto [i, e] : llvm::enumerate(target)) {
    if ((int64_t)i == skip || isCopy(e))
      continue;
    if (e.isConstant() && e.constant > 0) {
      product *= e.constant;
    } else if (!e.unknown && !e.isConstant()) {
      bool found = false;
      for (int64_t j = 0; j < in.getRank() && !found; ++j)
        if (!used[j] && in.isDynamicDim(j) && symbolicDim(r.getInput(), j) == e)
          used[j] = found = true;
      if (!found)
        return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  return product;
}

/// Dim `d` of a reshape's result as a dim its target names: a symbol, a 0
/// copying the input's dim, or the -1 entry where the other entries account
/// for every input dim but one dynamic dim (Llama's [0, 0, 1, -1, 64] on
/// [B, H, S, 64] inserts a unit axis: its -1 is S).
std::optional<std::pair<Value, int64_t>> reshapeTargetDim(ReshapeOp r, int64_t d) {
  auto target = r.getShape() ? elements(r.getShape(), 0) : std::nullopt;
  if (!target || d >= (int64_t)target->size())
    return std::nullopt;
  auto isCopy = [&](const SymbolicDim &e) {
    return e.isConstant() && e.constant == 0 && !r.getAllowzero();
  };
  const SymbolicDim &entry = (*target)[d];
  if (isCopy(entry))
    return std::make_pair(r.getInput(), d);
  if (entry.isSymbol())
    return entry.symbol();
  if (!entry.isConstant() || entry.constant != -1)
    return std::nullopt;
  // Cancel the input's dims against the other entries.
  auto in = r.getInput().getType();
  SmallVector<bool> used;
  std::optional<int64_t> targetProduct = cancelEntries(r, *target, d, used);
  if (!targetProduct)
    return std::nullopt;
  int64_t staticProduct = 1, dynamicDim = -1;
  for (int64_t j = 0; j < in.getRank(); ++j) {
    if (used[j])
      continue;
    if (!in.isDynamicDim(j)) {
      staticProduct *= in.getDimSize(j);
    } else {
      if (dynamicDim >= 0)
        return std::nullopt;
      dynamicDim = j;
    }
  }
  if (dynamicDim < 0 || staticProduct != *targetProduct)
    return std::nullopt;
  return std::make_pair(r.getInput(), dynamicDim);
}

/// An operand dim the graph says equals dim `d` of `result` (an op result).
std::optional<std::pair<Value, int64_t>> sameDim(Value result, int64_t d) {
  Operation *op = result.getDefiningOp();
  if (!op)
    return std::nullopt;
  int64_t rank = cast<RankedTensorType>(result.getType()).getRank();
  if (isa<UnaryOp, CastOp, SoftmaxOp, RmsNormOp, LayerNormOp, RopeOp, CumsumOp,
          tensor::CastOp>(op))
    return std::make_pair(op->getOperand(0), d);
  // Fused row-wise blocks keep every dim of their rows but the last.
  if (isa<GatedMlpOp, MoeOp>(op) && d < rank - 1)
    return std::make_pair(op->getOperand(0), d);
  if (isa<BinaryOp, CompareOp, WhereOp>(op)) {
    // Broadcasting: dynamic dims meeting are one size.
    for (Value o : op->getOperands())
      if (auto a = aligned(o, rank, d))
        return a;
    return std::nullopt;
  }
  if (auto mm = dyn_cast<MatmulOp>(op)) {
    auto lt = cast<RankedTensorType>(mm.getLhs().getType());
    auto rt = cast<RankedTensorType>(mm.getRhs().getType());
    if (lt.getRank() < 2 || rt.getRank() < 2)
      return std::nullopt;
    if (d == rank - 1)
      return std::make_pair(mm.getRhs(), rt.getRank() - 1);
    if (d == rank - 2)
      return std::make_pair(mm.getLhs(), lt.getRank() - 2);
    if (auto a = aligned(mm.getLhs(), rank, d))
      return a;
    return aligned(mm.getRhs(), rank, d);
  }
  if (auto tr = dyn_cast<TransposeOp>(op))
    return std::make_pair(tr.getInput(), tr.getPerm()[d]);
  if (auto g = dyn_cast<GatherOp>(op)) {
    int64_t dataRank = g.getData().getType().getRank();
    int64_t axis = normalizedAxis(g.getAxis(), dataRank);
    int64_t ri = g.getIndices().getType().getRank();
    if (d < axis)
      return std::make_pair(g.getData(), d);
    if (d < axis + ri)
      return std::make_pair(g.getIndices(), d - axis);
    return std::make_pair(g.getData(), d - ri + 1);
  }
  if (auto g = dyn_cast<GatherNdOp>(op)) {
    // indices.shape[:-1] + data.shape[batch_dims + indices.shape[-1]:]
    auto it = g.getIndices().getType();
    int64_t ri = it.getRank();
    if (d < ri - 1)
      return std::make_pair(g.getIndices(), d);
    if (it.isDynamicDim(ri - 1))
      return std::nullopt;
    return std::make_pair(g.getData(), (int64_t)g.getBatchDims() + it.getDimSize(ri - 1) +
                                           (d - (ri - 1)));
  }
  if (auto c = dyn_cast<ConcatOp>(op)) {
    int64_t axis = normalizedAxis(c.getAxis(), rank);
    if (d != axis)
      return std::make_pair(c.getInputs().front(), d);
    return std::nullopt;
  }
  if (auto r = dyn_cast<ReshapeOp>(op)) {
    if (auto dim = reshapeTargetDim(r, d))
      return dim;
    if (!r.getShape()) {
      // The result's one dynamic dim holds what its static dims leave: the
      // input's one dim not known constant, when the constants match.
      auto in = r.getInput().getType();
      int64_t inProduct = 1, outProduct = 1, open = -1;
      for (int64_t j = 0; j < in.getRank(); ++j) {
        SymbolicDim sj = in.isDynamicDim(j) ? symbolicDim(r.getInput(), j)
                                            : SymbolicDim::ofConstant(in.getDimSize(j));
        if (sj.isConstant()) {
          inProduct *= sj.constant;
        } else if (open < 0) {
          open = j;
        } else {
          open = -2;
          break;
        }
      }
      for (int64_t j = 0; j < rank; ++j)
        if (j != d)
          outProduct *= r.getType().getDimSize(j);
      if (open >= 0 && inProduct != 0 && inProduct == outProduct)
        return std::make_pair(r.getInput(), open);
    }
    // Unit dims added or removed around it (an unsqueeze, a squeeze).
    ArrayRef<int64_t> in = r.getInput().getType().getShape(), out = r.getType().getShape();
    if (in.size() < out.size()) {
      if (auto groups = reshapeGroups(out, in))
        for (auto [j, g] : llvm::enumerate(*groups))
          if (llvm::is_contained(g, d) && ShapedType::isDynamic(in[j]))
            return std::make_pair(r.getInput(), (int64_t)j);
    } else if (in.size() > out.size()) {
      if (auto groups = reshapeGroups(in, out); groups && ShapedType::isDynamic(out[d]))
        for (int64_t j : (*groups)[d])
          if (ShapedType::isDynamic(in[j]))
            return std::make_pair(r.getInput(), j);
    }
    return std::nullopt;
  }
  if (auto e = dyn_cast<ExpandOp>(op)) {
    // Dim d is max(input dim, target entry): a target 1 keeps the input's
    // dim, a symbol over an input 1 (or a new axis) is that symbol.
    // (Input and target align from the right: a shorter target leaves
    // the leading dims to the input.)
    auto target = e.getShape() ? elements(e.getShape(), 0) : std::nullopt;
    auto in = e.getInput().getType();
    int64_t j = d - (rank - in.getRank());
    if (!e.getShape()) // the result type: a dynamic dim keeps the input's
      return j >= 0 ? std::optional(std::make_pair(e.getInput(), j)) : std::nullopt;
    int64_t t = target ? d - (rank - (int64_t)target->size()) : -1;
    if (target && t < 0 && j >= 0)
      return std::make_pair(e.getInput(), j);
    if (!target || t < 0)
      return std::nullopt;
    const SymbolicDim &entry = (*target)[t];
    if (entry.isConstant() && entry.constant == 1 && j >= 0)
      return std::make_pair(e.getInput(), j);
    if (entry.isSymbol() &&
        (j < 0 || in.getDimSize(j) == 1 || symbolicDim(e.getInput(), j) == entry))
      return entry.symbol();
    return std::nullopt;
  }
  // Scatters keep their data's dims; GatherElements has its indices'.
  if (isa<ScatterElementsOp, ScatterNdOp>(op))
    return std::make_pair(op->getOperand(0), d);
  if (auto g = dyn_cast<GatherElementsOp>(op))
    return std::make_pair(g.getIndices(), d);
  // TopK keeps every dim but its axis (k there).
  if (auto t = dyn_cast<TopKOp>(op)) {
    int64_t axis = normalizedAxis(t.getAxis(), rank);
    if (d != axis)
      return std::make_pair(t.getInput(), d);
    return std::nullopt;
  }
  // A reduction keeps the dims it does not reduce (in order; reduced
  // ones stay as 1 with keepdims).
  if (auto r = dyn_cast<ReduceOp>(op)) {
    int64_t inRank = r.getInput().getType().getRank();
    if (r.getRuntimeAxes() || r.getAxes().empty())
      return std::nullopt;
    SmallVector<bool> reduced(inRank, false);
    for (int64_t a : r.getAxes())
      if (a + (a < 0 ? inRank : 0) >= 0 && a + (a < 0 ? inRank : 0) < inRank)
        reduced[a + (a < 0 ? inRank : 0)] = true;
    int64_t at = 0;
    for (int64_t j = 0; j < inRank; ++j) {
      if (reduced[j] && !r.getKeepdims())
        continue;
      if (at++ == d)
        return reduced[j] ? std::nullopt : std::optional(std::make_pair(r.getInput(), j));
    }
    return std::nullopt;
  }
  if (auto s = dyn_cast<SliceOp>(op)) {
    if (s.getRuntimeStarts() || d >= (int64_t)s.getStarts().size())
      return std::nullopt;
    if (s.getStarts()[d] == 0 && s.getSteps()[d] == 1 && s.getEnds()[d] >= INT32_MAX)
      return std::make_pair(s.getInput(), d);
    return std::nullopt;
  }
  if (auto a = dyn_cast<AttentionOp>(op)) {
    if (result != a->getResult(0))
      return std::nullopt;
    return d < 3 ? std::make_pair(a.getQuery(), d) : std::make_pair(a.getValue(), d);
  }
  return std::nullopt;
}

/// Integers of a constant 0-D/1-D tensor.
std::optional<SmallVector<int64_t>> constantValues(Value v) {
  DenseIntElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<int64_t> out;
  for (const APInt &x : attr.getValues<APInt>())
    out.push_back(x.getBitWidth() == 1 ? (int64_t)x.getZExtValue() : x.getSExtValue());
  return out;
}

std::optional<SmallVector<SymbolicDim>> elements(Value v, int depth);

/// Elementwise `fn` on two lists with broadcasting of a single entry.
template <typename Fn>
std::optional<SmallVector<SymbolicDim>> zipWith(Value x, Value y, int depth, Fn fn) {
  auto a = elements(x, depth + 1), b = elements(y, depth + 1);
  if (!a || !b || (a->size() != b->size() && a->size() != 1 && b->size() != 1))
    return std::nullopt;
  size_t n = std::max(a->size(), b->size());
  SmallVector<SymbolicDim> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back(fn((*a)[a->size() == 1 ? 0 : i], (*b)[b->size() == 1 ? 0 : i]));
  return out;
}

std::optional<SmallVector<SymbolicDim>> elements(Value v, int depth) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (depth > kMaxDepth || !type || type.getRank() > 1 || !type.hasStaticShape() ||
      type.getNumElements() > kMaxElements || !type.getElementType().isIntOrIndex())
    return std::nullopt;
  if (auto c = constantValues(v)) {
    SmallVector<SymbolicDim> out;
    for (int64_t x : *c)
      out.push_back(SymbolicDim::ofConstant(x));
    return out;
  }
  Operation *op = v.getDefiningOp();
  if (!op)
    return std::nullopt;
  if (auto s = dyn_cast<ShapeOp>(op)) {
    SmallVector<SymbolicDim> out;
    for (int64_t i = 0; i < s.getInput().getType().getRank(); ++i)
      out.push_back(symbolicDim(s.getInput(), i));
    return out;
  }
  if (isa<ReshapeOp, CastOp, tensor::CastOp>(op))
    return elements(op->getOperand(0), depth + 1);
  if (auto g = dyn_cast<GatherOp>(op)) {
    auto data = elements(g.getData(), depth + 1);
    auto at = constantValues(g.getIndices());
    if (!data || !at || g.getData().getType().getRank() != 1)
      return std::nullopt;
    SmallVector<SymbolicDim> out;
    for (int64_t i : *at) {
      if (i < 0)
        i += data->size();
      if (i < 0 || i >= (int64_t)data->size())
        return std::nullopt;
      out.push_back((*data)[i]);
    }
    return out;
  }
  if (auto c = dyn_cast<ConcatOp>(op)) {
    SmallVector<SymbolicDim> out;
    for (Value in : c.getInputs()) {
      auto part = elements(in, depth + 1);
      if (!part || cast<RankedTensorType>(in.getType()).getRank() != 1)
        return std::nullopt;
      out.append(*part);
    }
    return out;
  }
  if (auto s = dyn_cast<SliceOp>(op)) {
    auto in = elements(s.getInput(), depth + 1);
    if (!in || s.getRuntimeStarts() || s.getStarts().size() != 1)
      return std::nullopt;
    int64_t n = in->size(), step = s.getSteps()[0];
    int64_t start = s.getStarts()[0], end = s.getEnds()[0];
    if (step != 1)
      return std::nullopt;
    start = std::clamp<int64_t>(start < 0 ? start + n : start, 0, n);
    end = std::clamp<int64_t>(end < 0 ? end + n : end, 0, n);
    return SmallVector<SymbolicDim>(in->begin() + start, in->begin() + std::max(start, end));
  }
  if (auto b = dyn_cast<BinaryOp>(op)) {
    BinaryKind kind = b.getKind();
    return zipWith(b.getLhs(), b.getRhs(), depth, [&](SymbolicDim x, SymbolicDim y) {
      if (x.isConstant() && y.isConstant()) {
        switch (kind) {
        case BinaryKind::add: return SymbolicDim::ofConstant(x.constant + y.constant);
        case BinaryKind::sub: return SymbolicDim::ofConstant(x.constant - y.constant);
        case BinaryKind::mul: return SymbolicDim::ofConstant(x.constant * y.constant);
        case BinaryKind::div:
          if (y.constant != 0)
            return SymbolicDim::ofConstant(x.constant / y.constant);
          return SymbolicDim{};
        case BinaryKind::max: return SymbolicDim::ofConstant(std::max(x.constant, y.constant));
        case BinaryKind::min: return SymbolicDim::ofConstant(std::min(x.constant, y.constant));
        default: return SymbolicDim{};
        }
      }
      // Sums and differences of sizes are linear forms (past + new).
      if (kind == BinaryKind::add)
        return addDims(x, y);
      if (kind == BinaryKind::sub)
        return addDims(x, scaleDim(y, -1));
      if (kind == BinaryKind::mul && x.isConstant())
        return scaleDim(y, x.constant);
      if (kind == BinaryKind::mul && y.isConstant())
        return scaleDim(x, y.constant);
      // max(x, x), min(x, x), x / 1 keep the form.
      if ((kind == BinaryKind::max || kind == BinaryKind::min) && !x.unknown && x == y)
        return x;
      if (!x.unknown && y.isConstant() && y.constant == 1 && kind == BinaryKind::div)
        return x;
      return SymbolicDim{};
    });
  }
  if (auto c = dyn_cast<CompareOp>(op)) {
    CompareKind kind = c.getKind();
    if (kind != CompareKind::eq && kind != CompareKind::ne)
      return std::nullopt;
    bool eq = kind == CompareKind::eq;
    return zipWith(c.getLhs(), c.getRhs(), depth, [&](SymbolicDim x, SymbolicDim y) {
      if (x.isConstant() && y.isConstant())
        return SymbolicDim::ofConstant((x.constant == y.constant) == eq);
      if (!x.unknown && x == y)
        return SymbolicDim::ofConstant(eq);
      // A dim is never negative (Expand's where(shape == -1, 1, shape)).
      if ((x.nonNegative() && y.isConstant() && y.constant < 0) ||
          (y.nonNegative() && x.isConstant() && x.constant < 0))
        return SymbolicDim::ofConstant(!eq);
      return SymbolicDim{};
    });
  }
  if (auto w = dyn_cast<WhereOp>(op)) {
    auto cond = elements(w.getCondition(), depth + 1);
    auto t = elements(w.getTrueValue(), depth + 1), f = elements(w.getFalseValue(), depth + 1);
    if (!cond || !t || !f)
      return std::nullopt;
    size_t n = std::max({cond->size(), t->size(), f->size()});
    auto at = [&](const SmallVector<SymbolicDim> &l, size_t i) -> std::optional<SymbolicDim> {
      if (l.size() == n)
        return l[i];
      if (l.size() == 1)
        return l[0];
      return std::nullopt;
    };
    SmallVector<SymbolicDim> out;
    for (size_t i = 0; i < n; ++i) {
      auto ci = at(*cond, i), ti = at(*t, i), fi = at(*f, i);
      if (!ci || !ti || !fi)
        return std::nullopt;
      out.push_back(!ci->isConstant() ? SymbolicDim{} : ci->constant ? *ti : *fi);
    }
    return out;
  }
  return std::nullopt;
}

/// Shape computations whose entries are all constants: a constant.
struct FoldSymbolicConstant : RewritePattern {
  FoldSymbolicConstant(MLIRContext *ctx) : RewritePattern(MatchAnyOpTypeTag(), 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    if (!isa<GatherOp, ConcatOp, ReshapeOp, CastOp, SliceOp, BinaryOp, CompareOp, WhereOp,
             ShapeOp>(op) ||
        op->getNumResults() != 1)
      return failure();
    auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!type || !type.hasStaticShape() || !type.getElementType().isSignlessInteger())
      return failure();
    auto e = elements(op->getResult(0), 0);
    if (!e || (int64_t)e->size() != type.getNumElements() ||
        llvm::any_of(*e, [](const SymbolicDim &d) { return !d.isConstant(); }))
      return failure();
    unsigned bits = type.getElementType().getIntOrFloatBitWidth();
    SmallVector<APInt> values;
    for (const SymbolicDim &d : *e)
      values.push_back(APInt(bits, (uint64_t)d.constant, /*isSigned=*/bits > 1, /*implicitTrunc=*/true));
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, DenseIntElementsAttr::get(type, values));
    return success();
  }
};

/// `target` as a constant of the old target's type (i64 or i32 entries).
Value constantTarget(PatternRewriter &rewriter, Location loc, ArrayRef<int64_t> target,
                     Type oldType) {
  auto type = RankedTensorType::get({(int64_t)target.size()}, rewriter.getI64Type());
  Value shape = arith::ConstantOp::create(rewriter, loc, DenseIntElementsAttr::get(type, target));
  if (shape.getType() != oldType)
    shape = CastOp::create(rewriter, loc, oldType, shape);
  return shape;
}

/// The value of a reshape target's literal -1 when its other entries are
/// constants or sizes of the input's dims (each claiming one dim of that
/// size, anywhere) and the input's dims left are static; `at` its index.
std::optional<int64_t> minusOneValue(ReshapeOp op, ArrayRef<SymbolicDim> target,
                                     std::optional<int64_t> &at) {
  for (auto [i, e] : llvm::enumerate(target))
    if (e.isConstant() && e.constant == -1) {
      if (at)
        return std::nullopt;
      at = i;
    }
  SmallVector<bool> used;
  std::optional<int64_t> targetProduct =
      at ? cancelEntries(op, target, *at, used) : std::nullopt;
  if (!targetProduct || *targetProduct == 0)
    return std::nullopt;
  auto in = op.getInput().getType();
  int64_t inProduct = 1;
  for (int64_t j = 0; j < in.getRank(); ++j) {
    if (used[j])
      continue;
    if (in.isDynamicDim(j))
      return std::nullopt;
    inProduct *= in.getDimSize(j);
  }
  // (An empty input would solve the -1 to 0, which a constant target reads
  // as a copy of the input's dim.)
  if (inProduct == 0 || inProduct % *targetProduct)
    return std::nullopt;
  return inProduct / *targetProduct;
}

/// A reshape target whose entries are constants or the input's own dims
/// (0) with at most one other (-1): the constant target.
struct SymbolicReshapeTarget : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op, PatternRewriter &rewriter) const override {
    if (!op.getShape() || constantValues(op.getShape()))
      return failure();
    auto e = elements(op.getShape(), 0);
    if (!e)
      return failure();
    // allowzero only changes what a literal 0 means: without one, the
    // target may copy dims with 0 all the same (a dim of size 0 copies as 0).
    if (op.getAllowzero() &&
        llvm::any_of(*e, [](const SymbolicDim &d) { return d.isConstant() && d.constant == 0; }))
      return failure();
    int64_t inRank = op.getInput().getType().getRank();
    SmallVector<int64_t> target;
    int unknown = 0;
    for (auto [i, d] : llvm::enumerate(*e)) {
      if (d.isConstant() && d.constant >= -1) {
        target.push_back(d.constant);
        unknown += d.constant == -1;
      } else if (!d.unknown && !d.isConstant() && (int64_t)i < inRank &&
                 symbolicDim(op.getInput(), i) == d) {
        target.push_back(0);
      } else {
        target.push_back(-1);
        ++unknown;
      }
    }
    if (unknown > 1) {
      // A literal -1 beside sizes of the input's dims at other positions
      // (DeepSeek's view(b, T, -1, 32) of [b, 1, T, 128]) is what the
      // input's static dims leave: then only those sizes stay unknown.
      std::optional<int64_t> at, value = minusOneValue(op, *e, at);
      if (!value)
        return failure();
      target[*at] = *value;
      if (--unknown > 1)
        return failure();
    }
    Value shape = constantTarget(rewriter, op.getLoc(), target, op.getShape().getType());
    rewriter.modifyOpInPlace(op, [&] {
      op.getShapeMutable().assign(shape);
      op.setAllowzero(false);
    });
    return success();
  }
};

/// An expand target whose entries are constants or (1) the input's own
/// dims: the constant target.
struct SymbolicExpandTarget : OpRewritePattern<ExpandOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ExpandOp op, PatternRewriter &rewriter) const override {
    if (!op.getShape() || constantValues(op.getShape()))
      return failure();
    auto e = elements(op.getShape(), 0);
    if (!e)
      return failure();
    int64_t inRank = op.getInput().getType().getRank(), rank = e->size();
    SmallVector<int64_t> target;
    for (auto [i, d] : llvm::enumerate(*e)) {
      int64_t j = (int64_t)i - (rank - inRank);
      if (d.isConstant() && d.constant >= 0)
        target.push_back(d.constant);
      else if (!d.unknown && !d.isConstant() && j >= 0 && symbolicDim(op.getInput(), j) == d)
        target.push_back(1);
      else
        return failure();
    }
    Value shape = constantTarget(rewriter, op.getLoc(), target, op.getShape().getType());
    rewriter.modifyOpInPlace(op, [&] { op.getShapeMutable().assign(shape); });
    return success();
  }
};

/// Reshape(Transpose(Reshape(x, [N.., L, D]), swap last two), [M.., D, L])
/// where M.. are x's own leading dims and L, D its last two (what torch's
/// sdpa export writes for Kᵀ with dynamic lengths: [-1, L, D], then
/// shape[:-2] + [D, L]) -> Transpose(x, swap last two). A tensor.cast keeps
/// the old type for the users until inference refines them.
struct SymbolicTransposeThroughReshapes : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp outer, PatternRewriter &rewriter) const override {
    auto t = outer.getInput().getDefiningOp<TransposeOp>();
    auto inner = t ? t.getInput().getDefiningOp<ReshapeOp>() : ReshapeOp();
    if (!inner)
      return failure();
    Value x = inner.getInput();
    auto xt = cast<RankedTensorType>(x.getType());
    auto it = inner.getType();
    auto ot = outer.getType();
    int64_t r = xt.getRank(), ri = it.getRank();
    ArrayRef<int64_t> perm = t.getPerm();
    if (r < 2 || ri < 2 || ot.getRank() != r || (xt.hasStaticShape() && ot.hasStaticShape()) ||
        perm[ri - 2] != ri - 1 || perm[ri - 1] != ri - 2)
      return failure();
    for (int64_t i = 0; i + 2 < ri; ++i)
      if (perm[i] != i)
        return failure();
    if (!sameSize(inner, ri - 2, x, r - 2) || !sameSize(inner, ri - 1, x, r - 1) ||
        !sameSize(outer, r - 2, x, r - 1) || !sameSize(outer, r - 1, x, r - 2))
      return failure();
    for (int64_t i = 0; i + 2 < r; ++i)
      if (!sameSize(outer, i, x, i))
        return failure();
    SmallVector<int64_t> swap;
    for (int64_t i = 0; i < r; ++i)
      swap.push_back(i);
    std::swap(swap[r - 2], swap[r - 1]);
    Value y = TransposeOp::create(rewriter, outer.getLoc(), x, swap);
    if (y.getType() != outer.getType())
      y = tensor::CastOp::create(rewriter, outer.getLoc(), outer.getType(), y);
    rewriter.replaceOp(outer, y);
    return success();
  }
};

} // namespace

namespace {
/// Symbols already found during one outermost query: target entries ask
/// for the dims of shapes that ask for theirs, layer after layer, so
/// without it a deep model costs exponential time. Dropped when that query
/// returns (rewrites between queries change the graph).
thread_local llvm::DenseMap<std::pair<Value, int64_t>, SymbolicDim> *known = nullptr;

SymbolicDim findSymbolicDim(Value v, int64_t d);
} // namespace

SymbolicDim addDims(const SymbolicDim &a, const SymbolicDim &b) {
  if (a.unknown || b.unknown)
    return {};
  SymbolicDim out = SymbolicDim::ofConstant(a.constant + b.constant);
  out.terms.append(a.terms.begin(), a.terms.end());
  out.terms.append(b.terms.begin(), b.terms.end());
  auto key = [](const SymbolicDim::Term &t) {
    return std::make_pair(t.tensor.getAsOpaquePointer(), t.index);
  };
  llvm::sort(out.terms, [&](const auto &x, const auto &y) { return key(x) < key(y); });
  // Merge a symbol's terms; drop those that cancel.
  SmallVector<SymbolicDim::Term, 1> merged;
  for (const SymbolicDim::Term &t : out.terms) {
    if (!merged.empty() && key(merged.back()) == key(t))
      merged.back().coeff += t.coeff;
    else
      merged.push_back(t);
    if (merged.back().coeff == 0)
      merged.pop_back();
  }
  out.terms = std::move(merged);
  return out;
}

SymbolicDim scaleDim(const SymbolicDim &a, int64_t c) {
  if (a.unknown)
    return {};
  if (c == 0)
    return SymbolicDim::ofConstant(0);
  SymbolicDim out = a;
  out.constant *= c;
  for (SymbolicDim::Term &t : out.terms)
    t.coeff *= c;
  return out;
}

SymbolicDim symbolicDim(Value v, int64_t d) {
  llvm::DenseMap<std::pair<Value, int64_t>, SymbolicDim> local;
  bool outermost = !known;
  if (outermost)
    known = &local;
  auto it = known->find({v, d});
  // Nested queries (a concatenation's parts, a target's entries) recurse;
  // past kMaxNesting a dim is its own symbol (equal to nothing else), so a
  // very deep graph cannot exhaust the stack.
  static thread_local int nesting = 0;
  SymbolicDim result;
  if (it != known->end()) {
    result = it->second;
  } else if (nesting >= kMaxNesting) {
    result = SymbolicDim::ofDim(v, d);
  } else {
    ++nesting;
    result = findSymbolicDim(v, d);
    --nesting;
  }
  (*known)[{v, d}] = result;
  if (outermost)
    known = nullptr;
  return result;
}

namespace {
SymbolicDim findSymbolicDim(Value v, int64_t d) {
  for (int step = 0; step < 4 * kMaxDepth; ++step) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t || d < 0 || d >= t.getRank())
      return {};
    if (!t.isDynamicDim(d))
      return SymbolicDim::ofConstant(t.getDimSize(d));
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      // Inputs naming a dim alike share it: the first one naming it.
      auto fn = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
      if (!fn || !arg.getOwner()->isEntryBlock())
        return SymbolicDim::ofDim(v, d);
      StringRef name = dimName(fn, arg.getArgNumber(), d);
      if (!name.empty())
        for (BlockArgument other : fn.getArguments()) {
          auto ot = dyn_cast<RankedTensorType>(other.getType());
          for (int64_t e = 0; ot && e < ot.getRank(); ++e)
            if (ot.isDynamicDim(e) && dimName(fn, other.getArgNumber(), e) == name)
              return SymbolicDim::ofDim(other, e);
        }
      return SymbolicDim::ofDim(v, d);
    }
    // Range(c, n, 1) has n - c entries: a size computed from shapes.
    if (auto range = v.getDefiningOp<RangeOp>()) {
      auto start = constantValues(range.getStart()), delta = constantValues(range.getDelta());
      auto limit = elements(range.getLimit(), 0);
      if (start && delta && start->size() == 1 && delta->size() == 1 && (*delta)[0] == 1 &&
          limit && limit->size() == 1 && !(*limit)[0].unknown) {
        SymbolicDim count = addDims((*limit)[0], SymbolicDim::ofConstant(-(*start)[0]));
        if (count.nonNegative())
          return count;
      }
      return SymbolicDim::ofDim(v, d);
    }
    // A constant slice of a dim whose size is a constant (a Range of
    // constants typed `?`): the count it keeps.
    if (auto sl = v.getDefiningOp<SliceOp>();
        sl && !sl.getRuntimeStarts() && d < (int64_t)sl.getStarts().size() &&
        sl.getSteps()[d] > 0) {
      SymbolicDim whole = symbolicDim(sl.getInput(), d);
      if (whole.isConstant()) {
        int64_t n = whole.constant, step = sl.getSteps()[d];
        auto clampTo = [&](int64_t x) { return std::clamp<int64_t>(x < 0 ? x + n : x, 0, n); };
        int64_t start = clampTo(sl.getStarts()[d]), end = clampTo(sl.getEnds()[d]);
        return SymbolicDim::ofConstant(end > start ? (end - start + step - 1) / step : 0);
      }
    }
    // A reshape or expand target's positive constant the type did not take.
    if (isa_and_nonnull<ReshapeOp, ExpandOp>(v.getDefiningOp()) &&
        v.getDefiningOp()->getNumOperands() == 2) {
      auto target = elements(v.getDefiningOp()->getOperand(1), 0);
      int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
      int64_t at = target ? d - (rank - (int64_t)target->size()) : -1; // right-aligned
      if (target && at >= 0 && (*target)[at].isConstant() &&
          (*target)[at].constant > (isa<ExpandOp>(v.getDefiningOp()) ? 1 : 0))
        return (*target)[at];
      // A sum of sizes there (past + new) is the dim: a reshape takes it,
      // an expand when the input's dim is 1 or the same sum.
      if (target && at >= 0 && !(*target)[at].unknown && !(*target)[at].isConstant() &&
          !(*target)[at].isSymbol() && (*target)[at].nonNegative()) {
        const SymbolicDim &entry = (*target)[at];
        Value in = v.getDefiningOp()->getOperand(0);
        auto it = cast<RankedTensorType>(in.getType());
        int64_t j = d - (rank - it.getRank());
        if (isa<ReshapeOp>(v.getDefiningOp()) || j < 0 || it.getDimSize(j) == 1 ||
            symbolicDim(in, j) == entry)
          return entry;
      }
    }
    // A concatenation's length is the sum of its parts'.
    if (auto c = v.getDefiningOp<ConcatOp>()) {
      int64_t axis = normalizedAxis(c.getAxis(), t.getRank());
      if (d == axis) {
        SymbolicDim sum = SymbolicDim::ofConstant(0);
        for (Value part : c.getInputs())
          sum = addDims(sum, symbolicDim(part, axis));
        return sum.unknown ? SymbolicDim::ofDim(v, d) : sum;
      }
    }
    std::optional<std::pair<Value, int64_t>> next = sameDim(v, d);
    if (!next)
      return SymbolicDim::ofDim(v, d);
    std::tie(v, d) = *next;
  }
  return SymbolicDim::ofDim(v, d);
}
} // namespace

std::optional<SmallVector<SymbolicDim>> symbolicElements(Value v) { return elements(v, 0); }

bool sameSize(Value a, int64_t i, Value b, int64_t j) {
  SymbolicDim x = symbolicDim(a, i), y = symbolicDim(b, j);
  return !x.unknown && x == y;
}

void populateSymbolicShapePatterns(RewritePatternSet &patterns) {
  patterns.add<FoldSymbolicConstant, SymbolicReshapeTarget, SymbolicExpandTarget,
               SymbolicTransposeThroughReshapes>(patterns.getContext());
}

} // namespace kiln

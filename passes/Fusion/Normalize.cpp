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
// - A tensor assembled by scattering parts into an empty one (Hugging
//   Face's MLA builds K as `k = q.new_empty(...); k[..., :dn] = k_nope;
//   k[..., dn:] = k_rope`: a ScatterND chain at constant indices, or with
//   dynamic dims at a grid of Ranges computed from shapes) is the
//   concatenation of the parts when they tile it.
// - Transposes move out of a concatenation of equally transposed parts,
//   and consecutive transposes compose: with the rule above, the key that
//   torch.export writes as transpose(scatter(transpose(k_nope), ...)) is
//   transpose(concat(k_nope, k_rope)), the Q Kᵀ form.
// - A slice of a product's columns is the product with the weight's column
//   slice (fused projections: one MatMul for gate and up, or q, k and v,
//   then Split): each projection becomes its own matmul the raising
//   patterns recognize, and the slice of the weight is a view bound at
//   compile time.
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/Patterns.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

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

/// The region of `data` one ScatterND writes: a box [lo, lo + n) on its
/// first q axes (whole on the others) when its constant indices enumerate
/// exactly that box in row-major order, the order of the updates' rows.
struct ScatterBox {
  SmallVector<int64_t> lo;           // per data axis
  SmallVector<SymbolicDim> extent;   // per data axis (sizes: constants or symbols)
};
std::optional<ScatterBox> scatterBox(ScatterNdOp op) {
  DenseIntElementsAttr indices;
  auto dt = dyn_cast<RankedTensorType>(op.getData().getType());
  auto it = dyn_cast<RankedTensorType>(op.getIndices().getType());
  auto ut = dyn_cast<RankedTensorType>(op.getUpdates().getType());
  if (op.getReduction() != ScatterReduction::none ||
      !matchPattern(op.getIndices(), m_Constant(&indices)) || !dt || !it || !ut ||
      !dt.hasStaticShape() || !it.hasStaticShape() || !ut.hasStaticShape())
    return std::nullopt;
  int64_t q = it.getShape().back();
  ArrayRef<int64_t> rows = it.getShape().drop_back();
  if (q < 1 || q > dt.getRank() || rows.empty())
    return std::nullopt;
  // The rows' shape is the box: [n_0 .. n_{q-1}] (or [n] for q = 1).
  SmallVector<int64_t> extent;
  if ((int64_t)rows.size() == q)
    extent.assign(rows.begin(), rows.end());
  else if (q == 1 && rows.size() == 1)
    extent = {rows[0]};
  else
    return std::nullopt;
  SmallVector<int64_t> values;
  for (const APInt &v : indices.getValues<APInt>())
    values.push_back(v.getSExtValue());
  ScatterBox box;
  box.lo.assign(values.begin(), values.begin() + q);
  SmallVector<int64_t> at(q, 0);
  for (size_t r = 0; r < values.size() / q; ++r) {
    for (int64_t k = 0; k < q; ++k)
      if (values[r * q + k] != box.lo[k] + at[k])
        return std::nullopt;
    for (int64_t k = q - 1; k >= 0; --k) {
      if (++at[k] < extent[k])
        break;
      at[k] = 0;
    }
  }
  for (int64_t k = 0; k < q; ++k)
    if (box.lo[k] < 0 || box.lo[k] + extent[k] > dt.getDimSize(k))
      return std::nullopt;
  for (int64_t d = q; d < dt.getRank(); ++d) {
    box.lo.push_back(0);
    extent.push_back(dt.getDimSize(d));
  }
  if (ut.getShape() != ArrayRef<int64_t>(extent))
    return std::nullopt;
  for (int64_t e : extent)
    box.extent.push_back(SymbolicDim::ofConstant(e));
  return box;
}

/// A 1-D index vector that runs lo, lo + 1, ...: Range(c, limit, 1) with a
/// constant start, or a constant unit-step slice of a constant Range. Its
/// first value and its length.
std::optional<std::pair<int64_t, SymbolicDim>> indexRun(Value v) {
  if (auto s = v.getDefiningOp<SliceOp>()) {
    if (s.getRuntimeStarts() || s.getStarts().size() != 1 || s.getSteps()[0] != 1)
      return std::nullopt;
    auto inner = indexRun(s.getInput());
    if (!inner || !inner->second.isConstant())
      return std::nullopt;
    int64_t n = inner->second.constant;
    auto clampTo = [&](int64_t x) { return std::clamp<int64_t>(x < 0 ? x + n : x, 0, n); };
    int64_t start = clampTo(s.getStarts()[0]), end = std::max(start, clampTo(s.getEnds()[0]));
    return std::pair(inner->first + start, SymbolicDim::ofConstant(end - start));
  }
  auto r = v.getDefiningOp<RangeOp>();
  if (!r)
    return std::nullopt;
  auto start = symbolicElements(r.getStart()), limit = symbolicElements(r.getLimit()),
       delta = symbolicElements(r.getDelta());
  if (!start || !limit || !delta || start->size() != 1 || limit->size() != 1 ||
      delta->size() != 1 || !(*start)[0].isConstant() || !(*delta)[0].isConstant() ||
      (*delta)[0].constant != 1 || (*limit)[0].unknown)
    return std::nullopt;
  SymbolicDim count = addDims((*limit)[0], SymbolicDim::ofConstant(-(*start)[0].constant));
  if (!count.nonNegative())
    return std::nullopt;
  return std::pair((*start)[0].constant, count);
}

/// The box a ScatterND writes when its indices are a grid computed from
/// shapes (torch's `x[..., a:b] = y` with dynamic dims: coordinate k is a
/// run along axis k, Reshape(Expand(Reshape(run), shape), [..., 1]),
/// concatenated on the last axis): the grid's rows are the updates' in
/// row-major order.
std::optional<ScatterBox> gridBox(ScatterNdOp op) {
  auto dt = dyn_cast<RankedTensorType>(op.getData().getType());
  auto it = dyn_cast<RankedTensorType>(op.getIndices().getType());
  auto ut = dyn_cast<RankedTensorType>(op.getUpdates().getType());
  auto coords = op.getIndices().getDefiningOp<ConcatOp>();
  if (op.getReduction() != ScatterReduction::none || !dt || !it || !ut || !coords)
    return std::nullopt;
  int64_t q = dt.getRank();
  if (it.getRank() != q + 1 || it.isDynamicDim(q) || it.getDimSize(q) != q ||
      ut.getRank() != q || (int64_t)coords.getInputs().size() != q ||
      ((int64_t)coords.getAxis() != q && (int64_t)coords.getAxis() != -1))
    return std::nullopt;
  ScatterBox box;
  for (auto [k, c] : llvm::enumerate(coords.getInputs())) {
    auto unit = c.getDefiningOp<ReshapeOp>(); // [..., 1]
    auto spread = unit ? unit.getInput().getDefiningOp<ExpandOp>() : ExpandOp();
    if (!spread || cast<RankedTensorType>(spread.getType()).getRank() != q ||
        unit.getType().getRank() != q + 1 || unit.getType().getDimSize(q) != 1)
      return std::nullopt;
    // The coordinate spans the whole grid, dim for dim (a permuted expand
    // of as many elements would scramble the rows).
    for (int64_t j = 0; j < q; ++j)
      if (!sameSize(spread, j, op.getIndices(), j) || !sameSize(unit, j, op.getIndices(), j))
        return std::nullopt;
    // The run along axis k: 1-D (the last axis), or reshaped to unit dims
    // but at k.
    Value run = spread.getInput();
    auto rt = cast<RankedTensorType>(run.getType());
    int64_t axis = q - 1;
    if (rt.getRank() > 1) {
      axis = -1;
      for (int64_t d = 0; d < rt.getRank(); ++d)
        if (rt.getDimSize(d) != 1) {
          if (axis >= 0)
            return std::nullopt;
          axis = d + (q - rt.getRank());
        }
      auto r = run.getDefiningOp<ReshapeOp>();
      if (!r || r.getInput().getType().getRank() != 1)
        return std::nullopt;
      run = r.getInput();
    }
    auto values = indexRun(run);
    if (axis != (int64_t)k || !values || values->first < 0)
      return std::nullopt;
    // The grid's extent on axis k and the updates' are the run's length.
    SymbolicDim count = values->second;
    if (!(symbolicDim(op.getIndices(), k) == count) || !(symbolicDim(op.getUpdates(), k) == count))
      return std::nullopt;
    if (count.isConstant() && !dt.isDynamicDim(k) &&
        values->first + count.constant > dt.getDimSize(k))
      return std::nullopt;
    box.lo.push_back(values->first);
    box.extent.push_back(count);
  }
  return box;
}

/// ScatterND(...ScatterND(base, i1, u1)..., in, un) whose boxes tile the
/// base along one axis -> Concat(u sorted by position) on that axis.
struct ScatterTilesAsConcat : OpRewritePattern<ScatterNdOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScatterNdOp last, PatternRewriter &rewriter) const override {
    for (Operation *user : last.getResult().getUsers())
      if (auto next = dyn_cast<ScatterNdOp>(user); next && next.getData() == last.getResult())
        return failure(); // not the end of the chain
    auto dt = dyn_cast<RankedTensorType>(last.getType());
    if (!dt)
      return failure();
    SmallVector<std::pair<ScatterBox, Value>> parts;
    SmallVector<std::pair<Operation *, ScatterNdOp>> shapeReaders;
    for (ScatterNdOp op = last; op;) {
      std::optional<ScatterBox> box = scatterBox(op);
      if (!box)
        box = gridBox(op);
      if (!box)
        return failure();
      parts.push_back({*box, op.getUpdates()});
      auto prev = op.getData().getDefiningOp<ScatterNdOp>();
      // Besides the next scatter, a link may be read for its shape only
      // (torch sizes the next part by a slice of it): that is its data's.
      auto shapeOnly = [&](Operation *u) {
        if (isa<ShapeOp>(u))
          return true;
        auto sl = dyn_cast<SliceOp>(u);
        return sl && sl.getInput() == prev.getResult() &&
               llvm::count(sl->getOperands(), prev.getResult()) == 1 &&
               llvm::all_of(sl->getUsers(), [](Operation *x) { return isa<ShapeOp>(x); });
      };
      if (prev && llvm::all_of(prev->getUsers(),
                               [&](Operation *u) { return u == op || shapeOnly(u); })) {
        for (Operation *u : prev->getUsers())
          if (u != op)
            shapeReaders.push_back({u, prev});
        op = prev;
      } else {
        op = ScatterNdOp();
      }
    }
    // One axis where the boxes differ from the base; along it they must
    // cover it exactly, from 0 in order.
    int64_t axis = -1;
    for (int64_t d = 0; d < dt.getRank(); ++d) {
      SymbolicDim whole = symbolicDim(last, d);
      for (auto &[box, part] : parts)
        if (whole.unknown || !(box.extent[d] == whole) || box.lo[d] != 0) {
          if (axis >= 0 && axis != d)
            return failure();
          axis = d;
        }
    }
    if (axis < 0)
      axis = 0;
    llvm::sort(parts, [&](auto &a, auto &b) { return a.first.lo[axis] < b.first.lo[axis]; });
    SymbolicDim next = SymbolicDim::ofConstant(0);
    for (auto &[box, part] : parts) {
      if (!next.isConstant() || box.lo[axis] != next.constant)
        return failure();
      next = addDims(next, box.extent[axis]);
    }
    if (!(next == symbolicDim(last, axis)))
      return failure();
    for (auto &[reader, link] : shapeReaders) {
      Value from = link.getResult(), to = link.getData();
      Operation *u = reader;
      rewriter.modifyOpInPlace(u, [&] { u->replaceUsesOfWith(from, to); });
    }
    SmallVector<Value> inputs;
    for (auto &[box, part] : parts)
      inputs.push_back(part);
    Value whole = inputs.size() == 1 ? inputs.front()
                                     : ConcatOp::create(rewriter, last.getLoc(), inputs,
                                                        rewriter.getI64IntegerAttr(axis))
                                           .getResult();
    // Sizes proven equal as symbols may be typed apart (a `?` that is 2).
    if (whole.getType() != last.getType())
      whole = tensor::CastOp::create(rewriter, last.getLoc(), last.getType(), whole);
    rewriter.replaceOp(last, whole);
    return success();
  }
};

/// Concat(Transpose(a, p), Transpose(b, p), ..., axis k) ->
/// Transpose(Concat(a, b, ..., axis p[k]), p).
struct TransposeOutOfConcat : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp cat, PatternRewriter &rewriter) const override {
    SmallVector<Value> inputs;
    ArrayRef<int64_t> perm;
    for (Value in : cat.getInputs()) {
      // (Only transposes nothing else reads: the moved one replaces them.)
      auto t = in.getDefiningOp<TransposeOp>();
      if (!t || !t->hasOneUse() || (!perm.empty() && t.getPerm() != perm))
        return failure();
      perm = t.getPerm();
      inputs.push_back(t.getInput());
    }
    auto type = dyn_cast<RankedTensorType>(cat.getType());
    if (!type || inputs.size() < 2)
      return failure();
    int64_t axis = static_cast<int64_t>(cat.getAxis());
    if (axis < 0)
      axis += type.getRank();
    Value joined = ConcatOp::create(rewriter, cat.getLoc(), inputs,
                                    rewriter.getI64IntegerAttr(perm[axis]));
    rewriter.replaceOpWithNewOp<TransposeOp>(cat, joined, perm);
    return success();
  }
};

/// Slice(MatMul(x, W), columns a:b) -> MatMul(x, Slice(W, columns a:b))
/// for a constant or weight W (2-D, maybe a transposed view of one): the
/// slice only cuts the last axis, step 1.
struct SliceOfProductColumns : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp slice, PatternRewriter &rewriter) const override {
    auto mm = slice.getInput().getDefiningOp<MatmulOp>();
    if (!mm || slice.getRuntimeStarts() || slice.getRuntimeEnds() || slice.getRuntimeAxes() ||
        slice.getRuntimeSteps())
      return failure();
    // Only a product read in slices (a split): one also read whole would
    // be computed twice.
    if (!llvm::all_of(mm->getUsers(), [](Operation *u) { return isa<SliceOp>(u); }))
      return failure();
    auto wt = dyn_cast<RankedTensorType>(mm.getRhs().getType());
    auto pt = dyn_cast<RankedTensorType>(mm.getType());
    Operation *w = mm.getRhs().getDefiningOp();
    while (w && isa<TransposeOp, ReshapeOp, CastOp>(w))
      w = w->getOperand(0).getDefiningOp();
    if (!wt || !pt || wt.getRank() != 2 || !wt.hasStaticShape() || !pt.hasStaticShape() || !w ||
        !isa<WeightOp, arith::ConstantOp>(w))
      return failure();
    int64_t rank = pt.getRank(), n = pt.getShape().back();
    ArrayRef<int64_t> starts = slice.getStarts(), ends = slice.getEnds(), steps = slice.getSteps();
    if ((int64_t)starts.size() != rank)
      return failure();
    for (int64_t d = 0; d + 1 < rank; ++d)
      if (steps[d] != 1 || starts[d] != 0 || ends[d] < pt.getDimSize(d))
        return failure();
    int64_t from = starts.back() < 0 ? starts.back() + n : std::min(starts.back(), n);
    int64_t to = ends.back() < 0 ? ends.back() + n : std::min(ends.back(), n);
    if (steps.back() != 1 || from >= to || (from == 0 && to == n))
      return failure();
    SmallVector<int64_t> productShape(pt.getShape());
    productShape.back() = to - from;
    if (slice.getType() != RankedTensorType::get(productShape, pt.getElementType()))
      return failure();
    auto colsType = RankedTensorType::get({wt.getDimSize(0), to - from}, wt.getElementType());
    Value cols = SliceOp::create(rewriter, slice.getLoc(), colsType, mm.getRhs(), Value(), Value(),
                                 Value(), Value(), rewriter.getDenseI64ArrayAttr({0, from}),
                                 rewriter.getDenseI64ArrayAttr({wt.getDimSize(0), to}),
                                 rewriter.getDenseI64ArrayAttr({1, 1}));
    rewriter.replaceOpWithNewOp<MatmulOp>(slice, mm.getLhs(), cols);
    return success();
  }
};

} // namespace

void populateNormalizePatterns(RewritePatternSet &patterns) {
  patterns.add<GemmAsMatmul, TransposeThroughLeadingReshapes, ScatterTilesAsConcat,
               TransposeOutOfConcat, SliceOfProductColumns>(patterns.getContext());
  TransposeOp::getCanonicalizationPatterns(patterns, patterns.getContext());
}

} // namespace kiln::fusion

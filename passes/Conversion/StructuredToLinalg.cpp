//===- StructuredToLinalg.cpp - contractions, reductions, data movement ---===//
//
// matmul: linalg.matmul for 2-d x 2-d, linalg.batch_matmul for equal 3-d
// batches, otherwise one linalg.generic contraction whose maps broadcast the
// batch dimensions (numpy matmul). Reductions are linalg.generic ops with
// reduction iterators whose output map keeps reduced dimensions as 0 when
// `keepdims`. Softmax is max, exp(x - max), sum, divide: four generics that
// fuse per row later.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Patterns.h"
#include "dialects/kiln/IR/ConstantFolding.h"
#include "dialects/kiln/IR/TypeInference.h"
#include "dialects/kiln/IR/NodeLocation.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"

#include <limits>

#include <map>

using namespace mlir;

namespace kiln::conversion {

Value filled(OpBuilder &b, Location loc, RankedTensorType type, ValueRange dynamicSizes,
             Value value) {
  Value empty = tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                        dynamicSizes);
  return linalg::FillOp::create(b, loc, value, empty).getResult(0);
}

Value scalarOf(OpBuilder &b, Location loc, Value t) {
  auto type = cast<RankedTensorType>(t.getType());
  SmallVector<Value> zeros(type.getRank(), arith::ConstantIndexOp::create(b, loc, 0));
  return tensor::ExtractOp::create(b, loc, t, zeros);
}

Value dataSize(OpBuilder &b, Location loc, Value count, Value bound) {
  Value n = arith::MinUIOp::create(b, loc, count, bound);
  n.getDefiningOp()->setAttr("kiln.data_size", b.getUnitAttr()); // (SymbolicDims)
  return n;
}

namespace {

Value zeroOf(OpBuilder &b, Location loc, Type t) {
  return arith::ConstantOp::create(b, loc, b.getZeroAttr(t));
}


/// Dynamic extents of `type`, each read from (operand, dim) in `sources`.
SmallVector<Value> dynamicSizes(OpBuilder &b, Location loc, RankedTensorType type,
                                ArrayRef<std::pair<Value, int64_t>> sources) {
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      sizes.push_back(tensor::DimOp::create(b, loc, sources[i].first,
                                            sources[i].second));
  return sizes;
}

//===--- matmul ------------------------------------------------------------===//

/// `v` with its elements converted to the float type `to` (an elementwise
/// linalg.generic: extf or truncf), for the half matmul's f32 accumulator.
Value convertElements(OpBuilder &b, Location loc, Value v, Type to) {
  auto type = cast<RankedTensorType>(v.getType());
  Value init = tensor::EmptyOp::create(b, loc, tensor::getMixedSizes(b, loc, v), to);
  SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(type.getRank()));
  SmallVector<utils::IteratorType> iters(type.getRank(), utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type.clone(to)}, ValueRange{v}, ValueRange{init}, maps, iters,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value x = to.getIntOrFloatBitWidth() > args[0].getType().getIntOrFloatBitWidth()
                             ? arith::ExtFOp::create(nb, l, to, args[0]).getResult()
                             : arith::TruncFOp::create(nb, l, to, args[0]).getResult();
               linalg::YieldOp::create(nb, l, x);
             })
      .getResult(0);
}

Value lowerMatmulInto(PatternRewriter &rewriter, MatmulOp op, Value accumulate,
                      RankedTensorType out);

/// Grouped-query attention's repeat_kv, as exporters write it with dynamic
/// lengths: X [B, Hkv, L, D] -> Reshape [0, Hkv, 1, -1, D] -> Expand
/// [1|B, Hkv, G, 1|L, D] -> Reshape [0, Hkv*G, -1, D] (or the same with the
/// types static and no shape operands): head h of the result is head
/// h / G of X. Returns (X, G), or (null, 0). The matmul reads X through
/// that map instead of a materialized copy G times the cache's size.
std::pair<Value, int64_t> groupedHeads(Value v) {
  auto merge = v.getDefiningOp<ReshapeOp>();
  auto expand = merge ? merge.getInput().getDefiningOp<ExpandOp>() : ExpandOp();
  auto split = expand ? expand.getInput().getDefiningOp<ReshapeOp>() : ReshapeOp();
  if (!split || merge.getAllowzero() || split.getAllowzero())
    return {};
  Value x = split.getInput();
  auto xt = cast<RankedTensorType>(x.getType());
  auto et = cast<RankedTensorType>(expand.getType());
  auto vt = cast<RankedTensorType>(v.getType());
  if (xt.getRank() != 4 || et.getRank() != 5 || vt.getRank() != 4 || xt.isDynamicDim(1) ||
      xt.isDynamicDim(3) || et.isDynamicDim(2))
    return {};
  int64_t hkv = xt.getDimSize(1), d = xt.getDimSize(3), g = et.getDimSize(2);
  // Each reshape's target: its shape operand's constants, or its static type.
  auto target = [](ReshapeOp r) -> std::optional<SmallVector<int64_t>> {
    if (Value s = r.getShape())
      return kiln::constfold::constantInts(s);
    auto t = cast<RankedTensorType>(r.getType());
    if (!t.hasStaticShape())
      return std::nullopt;
    return SmallVector<int64_t>(t.getShape());
  };
  // Entry i copies dim `from` of the input (0, or the same static size),
  // or is the one inferred entry (-1, or the same static size).
  auto copies = [](int64_t e, int64_t size) { return e == 0 || (size >= 0 && e == size); };
  auto infers = [](int64_t e, int64_t size) { return e == -1 || (size >= 0 && e == size); };
  std::optional<SmallVector<int64_t>> in = target(split), outShape = target(merge);
  if (!in || !outShape || in->size() != 5 || outShape->size() != 4)
    return {};
  int64_t b = xt.getDimSize(0), l = xt.getDimSize(2);
  if (!copies((*in)[0], b) || (*in)[1] != hkv || (*in)[2] != 1 || !infers((*in)[3], l) ||
      (*in)[4] != d)
    return {};
  if (!copies((*outShape)[0], b) || (*outShape)[1] != hkv * g || !infers((*outShape)[2], l) ||
      (*outShape)[3] != d)
    return {};
  // The expand repeats axis 2 only: 1 (or the extent) everywhere else.
  SmallVector<int64_t> to;
  if (Value s = expand.getShape()) {
    std::optional<SmallVector<int64_t>> c = kiln::constfold::constantInts(s);
    if (!c)
      return {};
    to = *c;
  } else {
    to.assign(et.getShape().begin(), et.getShape().end());
  }
  auto keeps = [](int64_t e, int64_t size) { return e == 1 || (size >= 0 && e == size); };
  if (to.size() != 5 || !keeps(to[0], b) || to[1] != hkv || to[2] != g || !keeps(to[3], l) ||
      to[4] != d || g <= 1)
    return {};
  return {x, g};
}

/// `op` as linalg: named matmul / batch_matmul where the shapes allow,
/// else a contraction generic. The product accumulates into `accumulate`
/// (a tensor of the result's type) when given, else into zeros. Creates
/// nothing when it fails. Half-precision products accumulate in f32 (as
/// torch and onnxruntime do: an f16 sum of K products keeps ~3 digits) and
/// are rounded once at the end; the CPU micro-kernel then reads the half
/// operands and widens them in registers.
FailureOr<Value> lowerMatmul(PatternRewriter &rewriter, MatmulOp op, Value accumulate) {
    auto a = cast<RankedTensorType>(op.getLhs().getType());
    auto bt = cast<RankedTensorType>(op.getRhs().getType());
    auto out = cast<RankedTensorType>(op.getType());
    Type elt = out.getElementType();
    if (!isLowerableElement(elt) || a.getElementType() != elt)
      return rewriter.notifyMatchFailure(op, "element type not lowered yet");
    if (a.getRank() < 2 || bt.getRank() < 2)
      return rewriter.notifyMatchFailure(op, "1-d matmul operands not lowered yet");
    if (accumulate && accumulate.getType() != out)
      return rewriter.notifyMatchFailure(op, "the accumulator is not shaped like the product");
    Location loc = op.getLoc();
    Type accElt = elt.isF16() || elt.isBF16() ? rewriter.getF32Type() : elt;
    if (accElt != elt) {
      RankedTensorType wide = out.clone(accElt);
      if (accumulate)
        accumulate = convertElements(rewriter, loc, accumulate, accElt);
      return convertElements(rewriter, loc, lowerMatmulInto(rewriter, op, accumulate, wide), elt);
    }
    return lowerMatmulInto(rewriter, op, accumulate, out);
}

/// lowerMatmul's construction (checked already: it cannot fail) with the
/// product's accumulator type `out`: the result's, or f32 for half operands.
Value lowerMatmulInto(PatternRewriter &rewriter, MatmulOp op, Value accumulate,
                      RankedTensorType out) {
    auto a = cast<RankedTensorType>(op.getLhs().getType());
    auto bt = cast<RankedTensorType>(op.getRhs().getType());
    Type elt = out.getElementType();
    Location loc = op.getLoc();
    int64_t r = out.getRank();
    // Where each result extent comes from: batch dims from whichever operand
    // is not broadcast there, M from lhs, N from rhs.
    SmallVector<std::pair<Value, int64_t>> src;
    for (int64_t i = 0; i < r - 2; ++i) {
      int64_t ia = i - (r - a.getRank()), ib = i - (r - bt.getRank());
      if (ia >= 0 && a.getDimSize(ia) != 1)
        src.push_back({op.getLhs(), ia});
      else
        src.push_back({op.getRhs(), ib >= 0 ? ib : 0});
    }
    src.push_back({op.getLhs(), a.getRank() - 2});
    src.push_back({op.getRhs(), bt.getRank() - 1});
    Value init = accumulate ? accumulate
                            : filled(rewriter, loc, out, dynamicSizes(rewriter, loc, out, src),
                                     zeroOf(rewriter, loc, elt));
    SmallVector<Value> ins = {op.getLhs(), op.getRhs()};
    if (a.getRank() == 2 && bt.getRank() == 2) {
      return linalg::MatmulOp::create(rewriter, loc, ins, init)->getResult(0);
    }
    if (a.getRank() == 3 && bt.getRank() == 3 && a.getDimSize(0) == bt.getDimSize(0) &&
        !a.isDynamicDim(0)) {
      return linalg::BatchMatmulOp::create(rewriter, loc, ins, init)->getResult(0);
    }
    // Static batches fold into the named ops, which the targets' matmul
    // strategies take: [..., M, K] x [K, N] is one [(...) M, K] x [K, N]
    // product, and equal batches [..., M, K] x [..., K, N] one batch_matmul.
    auto allStatic = [](RankedTensorType t) { return t.hasStaticShape(); };
    if (allStatic(a) && allStatic(bt) && allStatic(out)) {
      auto collapse = [&](Value v, ArrayRef<ReassociationIndices> groups) -> Value {
        return tensor::CollapseShapeOp::create(rewriter, loc, v, groups);
      };
      auto lead = [](int64_t n) {
        ReassociationIndices g;
        for (int64_t i = 0; i < n; ++i)
          g.push_back(i);
        return g;
      };
      if (a.getRank() > 2 && bt.getRank() == 2) {
        SmallVector<ReassociationIndices> rows = {lead(r - 1), {r - 1}};
        Value init2 = collapse(init, rows);
        Value mm = linalg::MatmulOp::create(rewriter, loc, ValueRange{collapse(op.getLhs(), rows),
                                                                       op.getRhs()},
                                            init2)
                       ->getResult(0);
        return tensor::ExpandShapeOp::create(rewriter, loc, out, mm, rows).getResult();
      }
      if (a.getRank() > 3 && a.getRank() == bt.getRank() &&
          a.getShape().drop_back(2) == bt.getShape().drop_back(2)) {
        SmallVector<ReassociationIndices> batch = {lead(r - 2), {r - 2}, {r - 1}};
        Value bmm = linalg::BatchMatmulOp::create(
                        rewriter, loc,
                        ValueRange{collapse(op.getLhs(), batch), collapse(op.getRhs(), batch)},
                        collapse(init, batch))
                        ->getResult(0);
        return tensor::ExpandShapeOp::create(rewriter, loc, out, bmm, batch).getResult();
      }
    }
    // General case (dynamic or broadcast batches; the micro-kernel takes the
    // named ops above): one generic whose innermost loop runs along memory.
    // A rhs transposed in the graph (Q Kᵀ) is read through the transpose's
    // input: loops (batch..., m, n, k), dot products along contiguous K, and
    // the transpose is never materialized. Otherwise loops (batch..., m, k,
    // n): each row of B accumulates into a row of the result, N innermost.
    // The sums may be reassociated, so the inner loop vectorizes.
    MLIRContext *ctx = op.getContext();
    Value rhs = op.getRhs();
    bool transposedRhs = false;
    if (auto tr = rhs.getDefiningOp<TransposeOp>()) {
      ArrayRef<int64_t> perm = tr.getPerm();
      int64_t n = (int64_t)perm.size();
      bool swapsLast = n >= 2 && perm[n - 2] == n - 1 && perm[n - 1] == n - 2;
      for (int64_t i = 0; swapsLast && i < n - 2; ++i)
        swapsLast = perm[i] == i;
      if (swapsLast) {
        rhs = tr.getInput();
        transposedRhs = true;
      }
    }
    // K or V heads repeated for grouped-query attention: read the shared
    // heads (head h reads h / G), never the G-times copy.
    auto [shared, group] = r == 4 ? groupedHeads(rhs) : std::pair<Value, int64_t>{};
    if (shared)
      rhs = shared;
    // N from what is read, so nothing keeps the transpose or the copy alive.
    if (rhs != op.getRhs() && !accumulate && out.isDynamicDim(r - 1)) {
      Operation *fill = init.getDefiningOp();
      int64_t rank = cast<RankedTensorType>(rhs.getType()).getRank();
      src.back() = {rhs, transposedRhs ? rank - 2 : rank - 1};
      init = filled(rewriter, loc, out, dynamicSizes(rewriter, loc, out, src),
                    zeroOf(rewriter, loc, elt));
      if (fill && fill->use_empty())
        rewriter.eraseOp(fill);
    }
    ins = {op.getLhs(), rhs};
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    AffineExpr mDim = d(r - 2), nDim = transposedRhs ? d(r - 1) : d(r),
               kDim = transposedRhs ? d(r) : d(r - 1);
    auto operandMap = [&](RankedTensorType t, AffineExpr row, AffineExpr col) {
      SmallVector<AffineExpr> exprs;
      int64_t lead = (r - 2) - (t.getRank() - 2);
      for (int64_t j = 0; j < t.getRank() - 2; ++j)
        exprs.push_back(t.getDimSize(j) == 1 && out.getDimSize(lead + j) != 1
                            ? getAffineConstantExpr(0, ctx)
                            : d(lead + j));
      exprs.append({row, col});
      return AffineMap::get(r + 1, 0, exprs, ctx);
    };
    SmallVector<AffineExpr> outExprs;
    for (int64_t i = 0; i < r - 2; ++i)
      outExprs.push_back(d(i));
    outExprs.append({mDim, nDim});
    AffineMap rhsMap = transposedRhs ? operandMap(bt, nDim, kDim) : operandMap(bt, kDim, nDim);
    if (shared) {
      auto xt = cast<RankedTensorType>(shared.getType());
      SmallVector<AffineExpr> exprs = {
          xt.getDimSize(0) == 1 && out.getDimSize(0) != 1 ? getAffineConstantExpr(0, ctx) : d(0),
          d(1).floorDiv(group)};
      if (transposedRhs)
        exprs.append({nDim, kDim}); // X is [B, Hkv, L, D]: rows are the keys
      else
        exprs.append({kDim, nDim});
      rhsMap = AffineMap::get(r + 1, 0, exprs, ctx);
    }
    SmallVector<AffineMap> maps = {operandMap(a, mDim, kDim), rhsMap,
                                   AffineMap::get(r + 1, 0, outExprs, ctx)};
    SmallVector<utils::IteratorType> iters(r + 1, utils::IteratorType::parallel);
    iters[transposedRhs ? r : r - 1] = utils::IteratorType::reduction;
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out}, ins, ValueRange{init}, maps, iters,
        [&](OpBuilder &b, Location l, ValueRange args) {
          auto widen = [&](Value v) -> Value {
            return v.getType() == elt ? v : arith::ExtFOp::create(b, l, elt, v).getResult();
          };
          Value prod = buildBinary(b, l, BinaryKind::mul, widen(args[0]), widen(args[1]));
          Value sum = buildBinary(b, l, BinaryKind::add, args[2], prod);
          for (Value v : {prod, sum})
            if (auto fm = dyn_cast_or_null<arith::ArithFastMathInterface>(v.getDefiningOp()))
              v.getDefiningOp()->setAttr(
                  fm.getFastMathAttrName(),
                  arith::FastMathFlagsAttr::get(ctx, arith::FastMathFlags::reassoc |
                                                         arith::FastMathFlags::contract));
          linalg::YieldOp::create(b, l, sum);
        });
    return generic.getResult(0);
}

/// `x + A·B` with x shaped like the product (a residual connection): the
/// product's accumulator, so the sum costs no pass of its own.
Value accumulatorOf(MatmulOp op) {
  if (!op->hasOneUse())
    return {};
  auto add = dyn_cast<BinaryOp>(*op->getUsers().begin());
  if (!add || add.getKind() != BinaryKind::add || add.getType() != op.getType())
    return {};
  Value other = add.getLhs() == op.getResult() ? add.getRhs() : add.getLhs();
  return other != op.getResult() && other.getType() == op.getType() ? other : Value();
}

struct MatmulLowering : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op, PatternRewriter &rewriter) const override {
    if (accumulatorOf(op))
      return failure(); // lowered with its add (MatmulAccumulateLowering)
    FailureOr<Value> product = lowerMatmul(rewriter, op, Value());
    if (failed(product))
      return failure();
    rewriter.replaceOp(op, *product);
    return success();
  }
};

/// x + A·B -> the product accumulated into x (ahead of the elementwise
/// lowering of the add).
struct MatmulAccumulateLowering : OpRewritePattern<BinaryOp> {
  MatmulAccumulateLowering(MLIRContext *ctx) : OpRewritePattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(BinaryOp add, PatternRewriter &rewriter) const override {
    for (Value side : {add.getLhs(), add.getRhs()}) {
      auto mm = side.getDefiningOp<MatmulOp>();
      Value acc = mm ? accumulatorOf(mm) : Value();
      if (!acc)
        continue;
      FailureOr<Value> sum = lowerMatmul(rewriter, mm, acc);
      if (failed(sum))
        return failure();
      rewriter.replaceOp(add, *sum);
      rewriter.eraseOp(mm);
      return success();
    }
    return failure();
  }
};

//===--- einsum ------------------------------------------------------------===//

/// One contraction generic: a loop per label (output labels first, then the
/// summed ones), each input read through its subscripts (a repeated label is
/// a diagonal; a size-1 label against a larger one broadcasts), body
/// acc + product of the inputs.
struct EinsumLowering : OpRewritePattern<EinsumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EinsumOp op, PatternRewriter &rewriter) const override {
    auto out = cast<RankedTensorType>(op.getType());
    Type elt = out.getElementType();
    if (!isLowerableElement(elt) || !out.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "element type or dynamic shape not lowered yet");
    std::string eq;
    for (char c : op.getEquation())
      if (c != ' ')
        eq.push_back(c);
    StringRef lhsRef = eq, rhsRef;
    bool explicitOut = false;
    if (size_t arrow = StringRef(eq).find("->"); arrow != StringRef::npos) {
      lhsRef = StringRef(eq).take_front(arrow);
      rhsRef = StringRef(eq).drop_front(arrow + 2);
      explicitOut = true;
    }
    SmallVector<StringRef> rawTerms;
    lhsRef.split(rawTerms, ',');
    if (rawTerms.size() != op.getInputs().size())
      return rewriter.notifyMatchFailure(op, "equation does not match the inputs");
    // "..." becomes digit labels (never letters of the equation), the
    // broadcast dims right-aligned across the terms.
    int64_t maxEll = 0;
    SmallVector<int64_t> ellRanks;
    for (auto [t, v] : llvm::zip(rawTerms, op.getInputs())) {
      int64_t r = cast<RankedTensorType>(v.getType()).getRank();
      int64_t e = t.contains("...") ? r - ((int64_t)t.size() - 3) : 0;
      if (e < 0 || e > 10)
        return rewriter.notifyMatchFailure(op, "ellipsis rank not lowered");
      ellRanks.push_back(e);
      maxEll = std::max(maxEll, e);
    }
    auto ellLabels = [&](int64_t r) {
      std::string l;
      for (int64_t i = maxEll - r; i < maxEll; ++i)
        l.push_back(char('0' + i));
      return l;
    };
    SmallVector<std::string> termStrs;
    for (auto [t, e] : llvm::zip(rawTerms, ellRanks)) {
      std::string str = t.str();
      if (size_t dots = str.find("..."); dots != std::string::npos)
        str.replace(dots, 3, ellLabels(e));
      termStrs.push_back(str);
    }
    std::string outStr;
    if (explicitOut) {
      outStr = rhsRef.str();
      if (size_t dots = outStr.find("..."); dots != std::string::npos)
        outStr.replace(dots, 3, ellLabels(maxEll));
    } else {
      std::map<char, int> counts;
      for (const std::string &t : termStrs)
        for (char c : t)
          ++counts[c];
      outStr = ellLabels(maxEll);
      for (auto [c, n] : counts)
        if (n == 1 && !llvm::isDigit(c))
          outStr.push_back(c);
    }
    SmallVector<StringRef> terms(termStrs.begin(), termStrs.end());
    StringRef rhs = outStr;
    // Loop order: output labels, then the rest in order of appearance.
    std::string labels = rhs.str();
    for (StringRef t : terms)
      for (char c : t)
        if (labels.find(c) == std::string::npos)
          labels.push_back(c);
    std::map<char, int64_t> extent;
    for (auto [t, v] : llvm::zip(terms, op.getInputs())) {
      auto type = cast<RankedTensorType>(v.getType());
      if (!type.hasStaticShape() || type.getElementType() != elt)
        return rewriter.notifyMatchFailure(op, "dynamic or mixed-type inputs not lowered yet");
      for (auto [i, c] : llvm::enumerate(t))
        extent[c] = std::max(extent[c], type.getDimSize(i));
    }
    MLIRContext *ctx = op.getContext();
    int64_t loops = labels.size();
    auto dimOf = [&](char c) { return getAffineDimExpr(labels.find(c), ctx); };
    SmallVector<AffineMap> maps;
    for (auto [t, v] : llvm::zip(terms, op.getInputs())) {
      auto type = cast<RankedTensorType>(v.getType());
      SmallVector<AffineExpr> exprs;
      for (auto [i, c] : llvm::enumerate(t))
        exprs.push_back(type.getDimSize(i) == 1 && extent[c] != 1 ? getAffineConstantExpr(0, ctx)
                                                                 : dimOf(c));
      maps.push_back(AffineMap::get(loops, 0, exprs, ctx));
    }
    SmallVector<AffineExpr> outExprs;
    for (char c : rhs)
      outExprs.push_back(dimOf(c));
    maps.push_back(AffineMap::get(loops, 0, outExprs, ctx));
    SmallVector<utils::IteratorType> iters;
    for (int64_t i = 0; i < loops; ++i)
      iters.push_back(i < (int64_t)rhs.size() ? utils::IteratorType::parallel
                                              : utils::IteratorType::reduction);
    Location loc = op.getLoc();
    Value init = filled(rewriter, loc, out, {}, zeroOf(rewriter, loc, elt));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out}, op.getInputs(), ValueRange{init}, maps, iters,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value prod = args[0];
          for (Value a : args.drop_front().drop_back())
            prod = buildBinary(b, l, BinaryKind::mul, prod, a);
          linalg::YieldOp::create(b, l, buildBinary(b, l, BinaryKind::add, args.back(), prod));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

//===--- reductions --------------------------------------------------------===//

/// Reduces `input` over `axes` (sorted, non-negative) into `out` with the
/// combiner `combine`, starting from `initValue`.
Value reduceGeneric(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
                    bool keepdims, RankedTensorType out, Value initValue,
                    function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto in = cast<RankedTensorType>(input.getType());
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iters;
  SmallVector<std::pair<Value, int64_t>> src;
  for (int64_t i = 0; i < in.getRank(); ++i) {
    bool reduced = llvm::is_contained(axes, i);
    iters.push_back(reduced ? utils::IteratorType::reduction
                            : utils::IteratorType::parallel);
    if (!reduced) {
      outExprs.push_back(getAffineDimExpr(i, ctx));
      src.push_back({input, i});
    } else if (keepdims) {
      outExprs.push_back(getAffineConstantExpr(0, ctx));
      src.push_back({input, i});
    }
  }
  Value init = filled(b, loc, out, dynamicSizes(b, loc, out, src), initValue);
  SmallVector<AffineMap> maps = {
      AffineMap::getMultiDimIdentityMap(in.getRank(), ctx),
      AffineMap::get(in.getRank(), 0, outExprs, ctx)};
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{out}, ValueRange{input}, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        linalg::YieldOp::create(nb, l, combine(nb, l, args[1], args[0]));
      });
  return generic.getResult(0);
}

Value floatConst(OpBuilder &b, Location loc, Type t, double v) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(t, v));
}

/// `fn` applied to every element of `v` (same type).
Value mapElementwise(OpBuilder &b, Location loc, Value v,
                     function_ref<Value(OpBuilder &, Location, Value)> fn) {
  auto t = cast<RankedTensorType>(v.getType());
  Value init = emptyLike(b, loc, t, ValueRange{v});
  SmallVector<AffineMap> maps(2, AffineMap::getMultiDimIdentityMap(t.getRank(), b.getContext()));
  SmallVector<utils::IteratorType> iters(t.getRank(), utils::IteratorType::parallel);
  return linalg::GenericOp::create(b, loc, TypeRange{t}, ValueRange{v}, ValueRange{init}, maps,
                                   iters,
                                   [&](OpBuilder &nb, Location l, ValueRange args) {
                                     linalg::YieldOp::create(nb, l, fn(nb, l, args[0]));
                                   })
      .getResult(0);
}

/// The number of elements reduced, as a scalar of float type `t`.
Value reducedCount(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
                   Type t) {
  auto in = cast<RankedTensorType>(input.getType());
  Value count = arith::ConstantIndexOp::create(b, loc, 1);
  for (int64_t a : axes)
    count = arith::MulIOp::create(b, loc, count, tensor::DimOp::create(b, loc, input, a));
  Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), count);
  (void)in;
  return arith::SIToFPOp::create(b, loc, t, i64);
}

/// A reduction over axes the model gives at run time (ONNX ReduceSum's
/// `axes` input): which dims it covers is known per run only, so one
/// generic iterates o (the kept extents; 1 where reduced) and r (the reduced
/// extents; 1 where kept) and reads the input at o + r. Without keepdims the
/// kept dims are then reshaped to the result's rank.
struct RuntimeAxesReduction {
  Operation *op;
  Value input, axesTensor;
  bool keepdims, noopWithEmptyAxes;
  RankedTensorType out;
  Value reduced; // elements per result entry (index), for mean

  Value reduce(OpBuilder &b, Location loc, Value initValue,
               function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
    auto in = cast<RankedTensorType>(input.getType());
    int64_t rank = in.getRank(), k = cast<RankedTensorType>(axesTensor.getType()).getNumElements();
    MLIRContext *ctx = b.getContext();
    Type index = b.getIndexType();
    auto cst = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
    // Which dims are reduced: each axis normalized (a negative one counts
    // from the end) and compared with every dim.
    SmallVector<Value> axes;
    for (int64_t j = 0; j < k; ++j) {
      Value a = arith::IndexCastOp::create(
          b, loc, index, tensor::ExtractOp::create(b, loc, axesTensor, ValueRange{cst(j)}));
      Value neg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, a, cst(0));
      axes.push_back(arith::SelectOp::create(b, loc, neg,
                                             arith::AddIOp::create(b, loc, a, cst(rank)), a));
    }
    Value covered = cst(0), one = cst(1);
    SmallVector<Value> mask, dims, keptSizes, reducedSizes;
    reduced = one;
    for (int64_t d = 0; d < rank; ++d) {
      Value m = arith::ConstantIntOp::create(b, loc, b.getI1Type(), k == 0 && !noopWithEmptyAxes);
      for (Value a : axes)
        m = arith::OrIOp::create(
            b, loc, m, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, a, cst(d)));
      mask.push_back(m);
      covered = arith::AddIOp::create(b, loc, covered, arith::SelectOp::create(b, loc, m, one, cst(0)));
      Value dim = tensor::DimOp::create(b, loc, input, d);
      dims.push_back(dim);
      keptSizes.push_back(arith::SelectOp::create(b, loc, m, one, dim));
      reducedSizes.push_back(arith::SelectOp::create(b, loc, m, dim, one));
      reduced = arith::MulIOp::create(b, loc, reduced, reducedSizes.back());
    }
    // ONNX: each axis in [-rank, rank) and none twice (else the result's
    // rank would not be the one declared).
    if (k > 0) {
      Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, covered, cst(k));
      cf::AssertOp::create(b, loc, ok,
                           describeNode(op) + ": the axes must be distinct dims of the input, "
                                              "each in [-rank, rank)");
    }
    Type elt = in.getElementType();
    auto keptT = RankedTensorType::get(SmallVector<int64_t>(rank, ShapedType::kDynamic), elt);
    Value init = filled(b, loc, keptT, keptSizes, initValue);
    Value window = tensor::EmptyOp::create(
        b, loc, SmallVector<int64_t>(rank, ShapedType::kDynamic), b.getI8Type(), reducedSizes);
    SmallVector<AffineExpr> sum, outer, inner;
    for (int64_t d = 0; d < rank; ++d) {
      outer.push_back(getAffineDimExpr(d, ctx));
      inner.push_back(getAffineDimExpr(rank + d, ctx));
      sum.push_back(outer.back() + inner.back());
    }
    SmallVector<AffineMap> maps = {AffineMap::get(2 * rank, 0, sum, ctx),
                                   AffineMap::get(2 * rank, 0, inner, ctx),
                                   AffineMap::get(2 * rank, 0, outer, ctx)};
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.append(rank, utils::IteratorType::reduction);
    Value result = linalg::GenericOp::create(
                       b, loc, TypeRange{keptT}, ValueRange{input, window}, ValueRange{init},
                       maps, iters,
                       [&](OpBuilder &nb, Location l, ValueRange args) {
                         linalg::YieldOp::create(nb, l, combine(nb, l, args[2], args[0]));
                       })
                       .getResult(0);
    if (keepdims) {
      if (out != keptT)
        result = tensor::CastOp::create(b, loc, out, result);
      return result;
    }
    // The kept dims in order: result dim j is the dim d kept j-th.
    SmallVector<Value> shape(out.getRank(), cst(0));
    Value position = cst(0);
    for (int64_t d = 0; d < rank; ++d) {
      for (int64_t j = 0; j < out.getRank(); ++j) {
        Value here = arith::AndIOp::create(
            b, loc, arith::XOrIOp::create(b, loc, mask[d], arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1)),
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, position, cst(j)));
        shape[j] = arith::SelectOp::create(b, loc, here, dims[d], shape[j]);
      }
      position = arith::SelectOp::create(b, loc, mask[d], position,
                                         arith::AddIOp::create(b, loc, position, one));
    }
    SmallVector<Value> shape64;
    for (Value v : shape)
      shape64.push_back(arith::IndexCastOp::create(b, loc, b.getI64Type(), v));
    Value target = tensor::FromElementsOp::create(
        b, loc, RankedTensorType::get({out.getRank()}, b.getI64Type()), shape64);
    auto reshape = ReshapeOp::create(b, loc, out, result, target);
    reshape.setAllowzero(true);
    return reshape.getResult();
  }
};

struct ReduceLowering : OpRewritePattern<ReduceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceOp op, PatternRewriter &rewriter) const override {
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto out = cast<RankedTensorType>(op.getType());
    Type elt = in.getElementType();
    if (!isLowerableElement(elt))
      return rewriter.notifyMatchFailure(op, "element type not lowered yet");
    SmallVector<int64_t> axes;
    for (int64_t a : op.getAxes())
      axes.push_back(a < 0 ? a + in.getRank() : a);
    if (axes.empty() && !op.getNoopWithEmptyAxes())
      for (int64_t i = 0; i < in.getRank(); ++i)
        axes.push_back(i);
    llvm::sort(axes);
    Location loc = op.getLoc();
    bool isF = isa<FloatType>(elt);
    ReduceKind kind = op.getKind();
    // Decide before creating anything: a failing pattern must not touch IR.
    if (!isF && kind != ReduceKind::sum && kind != ReduceKind::prod &&
        kind != ReduceKind::max && kind != ReduceKind::min &&
        kind != ReduceKind::sum_square && kind != ReduceKind::l1)
      return rewriter.notifyMatchFailure(op, "integer mean, l2 or log reductions");
    auto bin = [&](BinaryKind k) {
      return [k](OpBuilder &b, Location l, Value acc, Value x) {
        return buildBinary(b, l, k, acc, x);
      };
    };
    auto runtimeAxes = op.getRuntimeAxes() ? cast<RankedTensorType>(op.getRuntimeAxes().getType())
                                           : RankedTensorType();
    if (runtimeAxes && (runtimeAxes.getRank() != 1 || !runtimeAxes.hasStaticShape() ||
                        runtimeAxes.getNumElements() > in.getRank() || in.getRank() > 8))
      return rewriter.notifyMatchFailure(op, "run-time axes of a dynamic or too long list");
    RuntimeAxesReduction perRun{op, op.getInput(), op.getRuntimeAxes(), op.getKeepdims(),
                                op.getNoopWithEmptyAxes(), out, Value()};
    auto reduceGeneric = [&](OpBuilder &b, Location l, Value input, ArrayRef<int64_t> axes,
                             bool keepdims, RankedTensorType out, Value initValue,
                             function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
      if (runtimeAxes)
        return perRun.reduce(b, l, initValue, combine);
      return conversion::reduceGeneric(b, l, input, axes, keepdims, out, initValue, combine);
    };
    Value init, result;
    switch (kind) {
    case ReduceKind::sum:
    case ReduceKind::mean:
      init = zeroOf(rewriter, loc, elt);
      result = reduceGeneric(rewriter, loc, op.getInput(), axes, op.getKeepdims(), out,
                             init, bin(BinaryKind::add));
      break;
    case ReduceKind::prod:
      init = arith::ConstantOp::create(rewriter, loc, rewriter.getOneAttr(elt));
      result = reduceGeneric(rewriter, loc, op.getInput(), axes, op.getKeepdims(), out,
                             init, bin(BinaryKind::mul));
      break;
    case ReduceKind::max:
    case ReduceKind::min: {
      bool mx = kind == ReduceKind::max;
      if (isF)
        init = floatConst(rewriter, loc, elt,
                          mx ? -std::numeric_limits<double>::infinity()
                             : std::numeric_limits<double>::infinity());
      else
        init = arith::ConstantOp::create(
            rewriter, loc,
            rewriter.getIntegerAttr(
                elt, mx ? APInt::getSignedMinValue(elt.getIntOrFloatBitWidth())
                        : APInt::getSignedMaxValue(elt.getIntOrFloatBitWidth())));
      result = reduceGeneric(rewriter, loc, op.getInput(), axes, op.getKeepdims(), out,
                             init, bin(mx ? BinaryKind::max : BinaryKind::min));
      break;
    }
    case ReduceKind::sum_square:
      init = zeroOf(rewriter, loc, elt);
      result = reduceGeneric(rewriter, loc, op.getInput(), axes, op.getKeepdims(), out,
                             init, [](OpBuilder &b, Location l, Value acc, Value x) {
                               return buildBinary(
                                   b, l, BinaryKind::add, acc,
                                   buildBinary(b, l, BinaryKind::mul, x, x));
                             });
      break;
    case ReduceKind::l1:
    case ReduceKind::l2:
    case ReduceKind::log_sum:
    case ReduceKind::log_sum_exp: {
      init = zeroOf(rewriter, loc, elt);
      result = reduceGeneric(
          rewriter, loc, op.getInput(), axes, op.getKeepdims(), out, init,
          [kind](OpBuilder &b, Location l, Value acc, Value x) {
            Value term = x;
            if (kind == ReduceKind::l1)
              term = buildUnary(b, l, UnaryKind::abs, x);
            else if (kind == ReduceKind::l2)
              term = buildBinary(b, l, BinaryKind::mul, x, x);
            else if (kind == ReduceKind::log_sum_exp)
              term = buildUnary(b, l, UnaryKind::exp, x);
            return buildBinary(b, l, BinaryKind::add, acc, term);
          });
      if (kind != ReduceKind::l1) {
        UnaryKind post = kind == ReduceKind::l2 ? UnaryKind::sqrt : UnaryKind::log;
        result = mapElementwise(rewriter, loc, result, [&](OpBuilder &b, Location l, Value v) {
          return buildUnary(b, l, post, v);
        });
      }
      break;
    }
    }
    if (kind == ReduceKind::mean) {
      Value count = runtimeAxes
                        ? arith::SIToFPOp::create(
                              rewriter, loc, elt,
                              arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(),
                                                         perRun.reduced))
                              .getResult()
                        : reducedCount(rewriter, loc, op.getInput(), axes, elt);
      result = mapElementwise(rewriter, loc, result, [&](OpBuilder &b, Location l, Value v) {
        return Value(arith::DivFOp::create(b, l, v, count));
      });
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Elementwise `fn(x, r)` where `r` is broadcast along `axis` (kept as 1).
Value mapWithRowValue(OpBuilder &b, Location loc, Value x, Value rowValue,
                      int64_t axis,
                      function_ref<Value(OpBuilder &, Location, Value, Value)> fn) {
  auto t = cast<RankedTensorType>(x.getType());
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> rowExprs;
  for (int64_t i = 0; i < t.getRank(); ++i)
    rowExprs.push_back(i == axis ? getAffineConstantExpr(0, ctx) : getAffineDimExpr(i, ctx));
  AffineMap id = AffineMap::getMultiDimIdentityMap(t.getRank(), ctx);
  SmallVector<AffineMap> maps = {id, AffineMap::get(t.getRank(), 0, rowExprs, ctx), id};
  SmallVector<utils::IteratorType> iters(t.getRank(), utils::IteratorType::parallel);
  Value init = emptyLike(b, loc, t, ValueRange{x});
  return linalg::GenericOp::create(
             b, loc, TypeRange{t}, ValueRange{x, rowValue}, ValueRange{init}, maps, iters,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(nb, l, fn(nb, l, args[0], args[1]));
             })
      .getResult(0);
}

struct SoftmaxLowering : OpRewritePattern<SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxOp op, PatternRewriter &rewriter) const override {
    auto t = cast<RankedTensorType>(op.getType());
    Type elt = t.getElementType();
    int64_t axis = normalizeAxis(op.getAxis(), t.getRank());
    Location loc = op.getLoc();
    SmallVector<int64_t> rowShape(t.getShape());
    rowShape[axis] = 1;
    auto rowT = RankedTensorType::get(rowShape, elt);
    Value x = op.getInput();
    Value mx = reduceGeneric(rewriter, loc, x, {axis}, true, rowT,
                             floatConst(rewriter, loc, elt,
                                        -std::numeric_limits<double>::infinity()),
                             [](OpBuilder &b, Location l, Value acc, Value v) {
                               return buildBinary(b, l, BinaryKind::max, acc, v);
                             });
    Value shifted = mapWithRowValue(rewriter, loc, x, mx, axis,
                                    [](OpBuilder &b, Location l, Value v, Value m) {
                                      return buildBinary(b, l, BinaryKind::sub, v, m);
                                    });
    Value e = mapWithRowValue(rewriter, loc, shifted, mx, axis,
                              [](OpBuilder &b, Location l, Value v, Value) -> Value {
                                return math::ExpOp::create(b, l, v);
                              });
    Value sum = reduceGeneric(rewriter, loc, e, {axis}, true, rowT,
                              zeroOf(rewriter, loc, elt),
                              [](OpBuilder &b, Location l, Value acc, Value v) {
                                return buildBinary(b, l, BinaryKind::add, acc, v);
                              });
    Value result;
    if (op.getLog()) // x - max - log(sum)
      result = mapWithRowValue(rewriter, loc, shifted, sum, axis,
                               [](OpBuilder &b, Location l, Value v, Value s) -> Value {
                                 return arith::SubFOp::create(b, l, v,
                                                              math::LogOp::create(b, l, s));
                               });
    else
      result = mapWithRowValue(rewriter, loc, e, sum, axis,
                               [](OpBuilder &b, Location l, Value v, Value s) {
                                 return buildBinary(b, l, BinaryKind::div, v, s);
                               });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===--- data movement -----------------------------------------------------===//

struct TransposeLowering : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op, PatternRewriter &rewriter) const override {
    auto out = cast<RankedTensorType>(op.getType());
    SmallVector<std::pair<Value, int64_t>> src;
    for (int64_t p : op.getPerm())
      src.push_back({op.getInput(), p});
    Location loc = op.getLoc();
    Value init = tensor::EmptyOp::create(rewriter, loc, out.getShape(),
                                         out.getElementType(),
                                         dynamicSizes(rewriter, loc, out, src));
    rewriter.replaceOp(op, linalg::TransposeOp::create(rewriter, loc, op.getInput(),
                                                       init, op.getPerm())
                               ->getResults());
    return success();
  }
};

/// The dynamic dims of a reshape's result as values: from a constant
/// target (ONNX: 0 copies the input's dim, -1 takes what is left), from a
/// run-time target's entries, or (no target) by element count when one
/// dim is dynamic, or in order when the static dims agree.
/// Whether reshapeDims can tell the result's dynamic dims; decided from
/// types and the constant target alone, before any op is built.
static bool reshapeDimsKnown(ReshapeOp op) {
  auto in = cast<RankedTensorType>(op.getInput().getType());
  auto out = cast<RankedTensorType>(op.getType());
  auto target = op.getShape() ? constfold::constantInts(op.getShape()) : std::nullopt;
  if (op.getShape() && !target)
    return true; // a run-time target: its entries
  int64_t open = 0;
  for (int64_t i = 0; i < out.getRank(); ++i)
    open += out.isDynamicDim(i) &&
            !(target && (((*target)[i] == 0 && !op.getAllowzero() && i < in.getRank()) ||
                         (*target)[i] > 0));
  if (open <= 1)
    return true;
  if (op.getShape())
    return false;
  SmallVector<int64_t> si, so;
  for (int64_t d : in.getShape())
    if (d != 1 && !ShapedType::isDynamic(d))
      si.push_back(d);
  for (int64_t d : out.getShape())
    if (d != 1 && !ShapedType::isDynamic(d))
      so.push_back(d);
  return si == so && (int64_t)in.getNumDynamicDims() == open;
}

static FailureOr<SmallVector<OpFoldResult>> reshapeDims(ReshapeOp op, OpBuilder &b) {
  Location loc = op.getLoc();
  auto in = cast<RankedTensorType>(op.getInput().getType());
  auto out = cast<RankedTensorType>(op.getType());
  auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
  auto inDim = [&](int64_t i) { return tensor::DimOp::create(b, loc, op.getInput(), i).getResult(); };
  Value count = idx(1);
  for (int64_t i = 0; i < in.getRank(); ++i)
    count = arith::MulIOp::create(b, loc, count, inDim(i));
  SmallVector<OpFoldResult> dims(out.getRank());
  auto target = op.getShape() ? constfold::constantInts(op.getShape()) : std::nullopt;
  if (op.getShape() && !target) {
    // A run-time target: its entries as ONNX reads them (0 copies the
    // input's dim unless allowzero, -1 takes the rest).
    SmallVector<Value> v;
    Value product = idx(1);
    for (int64_t i = 0; i < out.getRank(); ++i) {
      Value e = tensor::ExtractOp::create(b, loc, op.getShape(), ValueRange{idx(i)});
      e = arith::IndexCastOp::create(b, loc, b.getIndexType(), e);
      if (!op.getAllowzero() && i < in.getRank())
        e = arith::SelectOp::create(
            b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, e, idx(0)), inDim(i),
            e);
      Value negative = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, e, idx(0));
      product = arith::MulIOp::create(b, loc, product,
                                      arith::SelectOp::create(b, loc, negative, idx(1), e));
      v.push_back(e);
    }
    for (int64_t i = 0; i < out.getRank(); ++i) {
      Value negative = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, v[i], idx(0));
      dims[i] = out.isDynamicDim(i)
                    ? OpFoldResult(arith::SelectOp::create(
                          b, loc, negative, arith::DivUIOp::create(b, loc, count, product), v[i])
                                       .getResult())
                    : OpFoldResult(b.getIndexAttr(out.getDimSize(i)));
    }
    return dims;
  }
  SmallVector<int64_t> open; // dims that take what the element count leaves
  Value known = idx(1);
  for (int64_t i = 0; i < out.getRank(); ++i) {
    if (!out.isDynamicDim(i))
      dims[i] = b.getIndexAttr(out.getDimSize(i));
    else if (target && (*target)[i] == 0 && !op.getAllowzero() && i < in.getRank())
      dims[i] = inDim(i);
    else if (target && (*target)[i] > 0)
      dims[i] = b.getIndexAttr((*target)[i]);
    else
      open.push_back(i);
    if (dims[i])
      known = arith::MulIOp::create(b, loc, known, getValueOrCreateConstantIndexOp(b, loc, dims[i]));
  }
  if (open.size() == 1) {
    dims[open[0]] = arith::DivUIOp::create(b, loc, count, known).getResult();
    return dims;
  }
  if (open.empty())
    return dims;
  // No target and several dynamic dims: in order, when the static dims (1s
  // aside) agree.
  if (op.getShape())
    return failure();
  SmallVector<int64_t> si, so, inDyn;
  for (int64_t i = 0; i < in.getRank(); ++i) {
    if (in.getDimSize(i) != 1 && !in.isDynamicDim(i))
      si.push_back(in.getDimSize(i));
    if (in.isDynamicDim(i))
      inDyn.push_back(i);
  }
  for (int64_t d : out.getShape())
    if (d != 1 && !ShapedType::isDynamic(d))
      so.push_back(d);
  if (si != so || inDyn.size() != open.size())
    return failure();
  for (auto [o, i] : llvm::zip(open, inDyn))
    dims[o] = inDim(i);
  return dims;
}

struct ReshapeLowering : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op, PatternRewriter &rewriter) const override {
    auto out = cast<RankedTensorType>(op.getType());
    Location loc = op.getLoc();
    if (!out.hasStaticShape()) {
      // Dynamic dims: the input as 1-D, expanded to the result's dims
      // (views, no copy, and sizes the CPU plan can compute).
      auto in = cast<RankedTensorType>(op.getInput().getType());
      if (in.getRank() == 0 || out.getRank() == 0)
        return rewriter.notifyMatchFailure(op, "rank-0 side of a dynamic reshape");
      if (!reshapeDimsKnown(op))
        return rewriter.notifyMatchFailure(op, "dynamic dims of the result cannot be told");
      FailureOr<SmallVector<OpFoldResult>> dims = reshapeDims(op, rewriter);
      assert(succeeded(dims) && "reshapeDimsKnown said so");
      // Dims grouped: a collapse, or an expand whose groups hold one
      // dynamic dim each (expand-strided-metadata cannot take more).
      auto reassociation = [](const SmallVector<SmallVector<int64_t, 2>> &groups) {
        SmallVector<ReassociationIndices> r;
        for (const auto &g : groups)
          r.emplace_back(g.begin(), g.end());
        return r;
      };
      if (in.getRank() > out.getRank()) {
        if (auto groups = reshapeGroups(in.getShape(), out.getShape())) {
          Value c = tensor::CollapseShapeOp::create(rewriter, loc, op.getInput(),
                                                    reassociation(*groups));
          rewriter.replaceOpWithNewOp<tensor::CastOp>(op, out, c);
          return success();
        }
      } else if (in.getRank() < out.getRank()) {
        if (auto groups = reshapeGroups(out.getShape(), in.getShape())) {
          rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, out, op.getInput(),
                                                             reassociation(*groups), *dims);
          return success();
        }
      }
      if (out.getNumDynamicDims() > 1) {
        // Dims regrouped in a way views cannot say: copy element by
        // element through the row-major index.
        SmallVector<Value> outDims, inDims, dynamic;
        for (auto [i, d] : llvm::enumerate(*dims)) {
          outDims.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, d));
          if (out.isDynamicDim(i))
            dynamic.push_back(outDims.back());
        }
        for (int64_t i = 0; i < in.getRank(); ++i)
          inDims.push_back(tensor::DimOp::create(rewriter, loc, op.getInput(), i));
        // The copy reads through the input's row-major index: the element
        // counts must agree (checked before a run, kiln-shape-checks).
        Value inCount = arith::ConstantIndexOp::create(rewriter, loc, 1), outCount = inCount;
        for (Value d : inDims)
          inCount = arith::MulIOp::create(rewriter, loc, inCount, d);
        for (Value d : outDims)
          outCount = arith::MulIOp::create(rewriter, loc, outCount, d);
        cf::AssertOp::create(
            rewriter, loc,
            arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, inCount, outCount),
            kiln::describeNode(op) + " reshapes {0} elements into {1}");
        Value init =
            tensor::EmptyOp::create(rewriter, loc, out.getShape(), out.getElementType(), dynamic);
        SmallVector<AffineMap> maps = {
            AffineMap::getMultiDimIdentityMap(out.getRank(), rewriter.getContext())};
        SmallVector<utils::IteratorType> iters(out.getRank(), utils::IteratorType::parallel);
        Value input = op.getInput();
        auto copy = linalg::GenericOp::create(
            rewriter, loc, TypeRange{out}, ValueRange{}, ValueRange{init}, maps, iters,
            [&](OpBuilder &b, Location l, ValueRange) {
              Value linear = arith::ConstantIndexOp::create(b, l, 0);
              for (int64_t i = 0; i < out.getRank(); ++i)
                linear = arith::AddIOp::create(
                    b, l, arith::MulIOp::create(b, l, linear, outDims[i]),
                    linalg::IndexOp::create(b, l, i));
              SmallVector<Value> at(in.getRank());
              for (int64_t i = in.getRank() - 1; i >= 0; --i) {
                at[i] = arith::RemUIOp::create(b, l, linear, inDims[i]);
                linear = arith::DivUIOp::create(b, l, linear, inDims[i]);
              }
              linalg::YieldOp::create(b, l, ValueRange{tensor::ExtractOp::create(b, l, input, at)});
            });
        rewriter.replaceOp(op, copy.getResults());
        return success();
      }
      Value flat = op.getInput();
      if (in.getRank() > 1) {
        ReassociationIndices all;
        for (int64_t i = 0; i < in.getRank(); ++i)
          all.push_back(i);
        flat = tensor::CollapseShapeOp::create(rewriter, loc, flat,
                                               SmallVector<ReassociationIndices>{all});
      }
      if (out.getRank() == 1) {
        rewriter.replaceOpWithNewOp<tensor::CastOp>(op, out, flat);
        return success();
      }
      ReassociationIndices all;
      for (int64_t i = 0; i < out.getRank(); ++i)
        all.push_back(i);
      rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
          op, out, flat, SmallVector<ReassociationIndices>{all}, *dims);
      return success();
    }
    auto shapeT = RankedTensorType::get({out.getRank()}, rewriter.getIndexType());
    SmallVector<Attribute> dims;
    for (int64_t d : out.getShape())
      dims.push_back(rewriter.getIndexAttr(d));
    Value shape = arith::ConstantOp::create(rewriter, loc,
                                            DenseElementsAttr::get(shapeT, dims));
    rewriter.replaceOpWithNewOp<tensor::ReshapeOp>(op, out, op.getInput(), shape);
    return success();
  }
};

/// tensor.concat, which the tensor dialect's own patterns decompose into
/// insert_slices of an empty tensor.
struct ConcatLowering : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op, PatternRewriter &rewriter) const override {
    auto out = cast<RankedTensorType>(op.getType());
    int64_t axis = normalizeAxis(op.getAxis(), out.getRank());
    rewriter.replaceOpWithNewOp<tensor::ConcatOp>(op, out, rewriter.getI64IntegerAttr(axis),
                                                  op.getInputs());
    return success();
  }
};

} // namespace

void populateStructuredPatterns(RewritePatternSet &patterns) {
  patterns.add<MatmulLowering, MatmulAccumulateLowering, EinsumLowering, ReduceLowering, SoftmaxLowering, TransposeLowering,
               ReshapeLowering, ConcatLowering>(patterns.getContext());
  tensor::populateDecomposeTensorConcatPatterns(patterns);
}

} // namespace kiln::conversion

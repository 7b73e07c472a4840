//===- Attention.cpp - softmax(Q Kᵀ scale + mask) V -> kiln.attention -----===//
//
// Anchored on a softmax over the last axis whose result feeds a matmul:
// walking back from the softmax input it accepts an additive mask (either
// operand of an add), a scale as a multiply or a division by a constant
// (on either side of the mask add), and Q Kᵀ as a matmul whose right
// operand is K transposed on its last two dimensions. A mask that is the
// causal triangle (as data or built in the graph, ConstantEvaluation.cpp) becomes
// the `causal` attribute; other masks stay float masks added to the scores (so
// the kernel cannot skip tiles). K and V repeated for grouped-query
// attention (Llama's repeat_kv: Reshape, Expand, Reshape; Tile; torch's
// repeat_interleave) are read from their shared heads instead. Scores written as the sum of two products,
// Qa Kaᵀ + Qb Kbᵀ (DeepSeek's absorbed MLA decode: the latent query times
// the latent cache plus the RoPE query times the shared RoPE key), are one
// attention over Q = [Qa Qb] and K = [Ka Kb] concatenated on the feature
// axis. An attention imported as one op (ONNX Attention) over repeated
// K/V heads reads the shared heads too. RoPE is a separate pattern
// (Rope.cpp).
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/Patterns.h"
#include "dialects/kiln/IR/NodeLocation.h"
#include "dialects/kiln/Transforms/SymbolicShapes.h"

#include <cmath>

using namespace mlir;

namespace kiln::fusion {

namespace {

/// repeatedInPlace with dynamic batch or length: the unit axis after the
/// heads, [B, Hkv, S, D] -> [B, Hkv, 1, S, D] -> [B, Hkv, G, S, D] ->
/// [B, Hkv * G, S, D], every other dim the same size throughout.
std::pair<Value, int64_t> repeatedInPlaceSymbolic(ReshapeOp merge, ExpandOp expand,
                                                  ReshapeOp split) {
  Value x = split.getInput(), u = split.getResult(), e = expand.getResult(),
        out = merge.getResult();
  auto xt = cast<RankedTensorType>(x.getType());
  auto et = cast<RankedTensorType>(e.getType());
  auto ot = cast<RankedTensorType>(out.getType());
  auto ut = cast<RankedTensorType>(u.getType());
  if (xt.getRank() != 4 || ut.getRank() != 5 || et.getRank() != 5 || ot.getRank() != 4 ||
      xt.isDynamicDim(1) || ut.getDimSize(2) != 1 || et.isDynamicDim(2) || et.getDimSize(2) < 2)
    return {};
  int64_t g = et.getDimSize(2);
  for (auto [ui, xi] : {std::pair(0, 0), std::pair(1, 1), std::pair(3, 2), std::pair(4, 3)})
    if (!sameSize(u, ui, x, xi) || !sameSize(e, ui, x, xi))
      return {};
  if (ot.isDynamicDim(1) || ot.getDimSize(1) != xt.getDimSize(1) * g ||
      !sameSize(out, 0, x, 0) || !sameSize(out, 2, x, 2) || !sameSize(out, 3, x, 3))
    return {};
  return {x, g};
}

/// `v` [B, Hkv * G, S, D] as `x` [B, Hkv, S, D] with each head repeated G
/// times in place (query head h reads K/V head h / G) by Reshape, Expand,
/// Reshape: Llama's repeat_kv (unit axis after the heads, expanded), and
/// what Tile on such an axis canonicalizes to. Any reshapes qualify as long
/// as every expanded axis sits where the row-major prefix is exactly B * Hkv
/// (so the copies land next to their head); a Tile of the head axis itself
/// (head h reads h % Hkv) does not. Returns (x, G), or (null, 0).
std::pair<Value, int64_t> repeatedInPlace(Value v) {
  auto merge = v.getDefiningOp<ReshapeOp>();
  auto expand = merge ? merge.getInput().getDefiningOp<ExpandOp>() : ExpandOp();
  auto split = expand ? expand.getInput().getDefiningOp<ReshapeOp>() : ReshapeOp();
  if (!split)
    return {};
  auto x = dyn_cast<RankedTensorType>(split.getInput().getType());
  auto u = dyn_cast<RankedTensorType>(split.getType());
  auto e = dyn_cast<RankedTensorType>(expand.getType());
  auto out = dyn_cast<RankedTensorType>(v.getType());
  if (!x || !u || !e || !out || x.getRank() != 4 || out.getRank() != 4 ||
      u.getRank() != e.getRank())
    return {};
  if (!x.hasStaticShape() || !e.hasStaticShape())
    return repeatedInPlaceSymbolic(merge, expand, split);
  if (merge.getShape() || expand.getShape() || split.getShape())
    return {};
  int64_t heads = x.getDimSize(0) * x.getDimSize(1), prefix = 1, g = 1;
  for (int64_t i = 0; i < u.getRank(); ++i) {
    if (e.getDimSize(i) != u.getDimSize(i)) {
      if (u.getDimSize(i) != 1 || prefix != heads)
        return {};
      g *= e.getDimSize(i);
    }
    prefix *= u.getDimSize(i);
  }
  SmallVector<int64_t> merged = {x.getDimSize(0), x.getDimSize(1) * g, x.getDimSize(2),
                                 x.getDimSize(3)};
  if (g == 1 || out.getShape() != ArrayRef<int64_t>(merged))
    return {};
  return {split.getInput(), g};
}

/// K or V repeated for grouped-query attention: in place
/// (repeatedInPlace), or torch's repeat_interleave export, which slices
/// each head, repeats it G times and concatenates the groups in head order.
/// Returns the unrepeated [B, Hkv, S, D] value, or null.
Value unrepeatedHeads(Value v) {
  if (Value x = repeatedInPlace(v).first)
    return x;
  auto concat = v.getDefiningOp<ConcatOp>();
  if (!concat || concat.getAxis() != 1)
    return {};
  Value source;
  int64_t g = 0, next = 0;
  for (Value part : concat.getInputs()) {
    auto [head, partG] = repeatedInPlace(part);
    auto slice = head ? head.getDefiningOp<SliceOp>() : SliceOp();
    if (!slice || slice.getRuntimeStarts() || (g && partG != g) ||
        (source && slice.getInput() != source))
      return {};
    // Head `next` alone: starts/ends select [next, next + 1) on axis 1,
    // everything on the others.
    ArrayRef<int64_t> starts = slice.getStarts(), ends = slice.getEnds(), steps = slice.getSteps();
    auto st = cast<RankedTensorType>(slice.getInput().getType());
    if (starts.size() != 4 || starts[1] != next || ends[1] != next + 1 || steps[1] != 1)
      return {};
    for (int64_t i : {0, 2, 3})
      if (starts[i] != 0 || steps[i] != 1 ||
          ends[i] < (st.isDynamicDim(i) ? INT32_MAX : st.getDimSize(i))) // whole dim
        return {};
    source = slice.getInput();
    g = partG;
    ++next;
  }
  if (!source || next != cast<RankedTensorType>(source.getType()).getDimSize(1))
    return {};
  return source;
}

/// Q Kᵀ: the matmul, Q, the transpose giving Kᵀ and the constant factors
/// on Q and Kᵀ (onnxscript's scaled_dot_product_attention scales each by
/// sqrt(scale)).
struct ScoresProduct {
  MatmulOp qk;
  Value q;
  TransposeOp kT;
  double scale = 1.0;
  SmallVector<Location, 2> scaleLocs;
  explicit operator bool() const { return static_cast<bool>(qk); }
};

/// `v` times a constant (either side), or `v` itself with factor 1.
Value stripConstantFactor(Value v, double &factor, SmallVectorImpl<Location> &locs) {
  if (BinaryOp mul = binaryOf(v, BinaryKind::mul))
    for (auto [x, c] : {std::pair(mul.getLhs(), mul.getRhs()), std::pair(mul.getRhs(), mul.getLhs())})
      if (std::optional<double> f = scalarConstant(c); f && x.getType() == mul.getType()) {
        factor *= *f;
        locs.push_back(mul.getLoc());
        return x;
      }
  return v;
}

/// `s` as Q Kᵀ: a matmul whose right operand is K transposed on its last
/// two dimensions, either operand maybe scaled by a constant.
ScoresProduct scoresProduct(Value s) {
  ScoresProduct p;
  auto qk = s.getDefiningOp<MatmulOp>();
  if (!qk)
    return {};
  Value kT = stripConstantFactor(qk.getRhs(), p.scale, p.scaleLocs);
  p.kT = kT.getDefiningOp<TransposeOp>();
  if (!p.kT || p.kT.getPerm() != ArrayRef<int64_t>{0, 1, 3, 2})
    return {};
  p.q = stripConstantFactor(qk.getLhs(), p.scale, p.scaleLocs);
  p.qk = qk;
  return p;
}

/// A KV cache step: K (or V) = Concat(past, new) on the sequence axis.
/// Returns (past, new), or nulls.
std::pair<Value, Value> cacheParts(Value v) {
  auto concat = v.getDefiningOp<ConcatOp>();
  if (!concat || concat.getInputs().size() != 2)
    return {};
  auto t = dyn_cast<RankedTensorType>(v.getType());
  int64_t axis = static_cast<int64_t>(concat.getAxis());
  if (!t || (axis != 2 && axis != -2))
    return {};
  return {concat.getInputs()[0], concat.getInputs()[1]};
}

/// `tanh(x / c) * c` (or `x * (1 / c)`, the multiplies either order), c > 0.
struct SoftcapMatch {
  Value input;
  double cap;
  SmallVector<Location, 3> locs;
};
std::optional<SoftcapMatch> matchSoftcap(Value v) {
  BinaryOp outer = binaryOf(v, BinaryKind::mul);
  if (!outer)
    return std::nullopt;
  for (auto [t, c] : {std::pair(outer.getLhs(), outer.getRhs()),
                      std::pair(outer.getRhs(), outer.getLhs())}) {
    UnaryOp th = unaryOf(t, UnaryKind::tanh);
    std::optional<double> cap = scalarConstant(c);
    if (!th || !cap || *cap <= 0 || t.getType() != v.getType())
      continue;
    Value in = th.getInput();
    if (BinaryOp d = binaryOf(in, BinaryKind::div)) {
      std::optional<double> by = scalarConstant(d.getRhs());
      if (by && *by == *cap && d.getLhs().getType() == v.getType())
        return SoftcapMatch{d.getLhs(), *cap, {d.getLoc(), th.getLoc(), outer.getLoc()}};
    }
    if (BinaryOp m = binaryOf(in, BinaryKind::mul))
      for (auto [x, f] : {std::pair(m.getLhs(), m.getRhs()), std::pair(m.getRhs(), m.getLhs())}) {
        std::optional<double> by = scalarConstant(f);
        if (by && std::abs(*by * *cap - 1.0) < 1e-6 && x.getType() == v.getType())
          return SoftcapMatch{x, *cap, {m.getLoc(), th.getLoc(), outer.getLoc()}};
      }
  }
  return std::nullopt;
}

/// The P·V product reading the probabilities `p`: p's only user, or past
/// torch SDPA's NaN guard `Where(IsNaN(p), 0, p)` (it zeroes rows whose
/// every key is masked; kiln.attention gives zeros there already, so the
/// guard is absorbed exactly). Fills `guard` with the guard's locations.
MatmulOp probabilitiesProduct(Value p, SmallVectorImpl<Location> &guard) {
  auto productOf = [](Value v) {
    auto mm = v.hasOneUse() ? dyn_cast<MatmulOp>(*v.getUsers().begin()) : MatmulOp();
    return mm && mm.getLhs() == v ? mm : MatmulOp();
  };
  if (MatmulOp mm = productOf(p))
    return mm;
  UnaryOp isNan;
  WhereOp where;
  for (Operation *user : p.getUsers()) {
    if (auto u = dyn_cast<UnaryOp>(user); u && u.getKind() == UnaryKind::is_nan && !isNan)
      isNan = u;
    else if (auto w = dyn_cast<WhereOp>(user); w && !where)
      where = w;
    else
      return {};
  }
  std::optional<double> zero = where ? scalarConstant(where.getTrueValue()) : std::nullopt;
  if (!isNan || !where || !isNan.getResult().hasOneUse() ||
      where.getCondition() != isNan.getResult() || !zero || *zero != 0.0 ||
      where.getFalseValue() != p || where.getType() != p.getType())
    return {};
  guard.append({isNan.getLoc(), where.getLoc()});
  return productOf(where.getResult());
}

/// Why a softmax whose probabilities reach a matmul is not the P·V form,
/// or nothing when no matmul reads them (not an attention candidate).
std::optional<std::string> probabilitiesMiss(SoftmaxOp softmax) {
  SmallVector<Value> reach = {softmax.getResult()};
  for (Operation *user : softmax.getResult().getUsers())
    if (isa<WhereOp, UnaryOp, CastOp>(user))
      reach.push_back(user->getResult(0));
  for (Value v : reach)
    for (Operation *user : v.getUsers())
      if (isa<MatmulOp>(user)) {
        for (Operation *other : softmax.getResult().getUsers())
          if (other != user && !isa<WhereOp, UnaryOp>(other))
            return "attention: the probabilities are also read by " + describeNode(other);
        return "attention: between the softmax and the P·V product " + describeNode(user) +
               " is something other than SDPA's NaN guard Where(IsNaN(p), 0, p)";
      }
  return std::nullopt;
}

struct RaiseAttention : OpRewritePattern<SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SoftmaxOp softmax, PatternRewriter &rewriter) const override {
    auto st = dyn_cast<RankedTensorType>(softmax.getType());
    if (!st || softmax.getLog())
      return failure();
    SmallVector<Location> matched;
    MatmulOp pv = probabilitiesProduct(softmax.getResult(), matched);
    if (!pv) {
      if (std::optional<std::string> why = probabilitiesMiss(softmax))
        return rewriter.notifyMatchFailure(softmax, *why);
      return failure();
    }
    // A softmax feeding a matmul: from here on, explain misses.
    int64_t rank = st.getRank();
    int64_t axis = static_cast<int64_t>(softmax.getAxis());
    if (axis != -1 && axis != rank - 1)
      return rewriter.notifyMatchFailure(softmax, "attention: the softmax is not over the keys "
                                                  "(last axis)");
    if (rank != 4)
      return rewriter.notifyMatchFailure(softmax, "attention: scores are not [batch, heads, "
                                                  "queries, keys]");
    // Walk back: [add mask] [softcap] [scale] matmul, the mask and the
    // scale in either order.
    Value s = softmax.getInput(), mask;
    double scale = 1.0;
    FloatAttr softcapAttr;
    for (int step = 0; step < 4; ++step) {
      // Gemma 2's cap: tanh(x / c) * c. Only with no factor outside it
      // (the op caps the scaled scores).
      if (!softcapAttr && scale == 1.0) {
        if (std::optional<SoftcapMatch> cap = matchSoftcap(s)) {
          softcapAttr = rewriter.getF32FloatAttr((float)cap->cap);
          s = cap->input;
          matched.append(cap->locs);
          continue;
        }
      }
      if (auto add = binaryOf(s, BinaryKind::add); add && !mask) {
        if (scoresProduct(add.getLhs()) && scoresProduct(add.getRhs()))
          break; // Qa Kaᵀ + Qb Kbᵀ: split scores, not a mask

        // The mask is the operand that is not the scores chain (not a matmul
        // product reaching back here).
        Value l = add.getLhs(), r = add.getRhs();
        bool lScores = l.getDefiningOp<MatmulOp>() || binaryOf(l, BinaryKind::div) ||
                       binaryOf(l, BinaryKind::mul);
        mask = lScores ? r : l;
        s = lScores ? l : r;
        matched.push_back(add.getLoc());
        continue;
      }
      if (auto div = binaryOf(s, BinaryKind::div)) {
        std::optional<double> c = scalarConstant(div.getRhs());
        if (!c || *c == 0)
          return rewriter.notifyMatchFailure(div, "attention: the scores are divided by a "
                                                  "non-constant");
        scale /= *c;
        s = div.getLhs();
        matched.push_back(div.getLoc());
        continue;
      }
      if (auto mul = binaryOf(s, BinaryKind::mul)) {
        Value other = stripConstantFactor(s, scale, matched);
        if (other == s)
          return rewriter.notifyMatchFailure(mul, "attention: the scores are scaled by a "
                                                  "non-constant");
        s = other;
        continue;
      }
      break;
    }
    // Q and K as parts to concatenate on the feature axis (one part unless
    // the scores are split); the concatenation is built once all checks pass.
    SmallVector<Value, 2> qParts, kParts;
    Value v = pv.getRhs();
    MatmulOp qk;
    if (auto split = binaryOf(s, BinaryKind::add)) {
      ScoresProduct a = scoresProduct(split.getLhs()), b = scoresProduct(split.getRhs());
      if (!a || !b)
        return rewriter.notifyMatchFailure(split, "attention: the scores are not a matmul or "
                                                  "a sum of two Q Kᵀ matmuls");
      if (a.scale != b.scale)
        return rewriter.notifyMatchFailure(split, "attention: the two score products are scaled "
                                                  "differently");
      // The parts must agree on everything but their feature width.
      auto compatible = [](Value a, Value b) {
        auto at = dyn_cast<RankedTensorType>(a.getType());
        auto bt = dyn_cast<RankedTensorType>(b.getType());
        return at && bt && at.getRank() == 4 && bt.getRank() == 4 && at.hasStaticShape() &&
               bt.hasStaticShape() && at.getElementType() == bt.getElementType() &&
               at.getShape().drop_back() == bt.getShape().drop_back();
      };
      if (!compatible(a.q, b.q) || !compatible(a.kT.getInput(), b.kT.getInput()))
        return rewriter.notifyMatchFailure(split, "attention: the two score products' Q or K "
                                                  "parts differ in batch, heads or length");
      qParts = {a.q, b.q};
      kParts = {a.kT.getInput(), b.kT.getInput()};
      scale *= a.scale;
      matched.append(a.scaleLocs);
      matched.append(b.scaleLocs);
      matched.append({a.kT.getLoc(), b.kT.getLoc(), b.qk.getLoc(), split.getLoc()});
      qk = a.qk;
    } else {
      ScoresProduct single = scoresProduct(s);
      if (!single)
        return rewriter.notifyMatchFailure(softmax, "attention: the scores are not a matmul");
      qParts = {single.q};
      kParts = {single.kT.getInput()};
      scale *= single.scale;
      matched.append(single.scaleLocs);
      matched.push_back(single.kT.getLoc());
      qk = single.qk;
    }
    // Grouped-query K/V: attend to the shared heads instead of the copies.
    Value kSmall = unrepeatedHeads(kParts[0]), vSmall = unrepeatedHeads(v);
    if (kParts.size() == 1 && kSmall && vSmall &&
        cast<RankedTensorType>(kSmall.getType()).getDimSize(1) ==
            cast<RankedTensorType>(vSmall.getType()).getDimSize(1)) {
      kParts[0] = kSmall;
      v = vSmall;
    }
    // The type of the parts concatenated on the last axis.
    auto joinedType = [](ArrayRef<Value> parts) -> RankedTensorType {
      auto first = dyn_cast<RankedTensorType>(parts[0].getType());
      if (!first || parts.size() == 1)
        return first;
      SmallVector<int64_t> shape(first.getShape());
      shape.back() += cast<RankedTensorType>(parts[1].getType()).getShape().back();
      return RankedTensorType::get(shape, first.getElementType());
    };
    RankedTensorType qt = joinedType(qParts), kt = joinedType(kParts);
    auto vt = dyn_cast<RankedTensorType>(v.getType());
    // Heads and head dims are static; batch and lengths may be dynamic
    // where the graph makes them one size (symbols).
    auto staticHeads = [](RankedTensorType t) {
      return !t.isDynamicDim(1) && !t.isDynamicDim(3);
    };
    if (!qt || !kt || !vt || qt.getRank() != 4 || kt.getRank() != 4 || vt.getRank() != 4 ||
        !staticHeads(qt) || !staticHeads(kt) || !staticHeads(vt) ||
        kt.getDimSize(1) == 0 || qt.getDimSize(1) % kt.getDimSize(1) != 0 ||
        kt.getDimSize(1) != vt.getDimSize(1) || !sameSize(qParts[0], 0, kParts[0], 0) ||
        !sameSize(kParts[0], 0, v, 0) || !sameSize(kParts[0], 2, v, 2))
      return rewriter.notifyMatchFailure(qk, "attention: Q, K, V are not [batch, heads, seq, "
                                             "dim] with static heads and matching batch and "
                                             "lengths");
    bool dynamic = !qt.hasStaticShape() || !kt.hasStaticShape() || !vt.hasStaticShape();
    bool causal = false;
    if (mask) {
      auto mt = dyn_cast<RankedTensorType>(mask.getType());
      if (!mt || mt.getElementType() != qt.getElementType() || mt.getRank() > 4)
        return rewriter.notifyMatchFailure(softmax, "attention: the mask is not a float tensor "
                                                    "that broadcasts to the scores");
      // Each dynamic mask dim must be the scores' size there (kernels take
      // it as the whole dim; a size-1 broadcast is only known statically).
      int64_t lead = 4 - mt.getRank();
      std::pair<Value, int64_t> scoreDims[4] = {
          {qParts[0], 0}, {qParts[0], 1}, {qParts[0], 2}, {kParts[0], 2}};
      for (int64_t i = 0; i < mt.getRank(); ++i) {
        auto [of, at] = scoreDims[lead + i];
        if (mt.isDynamicDim(i) && !sameSize(mask, i, of, at))
          return rewriter.notifyMatchFailure(
              softmax, "attention: dim " + std::to_string(i) +
                           " of the mask is dynamic and not known to be the scores' size");
      }
      // A causal triangle, given or built in the graph, becomes the
      // attribute: kernels skip the hidden blocks instead of adding -inf.
      if (!dynamic && isCausalMask(mask, qt.getDimSize(2), kt.getDimSize(2))) {
        causal = true;
        mask = Value();
      }
    }
    // A decode or chunked-prefill step: past K/V concatenated with the new
    // ones. The op takes the past and returns the concatenations (the
    // present cache the graph outputs).
    auto [pastK, newK] = cacheParts(kParts[0]);
    auto [pastV, newV] = cacheParts(v);
    // With dynamic lengths the concatenations stay (the session-state pass
    // turns them into caches the op reads in place).
    Value presentK, presentV;
    if (kParts.size() == 1 && pastK && pastV && !dynamic &&
        cast<RankedTensorType>(pastK.getType()).getDimSize(2) ==
            cast<RankedTensorType>(pastV.getType()).getDimSize(2)) {
      presentK = kParts[0];
      presentV = v;
      matched.append({presentK.getLoc(), v.getLoc()});
    }
    matched.append({qk.getRhs().getLoc(), qk.getLoc(), softmax.getLoc(), pv.getLoc()});
    rewriter.setInsertionPoint(pv);
    auto out = RankedTensorType::get(
        {qt.getDimSize(0), qt.getDimSize(1), qt.getDimSize(2), vt.getDimSize(3)},
        qt.getElementType());
    if (out != pv.getType())
      return rewriter.notifyMatchFailure(pv, "attention: the output type differs");
    auto joined = [&](ArrayRef<Value> parts) -> Value {
      if (parts.size() == 1)
        return parts[0];
      return ConcatOp::create(rewriter, parts[0].getLoc(), parts, rewriter.getI64IntegerAttr(3));
    };
    Value q = joined(qParts), k = joined(kParts);
    if (presentK) {
      auto attn = AttentionOp::create(
          rewriter, rewriter.getFusedLoc(matched), out,
          TypeRange{presentK.getType(), presentV.getType()}, q, newK, newV, mask, pastK, pastV,
          causal, rewriter.getF32FloatAttr((float)scale), softcapAttr);
      rewriter.replaceOp(pv, attn.getOutput());
      // Users after the op read its present cache (a graph output, say);
      // users before it (the now dead transpose) keep the concatenation.
      auto after = [&](OpOperand &use) {
        Operation *user = attn->getBlock()->findAncestorOpInBlock(*use.getOwner());
        return user && attn->isBeforeInBlock(user);
      };
      rewriter.replaceUsesWithIf(presentK, attn.getPresent()[0], after);
      rewriter.replaceUsesWithIf(presentV, attn.getPresent()[1], after);
      return success();
    }
    auto attn = AttentionOp::create(rewriter, rewriter.getFusedLoc(matched), out, TypeRange{}, q,
                                    k, v, mask, Value(), Value(), causal,
                                    rewriter.getF32FloatAttr((float)scale), softcapAttr);
    rewriter.replaceOp(pv, attn.getOutput());
    return success();
  }
};

/// An attention that already is one op (ONNX Attention, imported) over K/V
/// heads repeated for grouped-query attention (torch's exporter writes
/// repeat_kv before scaled_dot_product_attention) reads the shared heads.
struct AttendSharedHeads : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op, PatternRewriter &rewriter) const override {
    if (op.getPastKey() || op.getPastValue())
      return failure(); // the present cache must keep the heads it has
    Value k = unrepeatedHeads(op.getKey()), v = unrepeatedHeads(op.getValue());
    if (!k || !v ||
        cast<RankedTensorType>(k.getType()).getDimSize(1) !=
            cast<RankedTensorType>(v.getType()).getDimSize(1))
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      op.getKeyMutable().assign(k);
      op.getValueMutable().assign(v);
    });
    return success();
  }
};

/// Kᵀ written as one transpose of the keys' projection layout (BERT's
/// `key.permute(0, 2, 3, 1)` on [B, S, H, D], or what composing the head
/// transpose with Kᵀ's gives): split into transpose(X, q) then the
/// [0, 1, 3, 2] swap the attention pattern reads, q being the perm with its
/// last two entries exchanged. Only for a transpose that reaches a 4-D
/// matmul's right operand (through constant factors); the canonicalizer
/// composes the two back if no attention is raised.
struct KeyTransposeAsKt : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp t, PatternRewriter &rewriter) const override {
    ArrayRef<int64_t> perm = t.getPerm();
    if (perm.size() != 4 || perm == ArrayRef<int64_t>{0, 1, 3, 2})
      return failure();
    Value v = t.getResult();
    while (BinaryOp mul = v.hasOneUse() ? dyn_cast<BinaryOp>(*v.getUsers().begin()) : BinaryOp()) {
      double ignored = 1.0;
      SmallVector<Location> locs;
      if (mul.getKind() != BinaryKind::mul ||
          stripConstantFactor(mul.getResult(), ignored, locs) != v)
        break;
      v = mul.getResult();
    }
    auto mm = v.hasOneUse() ? dyn_cast<MatmulOp>(*v.getUsers().begin()) : MatmulOp();
    if (!mm || mm.getRhs() != v || cast<RankedTensorType>(mm.getType()).getRank() != 4)
      return failure();
    SmallVector<int64_t> q(perm);
    std::swap(q[2], q[3]);
    Value k = TransposeOp::create(rewriter, t.getLoc(), t.getInput(), q);
    rewriter.replaceOpWithNewOp<TransposeOp>(t, k, ArrayRef<int64_t>{0, 1, 3, 2});
    return success();
  }
};

} // namespace

void populateAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseAttention, AttendSharedHeads, KeyTransposeAsKt>(patterns.getContext());
}

} // namespace kiln::fusion

//===- Moe.cpp - mixture-of-experts layers -> kiln.moe --------------------===//
//
// The dense-masked form torch exports for a loop over experts (Mixtral
// style, every expert computed and weighted by its routing weight):
//
//   probs   = softmax(x · W_router)            (or sigmoid)
//   w, idx  = TopK(probs, k)                   [w /= sum(w)]
//   for e:  w_e = ReduceSum(w * Cast(idx == e), -1, keepdims)
//           y_e = (act(x · G_e) * (x · U_e)) · D_e   (act = SiLU as a*sigmoid(a))
//   out     = sum_e w_e * y_e                  (an Add tree, maybe from zeros)
//             [+ shared(x) [* sigmoid(x · g)]]   (DeepSeek / Qwen-MoE shared expert)
//
// and the sparse form (below). Anchored on the TopK: every `idx == e` user
// (or each expert's token list) must lead to one weighted
// expert term, the terms must cover experts 0..E-1 of the router exactly
// once, and they must meet in one Add tree whose other leaves are zeros.
// The per-expert weights are stacked with kiln.concat of [1, ., .] views;
// code generation packs concatenated weights into one artifact weight, so
// stacking costs nothing at run time.
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/Patterns.h"

#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;

namespace kiln::fusion {
namespace {

/// How a MoE layer picks its experts.
struct Routing {
  ScoreFunc scoring;
  MatmulOp router;
  Value scores;         // softmax or sigmoid of x · W_router
  Value bias;           // added for selection only (DeepSeek-V3), or null
  int64_t nGroup = 1, topkGroup = 1;
};

/// softmax (last axis) or sigmoid of a matmul.
std::optional<Routing> matchScores(Value v, SmallVectorImpl<Location> &locs) {
  Routing r;
  r.scores = v;
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t)
    return std::nullopt;
  if (auto sm = v.getDefiningOp<SoftmaxOp>();
      sm && !sm.getLog() &&
      (static_cast<int64_t>(sm.getAxis()) == -1 ||
       static_cast<int64_t>(sm.getAxis()) == t.getRank() - 1)) {
    r.scoring = ScoreFunc::softmax;
    r.router = sm.getInput().getDefiningOp<MatmulOp>();
    locs.push_back(sm.getLoc());
  } else if (UnaryOp sig = unaryOf(v, UnaryKind::sigmoid)) {
    r.scoring = ScoreFunc::sigmoid;
    r.router = sig.getInput().getDefiningOp<MatmulOp>();
    locs.push_back(sig.getLoc());
  } else {
    return std::nullopt;
  }
  if (!r.router)
    return std::nullopt;
  locs.push_back(r.router.getLoc());
  return r;
}

/// The scores, or scores + bias (selection only).
std::optional<Routing> matchChoice(Value v, SmallVectorImpl<Location> &locs) {
  if (BinaryOp add = binaryOf(v, BinaryKind::add)) {
    for (auto [s, b] : {std::pair(add.getLhs(), add.getRhs()), std::pair(add.getRhs(), add.getLhs())}) {
      SmallVector<Location> inner;
      if (std::optional<Routing> r = matchScores(s, inner)) {
        r->bias = b;
        locs.append(inner);
        locs.push_back(add.getLoc());
        return r;
      }
    }
  }
  return matchScores(v, locs);
}

/// DeepSeek-V3's group limit: Where(!eligible, -inf, choice) (or
/// Where(eligible, choice, -inf)) where eligible is a [T, G] 0/1 mask,
/// scattered at the TopK(topk_group) of the groups' scores (the sum of each
/// group's two best choices, from choice viewed as [T, G, E / G]) and
/// expanded to [T, E]. Returns the choice with the group counts, or the
/// plain choice.
std::optional<Routing> matchSelection(Value v, SmallVectorImpl<Location> &locs) {
  auto where = v.getDefiningOp<WhereOp>();
  if (!where)
    return matchChoice(v, locs);
  auto isNegInf = [](Value c) {
    std::optional<double> x = scalarConstant(c);
    return x && std::isinf(*x) && *x < 0;
  };
  // `marksIneligible`: the value being followed is true for the experts
  // that must not be chosen (-inf where it holds).
  Value cond = where.getCondition(), choice;
  bool marksIneligible;
  if (isNegInf(where.getTrueValue())) {
    choice = where.getFalseValue();
    marksIneligible = true;
  } else if (isNegInf(where.getFalseValue())) {
    choice = where.getTrueValue();
    marksIneligible = false;
  } else {
    return std::nullopt;
  }
  SmallVector<Location> path = {where.getLoc()};
  // Strip Not / Cast / Reshape / Expand down to the scatter.
  ScatterElementsOp scatter;
  for (Value c = cond; !scatter;) {
    Operation *def = c.getDefiningOp();
    if (!def)
      return std::nullopt;
    path.push_back(def->getLoc());
    if (auto n = dyn_cast<UnaryOp>(def); n && n.getKind() == UnaryKind::Not) {
      marksIneligible = !marksIneligible;
      c = n.getInput();
    } else if (isa<CastOp, ReshapeOp, ExpandOp>(def)) {
      c = def->getOperand(0);
    } else if (auto s = dyn_cast<ScatterElementsOp>(def)) {
      scatter = s;
    } else {
      return std::nullopt;
    }
  }
  // (With dynamic tokens its zeros and ones are scalars expanded to the
  // run-time shape.)
  auto unexpanded = [](Value v) {
    while (auto e = v.getDefiningOp<ExpandOp>())
      v = e.getInput();
    return v;
  };
  std::optional<double> one = scalarConstant(unexpanded(scatter.getUpdates()));
  // The scatter sets the chosen groups to 1: it must mark the eligible.
  if (marksIneligible || !one || *one != 1.0 || !isZeroTensor(unexpanded(scatter.getData())))
    return std::nullopt;
  auto groupsTopk = scatter.getIndices().getDefiningOp<TopKOp>();
  auto groupScore = groupsTopk ? groupsTopk.getInput().getDefiningOp<ReduceOp>() : ReduceOp();
  auto bestTwo = groupScore ? groupScore.getInput().getDefiningOp<TopKOp>() : TopKOp();
  auto view = bestTwo ? bestTwo.getInput().getDefiningOp<ReshapeOp>() : ReshapeOp();
  if (!groupScore || groupScore.getKind() != ReduceKind::sum || !bestTwo ||
      bestTwo.getK() != 2 || groupScore.getInput() != bestTwo.getValues() || !view ||
      view.getInput() != choice)
    return std::nullopt;
  auto vt = dyn_cast<RankedTensorType>(view.getType());
  // [tokens, groups, experts per group]: the tokens may be dynamic.
  if (!vt || vt.getRank() != 3 || vt.isDynamicDim(1) || vt.isDynamicDim(2))
    return std::nullopt;
  std::optional<Routing> r = matchChoice(choice, locs);
  if (!r)
    return std::nullopt;
  r->nGroup = vt.getDimSize(1);
  r->topkGroup = groupsTopk.getK();
  locs.append(path);
  locs.append({view.getLoc(), bestTwo.getLoc(), groupScore.getLoc(), groupsTopk.getLoc(),
               scatter.getLoc()});
  return r;
}

//===--- the sparse form -------------------------------------------------===//
//
// Mixtral's loop as Hugging Face writes it (torch's export):
//
//   mask    = one_hot(idx, E).permute(2, 1, 0)          [E, k, T]
//             (DeepSeek-V3's: permute(2, 0, 1), [E, T, k], pairs (tok, slot))
//   for e:  slot, tok = where(mask[e])                  NonZero, Transpose, Slice
//           y_e = expert_e(x[tok]) * w.view(-1)[tok * k + slot]
//           out.index_add_(0, tok, y_e)                 ScatterElements + Add
//
// Each expert's term is the ScatterElements of y_e at its tokens' rows
// into zeros (reduction none: a token picks an expert once) or with
// reduction add into zeros; the terms meet in the same Add tree as the dense
// form's.

/// Whether `t` only moves unit dimensions (the other dimensions keep their
/// order): the same elements in the same order, a view.
bool movesOnlyUnitDims(TransposeOp t) {
  auto in = dyn_cast<RankedTensorType>(t.getInput().getType());
  if (!in)
    return false;
  int64_t last = -1;
  for (int64_t from : t.getPerm()) {
    if (in.getDimSize(from) == 1)
      continue;
    if (from < last)
      return false;
    last = from;
  }
  return true;
}

/// `v` without no-op expands (same type), reshapes and transposes that
/// only move unit dimensions.
Value stripViews(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto r = dyn_cast<ReshapeOp>(def); r && !r.getShape())
      v = r.getInput();
    else if (auto t = dyn_cast<TransposeOp>(def); t && movesOnlyUnitDims(t))
      v = t.getInput();
    else if (auto e = dyn_cast<ExpandOp>(def);
             e && !e.getShape() && e.getInput().getType() == v.getType())
      v = e.getInput();
    else
      break;
  }
  return v;
}

/// Whether `c` is the constant 0, 1, ..., n-1 (any shape of n elements).
bool isIota(Value c, int64_t n) {
  DenseElementsAttr d;
  if (!matchPattern(c, m_Constant(&d)) || d.getNumElements() != n ||
      !d.getElementType().isInteger(64))
    return false;
  int64_t i = 0;
  for (const APInt &v : d.getValues<APInt>())
    if (v.getSExtValue() != i++)
      return false;
  return true;
}

/// The one-hot [T, k, E] of `indices` (0/1, as Where(idx == iota, 1, 0)
/// with negative indices wrapped by Where(idx < 0, idx + E, idx) from the
/// TorchScript exporter, or Cast(idx[..., None] == iota) from torch.export).
bool isOneHotOf(Value v, Value indices, int64_t experts) {
  Value cond;
  if (auto where = v.getDefiningOp<WhereOp>()) {
    std::optional<double> one = scalarConstant(where.getTrueValue());
    std::optional<double> zero = scalarConstant(where.getFalseValue());
    if (!one || !zero || *one != 1 || *zero != 0)
      return false;
    cond = where.getCondition();
  } else if (auto cast = v.getDefiningOp<CastOp>()) {
    auto from = dyn_cast<RankedTensorType>(cast.getInput().getType());
    if (!from || !from.getElementType().isInteger(1))
      return false;
    cond = cast.getInput();
  } else {
    return false;
  }
  auto eq = cond.getDefiningOp<CompareOp>();
  if (!eq || eq.getKind() != CompareKind::eq)
    return false;
  Value idx = eq.getLhs(), classes = eq.getRhs();
  if (!isIota(classes, experts))
    std::swap(idx, classes);
  if (!isIota(classes, experts))
    return false;
  idx = stripViews(idx);
  if (auto wrap = idx.getDefiningOp<WhereOp>(); wrap && wrap.getFalseValue() == indices)
    idx = wrap.getFalseValue(); // the wrap of negative indices
  return idx == indices;
}

/// `v` as x's rows gathered at `tokens` (any view of them; x itself or a
/// view of it with leading unit dimensions before the gathered axis; or
/// GatherND at [n, 1] row numbers of a view of x whose first dimension is
/// x's rows).
bool isRowsOf(Value v, Value x, Value tokens) {
  if (auto nd = stripViews(v).getDefiningOp<GatherNdOp>()) {
    auto dt = dyn_cast<RankedTensorType>(nd.getData().getType());
    auto it = dyn_cast<RankedTensorType>(nd.getIndices().getType());
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    if (nd.getBatchDims() != 0 || !dt || !it || !xt || !dt.hasStaticShape() ||
        !xt.hasStaticShape() || it.getRank() != 2 || it.getDimSize(1) != 1 ||
        stripViews(nd.getIndices()) != tokens || stripViews(nd.getData()) != stripViews(x))
      return false;
    // Row r of the data is row r of x: the same row count.
    return dt.getDimSize(0) == xt.getNumElements() / xt.getShape().back();
  }
  auto g = stripViews(v).getDefiningOp<GatherOp>();
  if (!g || stripViews(g.getIndices()) != tokens)
    return false;
  auto dt = dyn_cast<RankedTensorType>(g.getData().getType());
  int64_t axis = static_cast<int64_t>(g.getAxis());
  if (!dt || axis < 0 || axis != dt.getRank() - 2 || stripViews(g.getData()) != stripViews(x))
    return false;
  for (int64_t i = 0; i < axis; ++i)
    if (dt.getDimSize(i) != 1)
      return false;
  return true;
}

/// Fills one term per expert from the sparse form, or names what differs.
LogicalResult matchSparseTerms(TopKOp topk, Value x, Value weights, int64_t experts,
                               SmallVectorImpl<GatedMlpMatch> &byExpert,
                               SmallVectorImpl<Value> &terms, SmallVectorImpl<Location> &locs,
                               std::string &why) {
  int64_t k = static_cast<int64_t>(topk.getK());
  // The [E, k, T] mask: the one-hot of the indices, transposed.
  // Found a few ops downstream of the indices (wrap, reshape, compare,
  // where, transpose).
  TransposeOp mask;
  SmallVector<Value> frontier = {topk.getIndices()};
  for (int depth = 0; depth < 6 && !mask; ++depth) {
    SmallVector<Value> next;
    for (Value v : frontier)
      for (Operation *user : v.getUsers()) {
        if (auto tr = dyn_cast<TransposeOp>(user);
            tr && (tr.getPerm() == ArrayRef<int64_t>{2, 1, 0} ||
                   tr.getPerm() == ArrayRef<int64_t>{2, 0, 1}) &&
            isOneHotOf(tr.getInput(), topk.getIndices(), experts))
          mask = tr;
        if (isa<CompareOp, WhereOp, BinaryOp, ReshapeOp, CastOp>(user))
          next.push_back(user->getResult(0));
      }
    frontier = std::move(next);
  }
  if (!mask) {
    why = "moe: the expert indices are neither compared with expert numbers nor one-hot "
          "encoded into a per-expert mask";
    return failure();
  }
  locs.push_back(mask.getLoc());
  SmallVector<bool> seen(experts, false);
  for (Operation *user : mask.getResult().getUsers()) {
    auto pick = dyn_cast<GatherOp>(user);
    std::optional<double> e = pick ? scalarConstant(pick.getIndices()) : std::nullopt;
    if (!pick || pick.getAxis() != 0 || !e || *e < 0 || *e >= experts || seen[(int64_t)*e]) {
      why = "moe: the expert mask is used other than picking each expert once";
      return failure();
    }
    int64_t id = (int64_t)*e;
    seen[id] = true;
    // where(mask[e]) -> slot (k) and token columns (a cast to bool first,
    // or not).
    auto cast = dyn_cast_or_null<CastOp>(soleUser(pick.getResult()));
    auto nz = dyn_cast_or_null<NonZeroOp>(soleUser(cast ? cast.getResult() : pick.getResult()));
    auto cols = nz ? dyn_cast_or_null<TransposeOp>(soleUser(nz.getResult())) : TransposeOp();
    if (!nz || !cols) {
      why = "moe: an expert's mask does not give its (slot, token) pairs by NonZero";
      return failure();
    }
    // Mixtral permutes the mask to [E, k, T] (pairs (slot, token)),
    // DeepSeek-V3 to [E, T, k] (pairs (token, slot)).
    bool tokenFirst = mask.getPerm() == ArrayRef<int64_t>{2, 0, 1};
    Value slotCol, tokenCol;
    for (Operation *u : cols.getResult().getUsers()) {
      auto sl = dyn_cast<SliceOp>(u);
      if (!sl || sl.getRuntimeStarts() || sl.getStarts().size() != 2)
        continue;
      if (sl.getStarts()[1] == 0 && sl.getEnds()[1] == 1)
        (tokenFirst ? tokenCol : slotCol) = sl.getResult();
      if (sl.getStarts()[1] == 1 && sl.getEnds()[1] == 2)
        (tokenFirst ? slotCol : tokenCol) = sl.getResult();
    }
    if (!slotCol || !tokenCol) {
      why = "moe: an expert's (slot, token) pairs are not split into columns";
      return failure();
    }
    // The term: y_e * weight scattered at the token rows into zeros:
    // ScatterElements with the token column expanded over the row, or
    // ScatterND at [n, 1] row numbers, into zeros or (reduction add) into
    // the previous experts' sum (torch.export chains index_add_).
    Operation *scatter = nullptr;
    Value updates;
    SmallVector<Value> views = {tokenCol};
    for (size_t i = 0; i < views.size() && i < 16; ++i)
      for (OpOperand &use : views[i].getUses()) {
        Operation *user = use.getOwner();
        if (auto sc = dyn_cast<ScatterElementsOp>(user);
            sc && use.getOperandNumber() == sc.getIndicesMutable().getOperandNumber() &&
            sc.getAxis() == 0 && isZeroTensor(sc.getData()) &&
            (sc.getReduction() == ScatterReduction::none ||
             sc.getReduction() == ScatterReduction::add)) {
          scatter = sc;
          updates = sc.getUpdates();
        } else if (auto nd = dyn_cast<ScatterNdOp>(user);
                   nd && use.getOperandNumber() == nd.getIndicesMutable().getOperandNumber()) {
          auto it = llvm::cast<RankedTensorType>(nd.getIndices().getType());
          if (it.getRank() == 2 && it.getDimSize(1) == 1 &&
              (nd.getReduction() == ScatterReduction::add ||
               (nd.getReduction() == ScatterReduction::none && isZeroTensor(nd.getData())))) {
            scatter = nd;
            updates = nd.getUpdates();
          }
        } else if (isa<ReshapeOp, ExpandOp>(user) && use.getOperandNumber() == 0) {
          views.push_back(user->getResult(0));
        }
      }
    if (!scatter) {
      why = "moe: an expert's output is not scattered (index_add) into zeros at its tokens' rows";
      return failure();
    }
    BinaryOp scaled = binaryOf(stripViews(updates), BinaryKind::mul);
    if (!scaled) {
      why = "moe: an expert's scattered output is not weighted";
      return failure();
    }
    // weight: w viewed as [T * k, 1] gathered at token * k + slot.
    auto isWeightPick = [&](Value v) {
      v = stripViews(v);
      // The exporter's [n, 1] view with a computed shape (opset 18+):
      // Reshape(g, Concat(Shape(g's indices), [1])).
      if (auto r = v.getDefiningOp<ReshapeOp>(); r && r.getShape()) {
        auto shape = r.getShape().getDefiningOp<ConcatOp>();
        auto g = stripViews(r.getInput()).getDefiningOp<GatherOp>();
        std::optional<double> one =
            shape && shape.getInputs().size() == 2 ? scalarConstant(shape.getInputs()[1])
                                                   : std::nullopt;
        auto count = shape ? shape.getInputs()[0].getDefiningOp<ShapeOp>() : ShapeOp();
        if (!g || !one || *one != 1 || !count || count.getInput() != g.getIndices())
          return false;
        v = r.getInput();
      }
      // torch.export: GatherND of w [T, k] (viewed [T, k, 1]) at the
      // (token, slot) pairs Concat(token[:, None], slot[:, None]).
      if (auto nd = stripViews(v).getDefiningOp<GatherNdOp>()) {
        auto pairs = nd.getIndices().getDefiningOp<ConcatOp>();
        auto dt = dyn_cast<RankedTensorType>(nd.getData().getType());
        auto wt = dyn_cast<RankedTensorType>(weights.getType());
        return nd.getBatchDims() == 0 && stripViews(nd.getData()) == weights && dt && wt &&
               wt.getRank() == 2 && dt.getRank() >= 2 && dt.getDimSize(0) == wt.getDimSize(0) &&
               dt.getDimSize(1) == wt.getDimSize(1) && pairs &&
               pairs.getInputs().size() == 2 && stripViews(pairs.getInputs()[0]) == tokenCol &&
               stripViews(pairs.getInputs()[1]) == slotCol;
      }
      auto g = stripViews(v).getDefiningOp<GatherOp>();
      if (!g || g.getAxis() != 0 || stripViews(g.getData()) != weights)
        return false;
      BinaryOp add = binaryOf(g.getIndices(), BinaryKind::add);
      if (!add)
        return false;
      for (auto [a, b] : {std::pair(add.getLhs(), add.getRhs()),
                          std::pair(add.getRhs(), add.getLhs())}) {
        if (stripViews(a) != slotCol)
          continue;
        // token * k (just token when k = 1 folded the multiply away).
        BinaryOp mul = binaryOf(b, BinaryKind::mul);
        std::optional<double> kk = mul ? scalarConstant(mul.getRhs()) : std::nullopt;
        if ((mul && stripViews(mul.getLhs()) == tokenCol && kk && (int64_t)*kk == k) ||
            (k == 1 && stripViews(b) == tokenCol))
          return true;
      }
      return false;
    };
    Value y;
    if (isWeightPick(scaled.getRhs()))
      y = scaled.getLhs();
    else if (isWeightPick(scaled.getLhs()))
      y = scaled.getRhs();
    if (!y) {
      why = "moe: an expert's output is not weighted by the routing weight of its (token, slot)";
      return failure();
    }
    std::optional<GatedMlpMatch> mlp = matchGatedMlp(y, Value());
    if (!mlp || !isRowsOf(mlp->input, x, tokenCol)) {
      why = "moe: an expert is not a gated MLP of the router input's rows at its tokens";
      return failure();
    }
    byExpert[id] = *mlp;
    terms.push_back(scatter->getResult(0));
    locs.append({pick.getLoc(), nz.getLoc(), cols.getLoc(), scaled.getLoc(), scatter->getLoc()});
    if (cast)
      locs.push_back(cast.getLoc());
    locs.append(mlp->locs);
  }
  if (llvm::count(seen, true) != experts) {
    why = "moe: not every expert of the router is used";
    return failure();
  }
  return success();
}

/// Whether a few ops above `topk` there is a softmax or sigmoid of a
/// matmul: a TopK over router scores, whose miss is worth a reason.
bool overRouterScores(TopKOp topk) {
  SmallVector<Value> frontier = {topk.getInput()};
  for (int depth = 0; depth < 6 && !frontier.empty(); ++depth) {
    SmallVector<Value> next;
    for (Value v : frontier) {
      Operation *def = v.getDefiningOp();
      if (!def)
        continue;
      Value in;
      if (auto sm = dyn_cast<SoftmaxOp>(def))
        in = sm.getInput();
      else if (UnaryOp sig = unaryOf(v, UnaryKind::sigmoid))
        in = sig.getInput();
      if (in && (in.getDefiningOp<MatmulOp>() || in.getDefiningOp<GemmOp>()))
        return true;
      llvm::append_range(next, def->getOperands());
    }
    frontier = std::move(next);
  }
  return false;
}

/// The dense-masked and sparse forms, matched op by op (the terms of every
/// expert found from the TopK's indices); `miss` says where and why not.
LogicalResult raiseStructurally(const MoeRouting &r, PatternRewriter &rewriter, MoeMiss &miss) {
  auto fail = [&](Operation *at, const Twine &why) {
    miss = {at, why.str()};
    return failure();
  };
  TopKOp topk = r.topk;
  Value x = r.x, weights = r.weights;
  int64_t experts = r.experts;
  Operation *weightsGather = r.weightsGather;
  SmallVector<Location> locs(r.locs);
  auto rt = cast<RankedTensorType>(r.routerWeight.getType());
  // Each `idx == e` leads to w_e * y_e (dense), or the indices are
  // one-hot encoded into per-expert token lists (sparse).
  SmallVector<GatedMlpMatch> byExpert(experts);
  SmallVector<Value> terms;
  bool dense = llvm::all_of(topk.getIndices().getUsers(), [&](Operation *user) {
    auto eq = dyn_cast<CompareOp>(user);
    return user == weightsGather ||
           (eq && eq.getKind() == CompareKind::eq && scalarConstant(eq.getRhs()));
  });
  if (!dense) {
    std::string why;
    if (failed(matchSparseTerms(topk, x, weights, experts, byExpert, terms, locs, why)))
      return fail(topk, why);
  } else {
    SmallVector<bool> seen(experts, false);
    for (Operation *user : topk.getIndices().getUsers()) {
      if (weightsGather && user == weightsGather)
        continue;
      auto eq = dyn_cast<CompareOp>(user);
      std::optional<double> e = eq ? scalarConstant(eq.getRhs()) : std::nullopt;
      if (!eq || eq.getKind() != CompareKind::eq || eq.getLhs() != topk.getIndices() || !e)
        return fail(topk, "moe: the expert indices are used other than "
                                                 "compared with an expert number");
      int64_t id = (int64_t)*e;
      if (id < 0 || id >= experts || seen[id])
        return fail(eq, "moe: expert number out of range or repeated");
      seen[id] = true;
      auto cast = dyn_cast_or_null<CastOp>(soleUser(eq.getResult()));
      auto mul = cast ? dyn_cast_or_null<BinaryOp>(soleUser(cast.getResult())) : BinaryOp();
      if (!mul || mul.getKind() != BinaryKind::mul ||
          (mul.getLhs() != weights && mul.getRhs() != weights))
        return fail(eq, "moe: the expert mask does not select the routing "
                                               "weights of the same TopK");
      auto sum = dyn_cast_or_null<ReduceOp>(soleUser(mul.getResult()));
      if (!sum || sum.getKind() != ReduceKind::sum || !sum.getKeepdims())
        return fail(mul, "moe: the masked weights are not summed per "
                                                "token");
      auto scaled = dyn_cast_or_null<BinaryOp>(soleUser(sum.getResult()));
      if (!scaled || scaled.getKind() != BinaryKind::mul)
        return fail(sum, "moe: the expert weight does not scale an "
                                                "expert output");
      Value y = scaled.getLhs() == sum.getResult() ? scaled.getRhs() : scaled.getLhs();
      std::optional<GatedMlpMatch> mlp = matchGatedMlp(y, x);
      if (!mlp)
        return fail(
            scaled, "moe: the weighted value is not a gated MLP (act(x·G) * (x·U))·D of the "
                    "router's input");
      byExpert[id] = *mlp;
      terms.push_back(scaled.getResult());
      locs.append({eq.getLoc(), cast.getLoc(), mul.getLoc(), sum.getLoc(), scaled.getLoc()});
      locs.append(mlp->locs);
    }
    if (llvm::count(seen, true) != experts)
      return fail(topk, "moe: not every expert of the router is used");
  }

  // The terms meet in one Add tree (whose other leaves are zeros); a
  // sparse term that accumulates into another (ScatterND add) is that
  // term plus its data.
  llvm::SmallPtrSet<Value, 16> termSet(terms.begin(), terms.end());
  auto accumulated = [&](Value term) {
    auto nd = term.getDefiningOp<ScatterNdOp>();
    return nd && !isZeroTensor(nd.getData()) ? nd.getData() : Value();
  };
  Operation *root = nullptr;
  Value cur = terms.front();
  while (Operation *user = soleUser(cur)) {
    auto add = dyn_cast<BinaryOp>(user);
    if (!(add && add.getKind() == BinaryKind::add) &&
        !(termSet.contains(user->getResult(0)) && accumulated(user->getResult(0)) == cur))
      break;
    root = user;
    cur = user->getResult(0);
  }
  if (!root && accumulated(terms.front())) // the last of a chain, nothing added after
    root = terms.front().getDefiningOp();
  if (!root)
    return fail(topk, "moe: the expert outputs are not added up");
  SmallVector<Value> stack = {root->getResult(0)};
  int64_t found = 0;
  // A shared expert (DeepSeek, Qwen-MoE) is one more leaf: a gated MLP
  // of x, optionally scaled by sigmoid(x · g) with g [H, 1] (Qwen-MoE).
  std::optional<GatedMlpMatch> shared;
  Value sharedGate;
  while (!stack.empty()) {
    Value v = stack.pop_back_val();
    if (termSet.contains(v)) {
      ++found;
      if (Value before = accumulated(v)) {
        if (!before.hasOneUse())
          return fail(root, "moe: a partial sum of expert outputs is "
                                                   "used elsewhere");
        stack.push_back(before);
      }
      continue;
    }
    auto add = v.getDefiningOp<BinaryOp>();
    if (add && add.getKind() == BinaryKind::add && (v == root->getResult(0) || v.hasOneUse())) {
      stack.append({add.getLhs(), add.getRhs()});
      if (add != root)
        locs.push_back(add.getLoc());
      continue;
    }
    if (isZeroTensor(v))
      continue;
    if (!shared) {
      Value mlpOut = v;
      if (BinaryOp mul = binaryOf(v, BinaryKind::mul)) {
        for (auto [g, y] : {std::pair(mul.getLhs(), mul.getRhs()),
                            std::pair(mul.getRhs(), mul.getLhs())}) {
          UnaryOp sig = unaryOf(g, UnaryKind::sigmoid);
          auto gm = sig ? sig.getInput().getDefiningOp<MatmulOp>() : MatmulOp();
          auto gt = gm ? dyn_cast<RankedTensorType>(gm.getRhs().getType()) : RankedTensorType();
          if (gm && gm.getLhs() == x && gt && gt.getRank() == 2 && gt.getDimSize(1) == 1) {
            sharedGate = gm.getRhs();
            mlpOut = y;
            locs.append({gm.getLoc(), sig.getLoc(), mul.getLoc()});
            break;
          }
        }
      }
      shared = matchGatedMlp(mlpOut, x);
      if (shared) {
        locs.append(shared->locs);
        continue;
      }
      sharedGate = Value();
    }
    return fail(root, "moe: the sum of expert outputs also adds "
                                             "something else");
  }
  if (found != experts)
    return fail(root, "moe: the sum does not take every expert once");

  auto xt = dyn_cast<RankedTensorType>(x.getType());
  auto outType = dyn_cast<RankedTensorType>(root->getResult(0).getType());
  if (!xt || !outType || outType != xt || !xt.hasStaticShape())
    return fail(root, "moe: the layer output is not shaped like its input");
  // Experts stack only when they agree: G, U [H, I] and D [I, H].
  Type gt = byExpert[0].gate.getType(), dt = byExpert[0].down.getType();
  auto g2 = cast<RankedTensorType>(gt);
  if (g2.getDimSize(0) != xt.getShape().back() || g2.getElementType() != xt.getElementType() ||
      dt != RankedTensorType::get({g2.getDimSize(1), g2.getDimSize(0)}, g2.getElementType()) ||
      rt.getElementType() != xt.getElementType() || rt.getDimSize(0) != g2.getDimSize(0) ||
      llvm::any_of(byExpert, [&](GatedMlpMatch &e) {
        return e.gate.getType() != gt || e.up.getType() != gt || e.down.getType() != dt;
      }))
    return fail(root, "moe: the experts' weights differ in shape or type");
  if (shared) {
    auto sgt = cast<RankedTensorType>(shared->gate.getType());
    if (sgt.getDimSize(0) != g2.getDimSize(0) || sgt.getElementType() != g2.getElementType() ||
        shared->up.getType() != sgt ||
        shared->down.getType() != RankedTensorType::get({sgt.getDimSize(1), sgt.getDimSize(0)},
                                                        sgt.getElementType()))
      return fail(root, "moe: the shared expert's weights do not fit");
  }

  // Stack the experts' weights: [1, ., .] views concatenated on axis 0.
  llvm::erase(locs, root->getLoc()); // (a sparse term can be the root)
  locs.push_back(root->getLoc());     // last: the report names the output node
  rewriter.setInsertionPoint(root);
  Location loc = rewriter.getFusedLoc(locs);
  auto stack3 = [&](auto get) -> Value {
    SmallVector<Value> parts;
    for (GatedMlpMatch &e : byExpert) {
      Value w = get(e);
      auto t = cast<RankedTensorType>(w.getType());
      auto t3 = RankedTensorType::get({1, t.getDimSize(0), t.getDimSize(1)}, t.getElementType());
      parts.push_back(ReshapeOp::create(rewriter, loc, t3, w, Value(), false));
    }
    return ConcatOp::create(rewriter, loc, parts, rewriter.getI64IntegerAttr(0));
  };
  Value gate = stack3([](GatedMlpMatch &e) { return e.gate; });
  Value up = stack3([](GatedMlpMatch &e) { return e.up; });
  Value down = stack3([](GatedMlpMatch &e) { return e.down; });
  OperationState state(loc, MoeOp::getOperationName());
  Value sg = shared ? shared->gate : Value(), su = shared ? shared->up : Value(),
        sd = shared ? shared->down : Value();
  MoeOp::build(rewriter, state, outType, x, r.routerWeight, gate, up, down, r.bias, sg,
               su, sd, sharedGate, rewriter.getI64IntegerAttr(topk.getK()),
               ScoreFuncAttr::get(rewriter.getContext(), r.scoring),
               r.normalize ? rewriter.getUnitAttr() : UnitAttr(),
               rewriter.getI64IntegerAttr(r.nGroup),
               rewriter.getI64IntegerAttr(r.topkGroup), rewriter.getF32FloatAttr(r.factor),
               ActivationAttr::get(rewriter.getContext(), Activation::silu));
  Operation *moe = rewriter.create(state);
  rewriter.replaceOp(root, moe->getResults());
  return success();
}

struct RaiseDenseMoe : OpRewritePattern<TopKOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TopKOp topk, PatternRewriter &rewriter) const override {
    // A TopK of router probabilities: softmax or sigmoid of x · W_router.
    auto it = dyn_cast<RankedTensorType>(topk.getInput().getType());
    bool overRouter = overRouterScores(topk);
    if (!it || topk.getRuntimeK() || !topk.getLargest() || it.getRank() < 2) {
      if (overRouter)
        return rewriter.notifyMatchFailure(topk, "moe: the TopK over router scores is not the "
                                                 "largest k (static) of a [tokens, experts] "
                                                 "tensor");
      return failure();
    }
    int64_t axis = static_cast<int64_t>(topk.getAxis());
    if (axis < 0)
      axis += it.getRank();
    if (axis != it.getRank() - 1) {
      if (overRouter)
        return rewriter.notifyMatchFailure(topk, "moe: the TopK over router scores is not over "
                                                 "the last axis (the experts)");
      return failure();
    }
    SmallVector<Location> locs;
    std::optional<Routing> routing = matchSelection(topk.getInput(), locs);
    if (!routing) {
      if (overRouter)
        return rewriter.notifyMatchFailure(
            topk, "moe: the TopK's input is not a router's selection: softmax or sigmoid of "
                  "x · W, optionally plus a bias, optionally group-limited (DeepSeek-V3)");
      return failure();
    }
    MatmulOp router = routing->router;
    ScoreFunc scoring = routing->scoring;
    auto rt = dyn_cast<RankedTensorType>(router.getRhs().getType());
    if (!rt || rt.getRank() != 2 || !rt.hasStaticShape())
      return failure();
    // From here on a near miss is worth explaining.
    Value x = router.getLhs();
    int64_t experts = rt.getDimSize(1);
    locs.push_back(topk.getLoc());
    if (routing->bias) {
      auto bt = dyn_cast<RankedTensorType>(routing->bias.getType());
      if (!bt || bt.getRank() != 1 || bt.getDimSize(0) != experts ||
          bt.getElementType() != rt.getElementType())
        return rewriter.notifyMatchFailure(topk, "moe: the selection bias is not one value per "
                                                 "expert");
    }
    if (routing->nGroup > 1 && experts % routing->nGroup)
      return rewriter.notifyMatchFailure(topk, "moe: expert groups do not divide the experts");

    // Routing weights: the TopK values, or (with a selection bias or group
    // limit) the unbiased scores gathered at the chosen experts; maybe
    // divided by their sum (+ epsilon), maybe times a constant.
    Value weights = topk.getValues();
    Operation *weightsGather = nullptr;
    if (routing->bias || routing->nGroup > 1) {
      weights = Value();
      for (Operation *user : topk.getIndices().getUsers())
        if (auto g = dyn_cast<GatherElementsOp>(user);
            g && g.getData() == routing->scores && g.getIndices() == topk.getIndices()) {
          weights = g.getResult();
          weightsGather = g;
          locs.push_back(g.getLoc());
        }
      if (!weights)
        return rewriter.notifyMatchFailure(topk, "moe: the routing weights are not the unbiased "
                                                 "scores of the chosen experts");
    }
    bool normalize = false;
    for (Operation *user : weights.getUsers())
      if (auto div = dyn_cast<BinaryOp>(user);
          div && div.getKind() == BinaryKind::div && div.getLhs() == weights) {
        Value denom = div.getRhs();
        SmallVector<Location> extra;
        if (BinaryOp eps = binaryOf(denom, BinaryKind::add)) {
          std::optional<double> c = scalarConstant(eps.getRhs());
          if (c && *c >= 0 && *c < 1e-6) { // DeepSeek's + 1e-20
            denom = eps.getLhs();
            extra.push_back(eps.getLoc());
          }
        }
        auto sum = denom.getDefiningOp<ReduceOp>();
        if (sum && sum.getKind() == ReduceKind::sum && sum.getInput() == weights &&
            sum.getKeepdims() && sum.getAxes().size() == 1) {
          weights = div.getResult();
          normalize = true;
          locs.append(extra);
          locs.append({sum.getLoc(), div.getLoc()});
          break;
        }
      }
    float factor = 1.0f;
    if (auto mul = dyn_cast_or_null<BinaryOp>(soleUser(weights));
        mul && mul.getKind() == BinaryKind::mul) {
      Value other = mul.getLhs() == weights ? mul.getRhs() : mul.getLhs();
      if (std::optional<double> c = scalarConstant(other)) {
        factor = (float)*c;
        weights = mul.getResult();
        locs.push_back(mul.getLoc());
      }
    }

    MoeRouting info{topk, x, router.getRhs(), scoring, routing->scores, routing->bias,
                    experts, routing->nGroup, routing->topkGroup, weights, weightsGather,
                    normalize, factor, locs};
    MoeMiss structural, proof;
    if (succeeded(raiseStructurally(info, rewriter, structural)) ||
        succeeded(raiseMoeByEvaluation(info, rewriter, proof)))
      return success();
    // A form neither the op-by-op matcher nor a proof by evaluation took:
    // both reasons, at the proof's location (the layer).
    return rewriter.notifyMatchFailure(proof.at ? proof.at : topk.getOperation(),
                                       [&](Diagnostic &d) {
      d << proof.why << " (the op-by-op forms: " << structural.why << ")";
    });
  }
};

} // namespace

void populateMoePatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseDenseMoe>(patterns.getContext());
}

} // namespace kiln::fusion

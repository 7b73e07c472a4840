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
// Anchored on the TopK: every `idx == e` user must lead to one weighted
// expert term, the terms must cover experts 0..E-1 of the router exactly
// once, and they must meet in one Add tree whose other leaves are zeros.
// The per-expert weights are stacked with kiln.concat of [1, ., .] views;
// code generation packs concatenated weights into one artifact weight, so
// stacking costs nothing at run time.
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/Patterns.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace kiln::fusion {
namespace {

/// One expert's gated MLP on `x`: (act(x · gate) * (x · up)) · down.
struct ExpertMlp {
  Value gate, up, down;
  SmallVector<Location> locs;
};

/// a * sigmoid(a) (either order): the SiLU of `a`.
Value siluInput(Value v, SmallVectorImpl<Location> &locs) {
  if (auto u = unaryOf(v, UnaryKind::silu)) {
    locs.push_back(u.getLoc());
    return u.getInput();
  }
  BinaryOp mul = binaryOf(v, BinaryKind::mul);
  if (!mul)
    return {};
  for (auto [a, s] : {std::pair(mul.getLhs(), mul.getRhs()), std::pair(mul.getRhs(), mul.getLhs())})
    if (UnaryOp sig = unaryOf(s, UnaryKind::sigmoid); sig && sig.getInput() == a) {
      locs.append({sig.getLoc(), mul.getLoc()});
      return a;
    }
  return {};
}

/// y = MatMul(MatMul-gated product, down) with both inner products on `x`
/// and a 2-D weight.
std::optional<ExpertMlp> matchExpert(Value y, Value x) {
  auto isWeight2d = [](Value w) {
    auto t = dyn_cast<RankedTensorType>(w.getType());
    return t && t.getRank() == 2 && t.hasStaticShape();
  };
  auto down = y.getDefiningOp<MatmulOp>();
  if (!down || !isWeight2d(down.getRhs()))
    return std::nullopt;
  BinaryOp prod = binaryOf(down.getLhs(), BinaryKind::mul);
  if (!prod)
    return std::nullopt;
  ExpertMlp e;
  for (auto [g, u] : {std::pair(prod.getLhs(), prod.getRhs()), std::pair(prod.getRhs(), prod.getLhs())}) {
    SmallVector<Location> locs;
    Value gateIn = siluInput(g, locs);
    auto gate = gateIn ? gateIn.getDefiningOp<MatmulOp>() : MatmulOp();
    auto up = u.getDefiningOp<MatmulOp>();
    if (!gate || !up || gate.getLhs() != x || up.getLhs() != x || !isWeight2d(gate.getRhs()) ||
        !isWeight2d(up.getRhs()))
      continue;
    e.gate = gate.getRhs();
    e.up = up.getRhs();
    e.down = down.getRhs();
    e.locs = locs;
    e.locs.append({gate.getLoc(), up.getLoc(), prod.getLoc(), down.getLoc()});
    return e;
  }
  return std::nullopt;
}

/// The single user of `v`, or null.
Operation *soleUser(Value v) { return v.hasOneUse() ? *v.getUsers().begin() : nullptr; }

struct RaiseDenseMoe : OpRewritePattern<TopKOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TopKOp topk, PatternRewriter &rewriter) const override {
    // A TopK of router probabilities: softmax or sigmoid of x · W_router.
    auto it = dyn_cast<RankedTensorType>(topk.getInput().getType());
    if (!it || topk.getRuntimeK() || !topk.getLargest() || it.getRank() < 2)
      return failure();
    int64_t axis = static_cast<int64_t>(topk.getAxis());
    if (axis < 0)
      axis += it.getRank();
    if (axis != it.getRank() - 1)
      return failure();
    ScoreFunc scoring;
    MatmulOp router;
    SmallVector<Location> locs;
    if (auto sm = topk.getInput().getDefiningOp<SoftmaxOp>();
        sm && !sm.getLog() &&
        (static_cast<int64_t>(sm.getAxis()) == -1 || static_cast<int64_t>(sm.getAxis()) == it.getRank() - 1)) {
      scoring = ScoreFunc::softmax;
      router = sm.getInput().getDefiningOp<MatmulOp>();
      locs.push_back(sm.getLoc());
    } else if (UnaryOp sig = unaryOf(topk.getInput(), UnaryKind::sigmoid)) {
      scoring = ScoreFunc::sigmoid;
      router = sig.getInput().getDefiningOp<MatmulOp>();
      locs.push_back(sig.getLoc());
    } else {
      return failure();
    }
    auto rt = router ? dyn_cast<RankedTensorType>(router.getRhs().getType()) : RankedTensorType();
    if (!rt || rt.getRank() != 2 || !rt.hasStaticShape())
      return failure();
    // From here on a near miss is worth explaining.
    Value x = router.getLhs();
    int64_t experts = rt.getDimSize(1);
    locs.push_back(router.getLoc());
    locs.push_back(topk.getLoc());

    // Routing weights: the TopK values, maybe divided by their sum.
    Value values = topk.getValues();
    Value weights = values;
    bool normalize = false;
    for (Operation *user : values.getUsers())
      if (auto div = dyn_cast<BinaryOp>(user); div && div.getKind() == BinaryKind::div &&
                                               div.getLhs() == values) {
        auto sum = div.getRhs().getDefiningOp<ReduceOp>();
        if (sum && sum.getKind() == ReduceKind::sum && sum.getInput() == values &&
            sum.getKeepdims() && sum.getAxes().size() == 1) {
          weights = div.getResult();
          normalize = true;
          locs.append({sum.getLoc(), div.getLoc()});
        }
      }

    // Each `idx == e` leads to w_e * y_e.
    SmallVector<ExpertMlp> byExpert(experts);
    SmallVector<Value> terms;
    SmallVector<bool> seen(experts, false);
    for (Operation *user : topk.getIndices().getUsers()) {
      auto eq = dyn_cast<CompareOp>(user);
      std::optional<double> e = eq ? scalarConstant(eq.getRhs()) : std::nullopt;
      if (!eq || eq.getKind() != CompareKind::eq || eq.getLhs() != topk.getIndices() || !e)
        return rewriter.notifyMatchFailure(topk, "moe: the expert indices are used other than "
                                                 "compared with an expert number");
      int64_t id = (int64_t)*e;
      if (id < 0 || id >= experts || seen[id])
        return rewriter.notifyMatchFailure(eq, "moe: expert number out of range or repeated");
      seen[id] = true;
      auto cast = dyn_cast_or_null<CastOp>(soleUser(eq.getResult()));
      auto mul = cast ? dyn_cast_or_null<BinaryOp>(soleUser(cast.getResult())) : BinaryOp();
      if (!mul || mul.getKind() != BinaryKind::mul ||
          (mul.getLhs() != weights && mul.getRhs() != weights))
        return rewriter.notifyMatchFailure(eq, "moe: the expert mask does not select the routing "
                                               "weights of the same TopK");
      auto sum = dyn_cast_or_null<ReduceOp>(soleUser(mul.getResult()));
      if (!sum || sum.getKind() != ReduceKind::sum || !sum.getKeepdims())
        return rewriter.notifyMatchFailure(mul, "moe: the masked weights are not summed per "
                                                "token");
      auto scaled = dyn_cast_or_null<BinaryOp>(soleUser(sum.getResult()));
      if (!scaled || scaled.getKind() != BinaryKind::mul)
        return rewriter.notifyMatchFailure(sum, "moe: the expert weight does not scale an "
                                                "expert output");
      Value y = scaled.getLhs() == sum.getResult() ? scaled.getRhs() : scaled.getLhs();
      std::optional<ExpertMlp> mlp = matchExpert(y, x);
      if (!mlp)
        return rewriter.notifyMatchFailure(scaled, "moe: the weighted value is not a gated MLP "
                                                   "(act(x·G) * (x·U))·D of the router's input");
      byExpert[id] = *mlp;
      terms.push_back(scaled.getResult());
      locs.append({eq.getLoc(), cast.getLoc(), mul.getLoc(), sum.getLoc(), scaled.getLoc()});
      locs.append(mlp->locs);
    }
    if (llvm::count(seen, true) != experts)
      return rewriter.notifyMatchFailure(topk, "moe: not every expert of the router is used");

    // The terms meet in one Add tree (whose other leaves are zeros).
    Operation *root = nullptr;
    Value cur = terms.front();
    while (auto add = dyn_cast_or_null<BinaryOp>(soleUser(cur))) {
      if (add.getKind() != BinaryKind::add)
        break;
      root = add;
      cur = add.getResult();
    }
    if (!root)
      return rewriter.notifyMatchFailure(topk, "moe: the expert outputs are not added up");
    llvm::SmallPtrSet<Value, 16> termSet(terms.begin(), terms.end());
    SmallVector<Value> stack = {root->getResult(0)};
    int64_t found = 0;
    // A shared expert (DeepSeek, Qwen-MoE) is one more leaf: a gated MLP
    // of x, optionally scaled by sigmoid(x · g) with g [H, 1] (Qwen-MoE).
    std::optional<ExpertMlp> shared;
    Value sharedGate;
    while (!stack.empty()) {
      Value v = stack.pop_back_val();
      if (termSet.contains(v)) {
        ++found;
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
        shared = matchExpert(mlpOut, x);
        if (shared) {
          locs.append(shared->locs);
          continue;
        }
        sharedGate = Value();
      }
      return rewriter.notifyMatchFailure(root, "moe: the sum of expert outputs also adds "
                                               "something else");
    }
    if (found != experts)
      return rewriter.notifyMatchFailure(root, "moe: the sum does not take every expert once");

    auto xt = dyn_cast<RankedTensorType>(x.getType());
    auto outType = dyn_cast<RankedTensorType>(root->getResult(0).getType());
    if (!xt || !outType || outType != xt || !xt.hasStaticShape())
      return rewriter.notifyMatchFailure(root, "moe: the layer output is not shaped like its input");
    // Experts stack only when they agree: G, U [H, I] and D [I, H].
    Type gt = byExpert[0].gate.getType(), dt = byExpert[0].down.getType();
    auto g2 = cast<RankedTensorType>(gt);
    if (g2.getDimSize(0) != xt.getShape().back() || g2.getElementType() != xt.getElementType() ||
        dt != RankedTensorType::get({g2.getDimSize(1), g2.getDimSize(0)}, g2.getElementType()) ||
        rt.getElementType() != xt.getElementType() || rt.getDimSize(0) != g2.getDimSize(0) ||
        llvm::any_of(byExpert, [&](ExpertMlp &e) {
          return e.gate.getType() != gt || e.up.getType() != gt || e.down.getType() != dt;
        }))
      return rewriter.notifyMatchFailure(root, "moe: the experts' weights differ in shape or type");
    if (shared) {
      auto sgt = cast<RankedTensorType>(shared->gate.getType());
      if (sgt.getDimSize(0) != g2.getDimSize(0) || sgt.getElementType() != g2.getElementType() ||
          shared->up.getType() != sgt ||
          shared->down.getType() != RankedTensorType::get({sgt.getDimSize(1), sgt.getDimSize(0)},
                                                          sgt.getElementType()))
        return rewriter.notifyMatchFailure(root, "moe: the shared expert's weights do not fit");
    }

    // Stack the experts' weights: [1, ., .] views concatenated on axis 0.
    locs.push_back(root->getLoc()); // last: the report names the output node
    rewriter.setInsertionPoint(root);
    Location loc = rewriter.getFusedLoc(locs);
    auto stack3 = [&](auto get) -> Value {
      SmallVector<Value> parts;
      for (ExpertMlp &e : byExpert) {
        Value w = get(e);
        auto t = cast<RankedTensorType>(w.getType());
        auto t3 = RankedTensorType::get({1, t.getDimSize(0), t.getDimSize(1)}, t.getElementType());
        parts.push_back(ReshapeOp::create(rewriter, loc, t3, w, Value(), false));
      }
      return ConcatOp::create(rewriter, loc, parts, rewriter.getI64IntegerAttr(0));
    };
    Value gate = stack3([](ExpertMlp &e) { return e.gate; });
    Value up = stack3([](ExpertMlp &e) { return e.up; });
    Value down = stack3([](ExpertMlp &e) { return e.down; });
    OperationState state(loc, MoeOp::getOperationName());
    Value sg = shared ? shared->gate : Value(), su = shared ? shared->up : Value(),
          sd = shared ? shared->down : Value();
    MoeOp::build(rewriter, state, outType, x, router.getRhs(), gate, up, down, Value(), sg, su, sd,
                 sharedGate, rewriter.getI64IntegerAttr(topk.getK()),
                 ScoreFuncAttr::get(rewriter.getContext(), scoring),
                 normalize ? rewriter.getUnitAttr() : UnitAttr(), rewriter.getI64IntegerAttr(1),
                 rewriter.getI64IntegerAttr(1), rewriter.getF32FloatAttr(1.0f),
                 ActivationAttr::get(rewriter.getContext(), Activation::silu));
    Operation *moe = rewriter.create(state);
    rewriter.replaceOp(root, moe->getResults());
    return success();
  }
};

} // namespace

void populateMoePatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseDenseMoe>(patterns.getContext());
}

} // namespace kiln::fusion

//===- MoeByEvaluation.cpp - raise a MoE layer by proof -------------------===//
//
// Exporters keep inventing ways to write a MoE layer (transformers 5 alone
// has an eager loop over the experts a batch hit, traced differently by
// each torch exporter, and `batched_mm`, which gathers the stacked weights
// at the routed experts). Instead of one pattern per form, this finds what
// every form shares and proves the rest:
//
//   1. the anchor: the router's TopK (Moe.cpp parses the selection and the
//      routing weights);
//   2. the layer output: walking the block from the TopK, the first point
//      where everything computed from the TopK has narrowed to one value
//      shaped like the tokens (plus a shared expert added to it);
//   3. the experts: the [E, ., .] weights that output reads;
//   4. the proof: every way of reading those weights as gate/up/down (fused
//      gate_up split in halves or interleaved, either order and layout) and
//      every activation the subgraph uses gives a kiln.moe candidate; the
//      one that evaluates equal to the subgraph on random tokens
//      (Interpreter.h) replaces it. A look-alike fails the proof.
//
// Evaluation costs about one run of the layer in double precision; a layer
// beyond the interpreter's budget is reported, not raised.
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/Interpreter.h"
#include "passes/Fusion/Patterns.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>
#include <functional>
#include <random>

using namespace mlir;

namespace kiln::fusion {
namespace {

/// Stacked expert weights read as gate/up [E, H, I] or down [E, I, H]: a
/// slice of the stored [E, a, b] tensor on `axis` (1 or 2), then, when
/// `swap`, its last two dims exchanged.
struct ExpertView {
  Value weight;
  int64_t axis = 1, start = 0, step = 1, count = 0;
  bool swap = false;
};

HostTensor readView(const HostTensor &w, const ExpertView &v) {
  int64_t e = w.shape[0], a = w.shape[1], b = w.shape[2];
  int64_t na = v.axis == 1 ? v.count : a, nb = v.axis == 2 ? v.count : b;
  HostTensor out({e, v.swap ? nb : na, v.swap ? na : nb});
  for (int64_t x = 0; x < e; ++x)
    for (int64_t i = 0; i < na; ++i)
      for (int64_t j = 0; j < nb; ++j) {
        int64_t si = v.axis == 1 ? v.start + i * v.step : i;
        int64_t sj = v.axis == 2 ? v.start + j * v.step : j;
        double val = w.data[(x * a + si) * b + sj];
        if (v.swap)
          out.data[(x * nb + j) * na + i] = val;
        else
          out.data[(x * na + i) * nb + j] = val;
      }
  return out;
}

Value buildView(PatternRewriter &rewriter, Location loc, const ExpertView &v) {
  auto t = cast<RankedTensorType>(v.weight.getType());
  SmallVector<int64_t> starts(3, 0), ends(t.getShape()), steps(3, 1), shape(t.getShape());
  starts[v.axis] = v.start;
  ends[v.axis] = v.start + (v.count - 1) * v.step + 1;
  steps[v.axis] = v.step;
  shape[v.axis] = v.count;
  Value out = v.weight;
  if (v.count != t.getDimSize(v.axis))
    out = SliceOp::create(rewriter, loc, RankedTensorType::get(shape, t.getElementType()), out,
                          Value(), Value(), Value(), Value(), rewriter.getDenseI64ArrayAttr(starts),
                          rewriter.getDenseI64ArrayAttr(ends), rewriter.getDenseI64ArrayAttr(steps));
  if (v.swap)
    out = TransposeOp::create(
        rewriter, loc,
        RankedTensorType::get({shape[0], shape[2], shape[1]}, t.getElementType()), out,
        rewriter.getDenseI64ArrayAttr({0, 2, 1}));
  return out;
}

struct Candidate {
  ExpertView gate, up, down;
  Activation activation;
};

/// Every reading of `weights` (two or three [E, ., .] tensors) as experts
/// of hidden width `h`.
SmallVector<Candidate> expertReadings(ArrayRef<Value> weights, int64_t h,
                                      ArrayRef<Activation> activations) {
  SmallVector<Candidate> out;
  auto dims = [](Value w) { return cast<RankedTensorType>(w.getType()).getShape(); };
  // down: [E, H, I] stored (out, in) or [E, I, H] stored (in, out).
  auto downViews = [&](Value w, int64_t inter) {
    SmallVector<ExpertView> v;
    ArrayRef<int64_t> d = dims(w);
    if (d[1] == h && d[2] == inter)
      v.push_back({w, 1, 0, 1, h, /*swap=*/true});
    if (d[1] == inter && d[2] == h)
      v.push_back({w, 1, 0, 1, inter, false});
    return v;
  };
  // gate or up alone: [E, I, H] stored (out, in) or [E, H, I].
  auto projViews = [&](Value w) {
    SmallVector<std::pair<ExpertView, int64_t>> v; // with its I
    ArrayRef<int64_t> d = dims(w);
    if (d[2] == h)
      v.push_back({{w, 1, 0, 1, d[1], true}, d[1]});
    if (d[1] == h)
      v.push_back({{w, 2, 0, 1, d[2], false}, d[2]});
    return v;
  };
  auto add = [&](ExpertView g, ExpertView u, ExpertView d) {
    for (Activation a : activations)
      out.push_back({g, u, d, a});
  };
  if (weights.size() == 2) {
    for (int which = 0; which < 2; ++which) {
      Value fused = weights[which], down = weights[1 - which];
      for (auto [whole, twoI] : projViews(fused)) {
        if (twoI % 2)
          continue;
        int64_t inter = twoI / 2;
        for (ExpertView d : downViews(down, inter)) {
          ExpertView first = whole, second = whole; // halves
          first.count = second.count = inter;
          second.start = inter;
          ExpertView even = whole, odd = whole; // interleaved
          even.count = odd.count = inter;
          even.step = odd.step = 2;
          odd.start = 1;
          add(first, second, d);
          add(second, first, d);
          add(even, odd, d);
          add(odd, even, d);
        }
      }
    }
  } else if (weights.size() == 3) {
    for (int di = 0; di < 3; ++di)
      for (int gi = 0; gi < 3; ++gi) {
        if (gi == di)
          continue;
        int ui = 3 - di - gi;
        for (auto [g, inter] : projViews(weights[gi]))
          for (auto [u, interU] : projViews(weights[ui]))
            if (interU == inter)
              for (ExpertView d : downViews(weights[di], inter))
                add(g, u, d);
      }
  }
  return out;
}

/// Where everything computed from the TopK narrows to one float value
/// with rows of width `h`, in program order: the first one holding one
/// row per token is the routed experts' output (told by element count:
/// from the types when static, by evaluation when the tokens are dynamic).
SmallVector<Value> narrowingPoints(TopKOp topk, int64_t h) {
  SmallVector<Value> points;
  Block *block = topk->getBlock();
  SetVector<Operation *> slice;
  ForwardSliceOptions options;
  options.filter = [&](Operation *op) { return op->getBlock() == block; };
  getForwardSlice(topk.getOperation(), &slice, options);
  DenseMap<Operation *, int64_t> position;
  int64_t n = 0;
  for (Operation &op : *block)
    position[&op] = n++;
  auto lastUse = [&](Value v) {
    int64_t last = -1;
    for (Operation *user : v.getUsers())
      if (Operation *a = block->findAncestorOpInBlock(*user))
        last = std::max(last, position[a]);
    return last;
  };
  DenseMap<Value, int64_t> live; // value -> its last use
  for (Value r : topk->getResults())
    live[r] = lastUse(r);
  for (Operation *op = topk->getNextNode(); op; op = op->getNextNode()) {
    int64_t at = position[op];
    if (slice.contains(op))
      for (Value r : op->getResults())
        if (!r.use_empty())
          live[r] = lastUse(r);
    SmallVector<Value> dead;
    for (auto [v, last] : live)
      if (last <= at)
        dead.push_back(v);
    for (Value v : dead)
      live.erase(v);
    if (live.size() != 1)
      continue;
    Value v = live.begin()->first;
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (t && t.getRank() >= 1 && t.getShape().back() == h && isa<FloatType>(t.getElementType()) &&
        !llvm::is_contained(points, v))
      points.push_back(v);
  }
  return points;
}

Value stripReshapes(Value v) {
  while (auto r = v.getDefiningOp<ReshapeOp>())
    v = r.getInput();
  return v;
}

/// `y` (through reshapes) plus a shared expert of the same tokens: the
/// add, the expert and its sigmoid gate weight (Qwen-MoE), or nothing.
struct SharedExpert {
  Value sum;
  GatedMlpMatch mlp;
  Value gate;
};
std::optional<SharedExpert> sharedExpertAdded(Value y, Value tokens) {
  Value v = y;
  while (Operation *user = soleUser(v)) {
    if (isa<ReshapeOp>(user)) {
      v = user->getResult(0);
      continue;
    }
    auto add = dyn_cast<BinaryOp>(user);
    if (!add || add.getKind() != BinaryKind::add || add.getType() != v.getType())
      return std::nullopt;
    Value other = add.getLhs() == v ? add.getRhs() : add.getLhs();
    SharedExpert s{add.getResult(), {}, {}};
    Value mlpOut = other;
    if (BinaryOp mul = binaryOf(other, BinaryKind::mul))
      for (auto [g, rest] : {std::pair(mul.getLhs(), mul.getRhs()),
                             std::pair(mul.getRhs(), mul.getLhs())}) {
        UnaryOp sig = unaryOf(g, UnaryKind::sigmoid);
        auto gm = sig ? sig.getInput().getDefiningOp<MatmulOp>() : MatmulOp();
        auto gt = gm ? dyn_cast<RankedTensorType>(gm.getRhs().getType()) : RankedTensorType();
        if (gm && stripReshapes(gm.getLhs()) == tokens && gt && gt.getRank() == 2 &&
            gt.getDimSize(1) == 1) {
          s.gate = gm.getRhs();
          mlpOut = rest;
          break;
        }
      }
    std::optional<GatedMlpMatch> mlp = matchGatedMlp(mlpOut, Value());
    if (!mlp || stripReshapes(mlp->input) != tokens)
      return std::nullopt;
    s.mlp = *mlp;
    return s;
  }
  return std::nullopt;
}

HostTensor randomTokens(ArrayRef<int64_t> shape, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  HostTensor t(shape);
  for (double &x : t.data)
    x = normal(gen);
  return t;
}

bool closeEnough(const HostTensor &a, const HostTensor &b) {
  if (a.numElements() != b.numElements())
    return false;
  double scale = 1.0, worst = 0.0;
  for (int64_t i = 0; i < a.numElements(); ++i) {
    scale = std::max(scale, std::fabs(a.data[i]));
    double d = std::fabs(a.data[i] - b.data[i]);
    if (std::isnan(d))
      return false;
    worst = std::max(worst, d);
  }
  return worst <= 1e-6 * scale;
}

} // namespace

LogicalResult raiseMoeByEvaluation(const MoeRouting &r, PatternRewriter &rewriter,
                                   MoeMiss &miss) {
  TopKOp topk = r.topk;
  auto fail = [&](Operation *at, const Twine &why) {
    miss = {at, ("moe: " + why).str()};
    return failure();
  };
  auto xt = dyn_cast<RankedTensorType>(r.x.getType());
  if (!xt || xt.getRank() < 1 || xt.isDynamicDim(xt.getRank() - 1))
    return fail(topk, "the router's input is not [tokens..., hidden] with a static hidden size");
  int64_t h = xt.getShape().back();
  Value root = stripReshapes(r.x);
  auto rootType = dyn_cast<RankedTensorType>(root.getType());
  if (!rootType || rootType.getRank() < 1 || rootType.getShape().back() != h)
    return fail(topk, "the tokens are not [tokens..., hidden] with the router's hidden size");
  // Dynamic token dims (a batch, a length) are evaluated at a few sizes
  // of their own: 2 x 5 tokens for [batch, seq, H].
  SmallVector<int64_t> evalShape(rootType.getShape());
  int64_t nextSize = 2;
  for (int64_t &d : evalShape)
    if (ShapedType::isDynamic(d))
      d = nextSize, nextSize += 3;
  auto useOneToken = [&] {
    for (auto [i, d] : llvm::enumerate(evalShape))
      if (rootType.isDynamicDim(i))
        d = 1;
  };
  // A dim one symbol with a dynamic token dim has its evaluated size (a
  // reshape back to [batch, seq, H] may read them from input_ids' shape).
  auto tokenDim = [&, root](Value v, int64_t d) -> std::optional<int64_t> {
    SymbolicDim sym = symbolicDim(v, d);
    for (int64_t i = 0; i < rootType.getRank(); ++i)
      if (rootType.isDynamicDim(i) && !sym.unknown && symbolicDim(root, i) == sym)
        return evalShape[i];
    return std::nullopt;
  };

  // The layer's output: static, the first narrowing point of the tokens'
  // element count; dynamic, told on the first evaluation below.
  SmallVector<Value> points = narrowingPoints(topk, h);
  Value routed, output;
  Operation *outputOp = nullptr;
  std::optional<SharedExpert> shared;
  auto choose = [&](Value v) {
    routed = v;
    outputOp = routed.getDefiningOp();
    shared = sharedExpertAdded(routed, root);
    output = shared ? shared->sum : routed;
  };
  const char *noOutput = "no value shaped like the tokens joins everything computed from the "
                         "TopK (the layer's output)";
  if (xt.hasStaticShape()) {
    for (Value v : points)
      if (cast<RankedTensorType>(v.getType()).hasStaticShape() &&
          cast<RankedTensorType>(v.getType()).getNumElements() == xt.getNumElements()) {
        choose(v);
        break;
      }
    if (!routed)
      return fail(topk, noOutput);
  } else {
    // Dynamic tokens: the first point that evaluates to a row per token.
    // A point that does not evaluate
    // is passed over (a traced expert loop may fail on tokens that miss an
    // expert it recorded: a few draws; a graph the exporter specialized to
    // one token, a decode step, evaluates at one token only).
    std::string why;
    for (unsigned seed = 1; seed <= 8 && !routed; ++seed) {
      if (seed == 5)
        useOneToken();
      Interpreter interp;
      interp.setDimResolver(tokenDim);
      interp.bind(root, randomTokens(evalShape, seed));
      const HostTensor *hidden = interp.evaluate(r.x);
      if (!hidden) {
        why = interp.error();
        break;
      }
      int64_t rowsTimesH = hidden->numElements(); // (later evaluations move it)
      bool missed = false;
      for (Value v : points) {
        const HostTensor *pv = interp.evaluate(v);
        if (pv && pv->numElements() == rowsTimesH) {
          choose(v);
          break;
        }
        if (!pv) {
          missed = true;
          why = interp.error();
          if (why.find("too large") != std::string::npos)
            break;
        }
      }
      if (!missed)
        break;
    }
    if (!routed)
      return fail(topk, why.empty() ? Twine(noOutput)
                                    : noOutput + Twine(" (evaluating: ") + why + ")");
  }

  // The stacked expert weights the routed output reads: its backward slice
  // through ops computed from the tokens and constant-only ops (not into
  // earlier layers).
  SetVector<Operation *> fromTokens;
  getForwardSlice(root, &fromTokens);
  DenseMap<Operation *, bool> constantOnly;
  std::function<bool(Operation *)> isConstantOnly = [&](Operation *op) {
    auto [it, inserted] = constantOnly.try_emplace(op, false);
    if (!inserted)
      return it->second;
    bool result = llvm::all_of(op->getOperands(), [&](Value v) {
      Operation *def = v.getDefiningOp();
      return def && isConstantOnly(def);
    });
    return constantOnly[op] = result;
  };
  SetVector<Operation *> upstream;
  BackwardSliceOptions options;
  options.inclusive = true;
  options.filter = [&](Operation *op) {
    return op->getBlock() == topk->getBlock() && (fromTokens.contains(op) || isConstantOnly(op));
  };
  (void)getBackwardSlice(routed, &upstream, options);
  SmallVector<Value> stacked;
  SmallVector<Activation> activations = {Activation::silu};
  for (Operation *op : upstream) {
    if (isa<WeightOp, arith::ConstantOp>(op)) {
      auto t = dyn_cast<RankedTensorType>(op->getResult(0).getType());
      if (t && t.getRank() == 3 && t.getDimSize(0) == r.experts &&
          isa<FloatType>(t.getElementType()) && !llvm::is_contained(stacked, op->getResult(0)))
        stacked.push_back(op->getResult(0));
    }
    if (auto u = dyn_cast<UnaryOp>(op)) {
      std::optional<Activation> a;
      if (u.getKind() == UnaryKind::gelu || u.getKind() == UnaryKind::erf)
        a = Activation::gelu;
      else if (u.getKind() == UnaryKind::gelu_tanh || u.getKind() == UnaryKind::tanh)
        a = Activation::gelu_tanh;
      else if (u.getKind() == UnaryKind::relu)
        a = Activation::relu;
      if (a && !llvm::is_contained(activations, *a))
        activations.push_back(*a);
    }
  }
  if (stacked.size() != 2 && stacked.size() != 3)
    return fail(outputOp, "the layer reads " + Twine(stacked.size()) +
                              " stacked [experts, ., .] weights, not a fused gate_up and a down "
                              "or a gate, an up and a down");
  SmallVector<Candidate> candidates = expertReadings(stacked, h, activations);
  if (candidates.empty())
    return fail(outputOp, "the stacked weights do not fit experts of width " + Twine(h));

  // The proof: the subgraph and each candidate on the same random tokens,
  // twice. A traced expert loop only runs when the tokens route to every
  // expert it recorded (an index past the hit experts otherwise): a few
  // draws find tokens it accepts.
  // With dynamic tokens a graph an exporter specialized to one token (a
  // decode step) is evaluated at one token when more do not evaluate.
  std::string why;
  SmallVector<std::pair<HostTensor, HostTensor>> trials; // tokens, expected output
  for (unsigned seed = 1; seed <= 8 && trials.size() < 2; ++seed) {
    if (seed == 5 && trials.empty())
      useOneToken();
    Interpreter interp;
    interp.setDimResolver(tokenDim);
    HostTensor in = randomTokens(evalShape, seed);
    interp.bind(root, in);
    const HostTensor *want = interp.evaluate(output);
    if (!want) {
      why = interp.error();
      if (why.find("too large") != std::string::npos)
        break;
      continue;
    }
    HostTensor expected = *want; // (evaluating more may move it)
    const HostTensor *hidden = interp.evaluate(r.x);
    if (!hidden || hidden->numElements() != expected.numElements()) {
      why = "the layer's output does not hold one row per token";
      continue;
    }
    trials.push_back({*hidden, std::move(expected)});
  }
  if (trials.size() < 2)
    return fail(outputOp, "the layer could not be evaluated to prove a kiln.moe equal: " + why);

  Interpreter weightsOnly; // weights and constants need no tokens
  auto value = [&](Value v) -> const HostTensor * { return v ? weightsOnly.evaluate(v) : nullptr; };
  MoeReference ref;
  ref.scoring = r.scoring;
  ref.topK = topk.getK();
  ref.nGroup = r.nGroup;
  ref.topkGroup = r.topkGroup;
  ref.normalize = r.normalize;
  ref.routedScaling = r.factor;
  ref.router = value(r.routerWeight);
  ref.bias = value(r.bias);
  if (!ref.router || (r.bias && !ref.bias))
    return fail(topk, "the router weights cannot be read: " + weightsOnly.error());
  if (shared) {
    ref.sharedGate = value(shared->mlp.gate);
    ref.sharedUp = value(shared->mlp.up);
    ref.sharedDown = value(shared->mlp.down);
    ref.sharedExpertGate = value(shared->gate);
    if (!ref.sharedGate || !ref.sharedUp || !ref.sharedDown || (shared->gate && !ref.sharedExpertGate))
      return fail(outputOp, "the shared expert's weights cannot be read: " + weightsOnly.error());
  }
  std::optional<Candidate> proven;
  for (const Candidate &c : candidates) {
    const HostTensor *g = value(c.gate.weight), *u = value(c.up.weight), *d = value(c.down.weight);
    if (!g || !u || !d)
      return fail(outputOp, "the expert weights cannot be read: " + weightsOnly.error());
    HostTensor gate = readView(*g, c.gate), up = readView(*u, c.up), down = readView(*d, c.down);
    ref.gate = &gate;
    ref.up = &up;
    ref.down = &down;
    ref.activation = c.activation;
    // A few tokens screen out wrong readings before the full comparison.
    int64_t few = std::min<int64_t>(trials[0].first.numElements() / h, 4);
    HostTensor someTokens({few, h}), someExpected({few, h});
    std::copy_n(trials[0].first.data.begin(), few * h, someTokens.data.begin());
    std::copy_n(trials[0].second.data.begin(), few * h, someExpected.data.begin());
    if (!closeEnough(evaluateMoe(ref, someTokens), someExpected))
      continue;
    if (llvm::all_of(trials, [&](auto &trial) {
          return closeEnough(evaluateMoe(ref, trial.first), trial.second);
        })) {
      proven = c;
      break;
    }
  }
  if (!proven)
    return fail(outputOp, "no kiln.moe reading of its " + Twine(stacked.size()) +
                              " stacked weights (" + Twine(candidates.size()) +
                              " tried) evaluates equal to the layer");

  // A dynamic output of another shape than the router's input is the
  // tokens' shape (x's or root's, one symbol per dim): a reshape to it
  // takes that shape at run time.
  auto outType = cast<RankedTensorType>(output.getType());
  Value outputShapeOf;
  if (outType != xt && outType.getNumDynamicDims() > 1) {
    for (Value like : {root, r.x})
      if (cast<RankedTensorType>(like.getType()).getRank() == outType.getRank() &&
          llvm::all_of(llvm::seq<int64_t>(0, outType.getRank()),
                       [&](int64_t d) { return sameSize(output, d, like, d); }))
        outputShapeOf = like;
    if (!outputShapeOf)
      return fail(outputOp, "the layer's output is not known to have the tokens' shape");
  }

  // Proven: the fused op replaces the layer's output.
  SmallVector<Location> locs(r.locs);
  for (Operation *op : upstream)
    if (!isa<WeightOp, arith::ConstantOp>(op) && op != topk)
      locs.push_back(op->getLoc());
  if (shared) {
    locs.append(shared->mlp.locs);
    locs.push_back(output.getLoc());
  }
  Operation *outOp = output.getDefiningOp();
  llvm::erase(locs, outOp->getLoc());
  locs.push_back(outOp->getLoc()); // last: the report names the output node
  rewriter.setInsertionPoint(outOp);
  Location loc = rewriter.getFusedLoc(locs);
  Value gate = buildView(rewriter, loc, proven->gate), up = buildView(rewriter, loc, proven->up),
        down = buildView(rewriter, loc, proven->down);
  OperationState state(loc, MoeOp::getOperationName());
  MoeOp::build(rewriter, state, xt, r.x, r.routerWeight, gate, up, down, r.bias,
               shared ? shared->mlp.gate : Value(), shared ? shared->mlp.up : Value(),
               shared ? shared->mlp.down : Value(), shared ? shared->gate : Value(),
               rewriter.getI64IntegerAttr(topk.getK()),
               ScoreFuncAttr::get(rewriter.getContext(), r.scoring),
               r.normalize ? rewriter.getUnitAttr() : UnitAttr(),
               rewriter.getI64IntegerAttr(r.nGroup), rewriter.getI64IntegerAttr(r.topkGroup),
               rewriter.getF32FloatAttr(r.factor),
               ActivationAttr::get(rewriter.getContext(), proven->activation));
  Value moe = rewriter.create(state)->getResult(0);
  Value outputShape = outputShapeOf ? ShapeOp::create(rewriter, loc, outputShapeOf) : Value();
  if (moe.getType() != output.getType())
    moe = ReshapeOp::create(rewriter, loc, output.getType(), moe, outputShape, false);
  if (outOp->getNumResults() == 1)
    rewriter.replaceOp(outOp, moe);
  else
    rewriter.replaceAllUsesWith(output, moe);
  return success();
}

} // namespace kiln::fusion

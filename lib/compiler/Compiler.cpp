//===- Compiler.cpp - prepare @main and compile it per target -------------===//

#include "lib/compiler/Compiler.h"
#include "lib/support/StorageBytes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/StringMap.h"

#include <algorithm>

using namespace mlir;

namespace kiln::compiler {

static LogicalResult signatureOf(Value v, Location loc, StringRef what, StringRef name,
                                 TensorSignature &sig) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t)
    return emitError(loc) << what << " '" << name << "' has type " << v.getType()
                          << "; only tensors can be compiled";
  if (!t.hasStaticShape() && isa<StringType>(t.getElementType()))
    return emitError(loc) << what << " '" << name << "' has dynamic shape " << t
                          << "; string tensors need static shapes (fix it with --input-shape "
                          << name << "=... or --dim)";
  sig.name = name.str();
  sig.elementType = t.getElementType();
  for (int64_t d : t.getShape())
    sig.shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
  return success();
}

/// Gives each dynamic dim of an input its dims-vector entry: one per name
/// (ONNX dim_param) across inputs, one each when unnamed.
static void assignDims(TensorSignature &sig, ArrayAttr names, llvm::StringMap<int64_t> &named,
                       int64_t &symbols) {
  if (llvm::none_of(sig.shape, [](int64_t d) { return d < 0; }))
    return;
  for (auto [d, size] : llvm::enumerate(sig.shape)) {
    StringAttr name = names && d < names.size() ? dyn_cast<StringAttr>(names[d]) : nullptr;
    sig.dimNames.push_back(name ? name.str() : "");
    if (size >= 0) {
      sig.dims.push_back(-1);
      continue;
    }
    if (!sig.dimNames.back().empty()) {
      auto [it, inserted] = named.try_emplace(sig.dimNames.back(), symbols);
      symbols += inserted;
      sig.dims.push_back(it->second);
    } else {
      sig.dims.push_back(symbols++);
    }
  }
}

LogicalResult bindInputValues(ModuleOp module,
                              ArrayRef<std::pair<std::string, DenseElementsAttr>> values) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return module.emitError("the model has no @main function");
  for (const auto &[name, value] : values) {
    std::optional<unsigned> index;
    for (unsigned i = 0; i < main.getNumArguments(); ++i)
      if (auto n = main.getArgAttrOfType<StringAttr>(i, "kiln.name"); n && n.getValue() == name)
        index = i;
    if (!index)
      return main.emitError("--input-value names '") << name << "', which is not an input";
    BlockArgument arg = main.getArgument(*index);
    auto want = dyn_cast<RankedTensorType>(arg.getType());
    auto have = cast<RankedTensorType>(value.getType());
    bool compatible = want && want.getElementType() == have.getElementType() &&
                      want.getRank() == have.getRank();
    for (int64_t d = 0; compatible && d < have.getRank(); ++d)
      compatible = want.isDynamicDim(d) || want.getDimSize(d) == have.getDimSize(d);
    if (!compatible)
      return main.emitError("input '") << name << "' has type " << arg.getType()
                                      << ", the value given is " << have;
    OpBuilder b(main.getBody());
    Value constant = arith::ConstantOp::create(b, arg.getLoc(), value);
    arg.replaceAllUsesWith(constant);
    if (failed(main.eraseArgument(*index)))
      return failure();
  }
  return success();
}

/// 2 x multiply-adds of the ops that dominate arithmetic, from result
/// shapes: every result element of a matmul/gemm/conv is a K-long dot.
static uint64_t countFlops(func::FuncOp main) {
  uint64_t flops = 0;
  auto elements = [](Value v) -> uint64_t {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    return t && t.hasStaticShape() ? (uint64_t)t.getNumElements() : 0;
  };
  auto dim = [](Value v, int64_t i) -> uint64_t {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t || t.getRank() == 0 || t.isDynamicDim((i + t.getRank()) % t.getRank()))
      return 0;
    return (uint64_t)t.getDimSize((i + t.getRank()) % t.getRank());
  };
  main.walk([&](Operation *op) {
    if (auto m = dyn_cast<MatmulOp>(op))
      flops += 2 * elements(m.getResult()) * dim(m.getLhs(), -1);
    else if (auto g = dyn_cast<GemmOp>(op))
      flops += 2 * elements(g.getResult()) * dim(g.getA(), g.getTransA() ? 0 : 1);
    else if (auto a = dyn_cast<AttentionOp>(op)) {
      // Q Kᵀ and P V: 2 * B * Hq * Sq * L * (Dqk + Dv).
      uint64_t l = dim(a.getKey(), 2) + (a.getPastKey() ? dim(a.getPastKey(), 2) : 0);
      flops += 2 * elements(a.getQuery()) / std::max<uint64_t>(dim(a.getQuery(), 3), 1) * l *
               (dim(a.getQuery(), 3) + dim(a.getValue(), 3));
    } else if (auto c = dyn_cast<ConvOp>(op))
      if (uint64_t cout = dim(c.getWeight(), 0))
        flops += 2 * elements(c.getResult()) * (elements(c.getWeight()) / cout);
  });
  return flops;
}

/// The f16/bf16 -> f32 widening a cast does, if it is one.
static std::optional<WeightView::Widen> widening(CastOp c) {
  auto in = cast<RankedTensorType>(c.getInput().getType()).getElementType();
  auto out = cast<RankedTensorType>(c.getType()).getElementType();
  if (!out.isF32())
    return std::nullopt;
  if (in.isF16())
    return WeightView::Widen::F16;
  if (in.isBF16())
    return WeightView::Widen::BF16;
  return std::nullopt;
}

/// The weight `v` reads, seen through reshapes (which keep the bytes) and,
/// when `widen` is given, one widening cast (reported there), or null.
static WeightOp weightBytes(Value v, WeightView::Widen *widen = nullptr) {
  if (widen)
    *widen = WeightView::Widen::None;
  while (true) {
    if (auto r = v.getDefiningOp<ReshapeOp>(); r && !r.getShape()) {
      v = r.getInput();
      continue;
    }
    if (auto c = v.getDefiningOp<CastOp>(); c && widen && *widen == WeightView::Widen::None) {
      std::optional<WeightView::Widen> w = widening(c);
      if (!w)
        return {};
      *widen = *w;
      v = c.getInput();
      continue;
    }
    return v.getDefiningOp<WeightOp>();
  }
}



static bool isContiguous(const WeightView &v) {
  int64_t expect = 1;
  for (size_t k = v.shape.size(); k-- > 0;) {
    if (v.shape[k] != 1 && v.strides[k] != expect)
      return false;
    expect *= v.shape[k];
  }
  return true;
}

static void setContiguous(WeightView &v, ArrayRef<int64_t> shape) {
  v.shape.assign(shape.begin(), shape.end());
  v.strides.assign(shape.size(), 1);
  for (size_t k = shape.size(); k-- > 1;)
    v.strides[k - 1] = v.strides[k] * shape[k];
}

/// `v` as a strided view of one weight's elements through Transpose,
/// Reshape (of a contiguous view) and static Slice with positive steps.
static WeightOp viewOfWeight(Value v, WeightView &view) {
  if (auto w = v.getDefiningOp<WeightOp>()) {
    auto t = cast<RankedTensorType>(w.getType());
    if (!t.hasStaticShape() || !elementStorageBytes(t.getElementType()))
      return {};
    view = WeightView();
    view.elementBytes = elementStorageBytes(t.getElementType());
    setContiguous(view, t.getShape());
    return w;
  }
  if (auto c = v.getDefiningOp<CastOp>()) {
    std::optional<WeightView::Widen> widen = widening(c);
    WeightOp w = widen ? viewOfWeight(c.getInput(), view) : WeightOp();
    if (!w || view.widen != WeightView::Widen::None)
      return {};
    view.widen = *widen;
    return w;
  }
  if (auto tr = v.getDefiningOp<TransposeOp>()) {
    WeightOp w = viewOfWeight(tr.getInput(), view);
    if (!w)
      return {};
    WeightView in = view;
    for (auto [i, p] : llvm::enumerate(tr.getPerm())) {
      view.shape[i] = in.shape[p];
      view.strides[i] = in.strides[p];
    }
    return w;
  }
  if (auto r = v.getDefiningOp<ReshapeOp>()) {
    auto t = dyn_cast<RankedTensorType>(r.getType());
    WeightOp w = r.getShape() || !t || !t.hasStaticShape() ? WeightOp()
                                                            : viewOfWeight(r.getInput(), view);
    if (!w || !isContiguous(view))
      return {};
    setContiguous(view, t.getShape());
    return w;
  }
  if (auto s = v.getDefiningOp<SliceOp>()) {
    if (s.getRuntimeStarts() || s.getRuntimeEnds() || s.getRuntimeAxes() || s.getRuntimeSteps())
      return {};
    WeightOp w = viewOfWeight(s.getInput(), view);
    if (!w || s.getStarts().size() != view.shape.size())
      return {};
    for (size_t k = 0; k < view.shape.size(); ++k) {
      int64_t dim = view.shape[k], step = s.getSteps()[k];
      auto clampIndex = [&](int64_t i) {
        if (i < 0)
          i += dim;
        return std::clamp<int64_t>(i, 0, dim);
      };
      int64_t start = clampIndex(s.getStarts()[k]), end = clampIndex(s.getEnds()[k]);
      if (step <= 0)
        return {};
      view.offset += start * view.strides[k];
      view.strides[k] *= step;
      view.shape[k] = end > start ? (end - start + step - 1) / step : 0;
    }
    return w;
  }
  return {};
}

/// Transposes and slices of weights become weights of their own, gathered
/// when the artifact is written (WeightViews.h): only the outermost op of a
/// chain, the one some non-view op reads.
static LogicalResult bindWeightViews(func::FuncOp main, CompiledModel &model) {
  SmallVector<Operation *> candidates;
  main.walk([&](Operation *op) {
    WeightView view;
    if (isa<TransposeOp, SliceOp, CastOp>(op) && viewOfWeight(op->getResult(0), view))
      candidates.push_back(op);
  });
  SmallVector<Operation *> bound;
  for (Operation *op : llvm::reverse(candidates)) {
    Value result = op->getResult(0);
    if (result.use_empty())
      continue;
    bool coveredByUser = llvm::all_of(result.getUsers(), [](Operation *user) {
      WeightView view;
      return isa<TransposeOp, SliceOp, ReshapeOp, CastOp>(user) &&
             viewOfWeight(user->getResult(0), view);
    });
    if (coveredByUser)
      continue;
    WeightView view;
    WeightOp w = viewOfWeight(result, view);
    auto t = cast<RankedTensorType>(result.getType());
    if (t.getShape() != ArrayRef<int64_t>(view.shape))
      continue;
    auto wt = cast<RankedTensorType>(w.getType());
    WeightBinding binding;
    binding.name = w.getName().str() + "." + op->getName().stripDialect().str();
    if (isContiguous(view) && view.widen == WeightView::Widen::None) { // a byte range
      binding.slices.push_back({w.getFile().str(),
                                (uint64_t)w.getOffset() + view.offset * view.elementBytes,
                                view.size()});
    } else {
      binding.slices.push_back({w.getFile().str(), (uint64_t)w.getOffset(), storageBytes(wt)});
      binding.view = view;
    }
    unsigned index = main.getNumArguments();
    if (failed(main.insertArgument(index, t, {}, op->getLoc())))
      return failure();
    model.weights.push_back(std::move(binding));
    result.replaceAllUsesWith(main.getArgument(index));
    bound.push_back(op);
  }
  // Drop the chains down to the weights once no candidate is visited any
  // more (the binding loop drops a weight nothing else reads).
  for (Operation *op : bound)
    for (Operation *dead = op; dead && !isa<WeightOp>(dead) && dead->use_empty();) {
      Operation *next = dead->getOperand(0).getDefiningOp();
      dead->erase();
      dead = next;
    }
  return success();
}

/// Each kiln.block_quantize of a weight (or a view of one) becomes two
/// arguments, its codes and its scales, computed from the weight's bytes
/// when the artifact is written.
static LogicalResult bindQuantizedWeights(func::FuncOp main, CompiledModel &model) {
  SmallVector<BlockQuantizeOp> work;
  main.walk([&](BlockQuantizeOp q) { work.push_back(q); });
  for (BlockQuantizeOp q : work) {
    WeightView view;
    WeightOp w = viewOfWeight(q.getInput(), view);
    auto in = cast<RankedTensorType>(q.getInput().getType());
    if (!w || ArrayRef<int64_t>(view.shape) != in.getShape())
      return q.emitError("kiln.block_quantize reads a value that is not a weight or a view "
                         "of one; only weights are quantized (when the artifact is written)");
    Type source = cast<RankedTensorType>(w.getType()).getElementType();
    if (view.widen == WeightView::Widen::None) {
      if (source.isF16())
        view.widen = WeightView::Widen::F16;
      else if (source.isBF16())
        view.widen = WeightView::Widen::BF16;
      else if (!source.isF32())
        return q.emitError("kiln.block_quantize of weight '")
               << w.getName() << "' of element type " << source
               << ": only f32, f16 and bf16 weights are quantized";
    }
    auto wt = cast<RankedTensorType>(w.getType());
    for (bool scales : {false, true}) {
      Value result = scales ? q.getScales() : q.getData();
      WeightBinding binding;
      binding.name = w.getName().str() +
                     (scales ? ".scales"
                             : q.getFloat8() ? ".fp8" : ".int" + std::to_string(q.getBits()));
      binding.slices.push_back({w.getFile().str(), (uint64_t)w.getOffset(), storageBytes(wt)});
      binding.view = view;
      binding.quantize = BlockQuantization{(int64_t)q.getBits(), (int64_t)q.getGroupSize(),
                                           q.getFloat8(), scales};
      unsigned index = main.getNumArguments();
      if (failed(main.insertArgument(index, result.getType(), {}, q.getLoc())))
        return failure();
      model.weights.push_back(std::move(binding));
      result.replaceAllUsesWith(main.getArgument(index));
    }
    Operation *dead = q;
    while (dead && !isa<WeightOp>(dead) && dead->use_empty()) {
      Operation *next = dead->getOperand(0).getDefiningOp();
      dead->erase();
      dead = next;
    }
  }
  return success();
}

/// Weights become arguments of @main bound to file bytes: one per distinct
/// (file, offset, type) weight, and one per concatenation of weights on
/// axis 0 (row-major, so the bytes of the inputs back to back), which is
/// packed into one artifact weight instead of copied at run time.
static LogicalResult bindWeights(func::FuncOp main, CompiledModel &model) {
  auto addArgument = [&](RankedTensorType t, Location loc,
                         WeightBinding binding) -> FailureOr<BlockArgument> {
    unsigned index = main.getNumArguments();
    if (failed(main.insertArgument(index, t, {}, loc)))
      return failure();
    model.weights.push_back(std::move(binding));
    return main.getArgument(index);
  };
  // The parts may be widened from f16/bf16 (all the same way): the packed
  // weight is then widened as a whole when written.
  auto packWidening = [](ConcatOp c) -> std::optional<WeightView::Widen> {
    std::optional<WeightView::Widen> common;
    for (Value v : c.getInputs()) {
      WeightView::Widen widen;
      if (!weightBytes(v, &widen) || (common && *common != widen))
        return std::nullopt;
      common = widen;
    }
    return common;
  };
  if (failed(bindQuantizedWeights(main, model)))
    return failure();
  SmallVector<ConcatOp> packs;
  main.walk([&](ConcatOp c) {
    auto t = dyn_cast<RankedTensorType>(c.getType());
    if (t && t.hasStaticShape() && c.getAxis() == 0 && packWidening(c))
      packs.push_back(c);
  });
  for (ConcatOp c : packs) {
    WeightBinding binding;
    WeightView::Widen widen = *packWidening(c);
    uint64_t sourceBytes = 0;
    for (Value v : c.getInputs()) {
      WeightView::Widen ignored;
      WeightOp w = weightBytes(v, &ignored);
      auto wt = cast<RankedTensorType>(w.getType());
      if (!wt.hasStaticShape())
        return w.emitError("weight of dynamic shape ") << wt;
      binding.name += (binding.name.empty() ? "" : "+") + w.getName().str();
      binding.slices.push_back({w.getFile().str(), (uint64_t)w.getOffset(), storageBytes(wt)});
      sourceBytes = elementStorageBytes(wt.getElementType());
    }
    if (widen != WeightView::Widen::None) {
      WeightView view;
      view.elementBytes = sourceBytes;
      view.widen = widen;
      setContiguous(view, {cast<RankedTensorType>(c.getType()).getNumElements()});
      binding.view = view;
    }
    FailureOr<BlockArgument> arg =
        addArgument(cast<RankedTensorType>(c.getType()), c.getLoc(), std::move(binding));
    if (failed(arg))
      return failure();
    c.getResult().replaceAllUsesWith(*arg);
    SmallVector<Value> inputs(c.getInputs());
    c.erase();
    for (Value v : inputs) // the views, now unused unless shared
      while (v && v.use_empty() && (v.getDefiningOp<ReshapeOp>() || v.getDefiningOp<CastOp>())) {
        Operation *r = v.getDefiningOp();
        v = r->getOperand(0);
        r->erase();
      }
  }
  if (failed(bindWeightViews(main, model)))
    return failure();
  llvm::StringMap<BlockArgument> seen;
  SmallVector<WeightOp> weights;
  main.walk([&](WeightOp w) { weights.push_back(w); });
  for (WeightOp w : weights) {
    if (w.use_empty()) {
      w.erase();
      continue;
    }
    auto t = cast<RankedTensorType>(w.getType());
    std::string key = w.getFile().str() + "@" + std::to_string(w.getOffset());
    llvm::raw_string_ostream(key) << ":" << t;
    BlockArgument &arg = seen[key];
    if (!arg) {
      if (!t.hasStaticShape())
        return w.emitError("weight of dynamic shape ") << t;
      FailureOr<BlockArgument> added = addArgument(
          t, w.getLoc(),
          {w.getName().str(), {{w.getFile().str(), (uint64_t)w.getOffset(), storageBytes(t)}}, std::nullopt, std::nullopt});
      if (failed(added))
        return failure();
      arg = *added;
    }
    w.getResult().replaceAllUsesWith(arg);
    w.erase();
  }
  return success();
}

static bool isHalf(Type t) {
  auto rt = dyn_cast<RankedTensorType>(t);
  return rt && (rt.getElementType().isF16() || rt.getElementType().isBF16());
}

/// `v` (f16/bf16) as f32: the cast is pushed below concatenations and
/// reshapes so that a stacked weight's parts are each a cast of a weight
/// (folded when the artifact is written).
static Value widened(OpBuilder &b, Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  auto f32 = RankedTensorType::get(t.getShape(), b.getF32Type());
  if (auto c = v.getDefiningOp<ConcatOp>()) {
    SmallVector<Value> parts;
    for (Value in : c.getInputs())
      parts.push_back(widened(b, in));
    return ConcatOp::create(b, c.getLoc(), parts, c.getAxisAttr());
  }
  if (auto r = v.getDefiningOp<ReshapeOp>(); r && !r.getShape())
    return ReshapeOp::create(b, r.getLoc(), f32, widened(b, r.getInput()), Value(), false);
  return CastOp::create(b, v.getLoc(), f32, v);
}

/// f16/bf16 kiln.attention and kiln.moe computed in f32: operands widened,
/// results narrowed back. A MoE's expert weights stay half (the kernel's
/// products widen them as they read them: half the bytes per routed token).
static void widenHalfFusedOps(func::FuncOp main) {
  SmallVector<Operation *> work;
  main.walk([&](Operation *op) {
    if (isa<AttentionOp, MoeOp>(op) && llvm::any_of(op->getOperandTypes(), isHalf))
      work.push_back(op);
  });
  for (Operation *op : work) {
    OpBuilder b(op);
    IRMapping map;
    auto moe = dyn_cast<MoeOp>(op);
    for (Value v : op->getOperands()) {
      bool expertWeight = moe && (v == moe.getGateWeight() || v == moe.getUpWeight() ||
                                  v == moe.getDownWeight());
      if (isHalf(v.getType()) && !expertWeight)
        map.map(v, widened(b, v));
    }
    Operation *wide = b.clone(*op, map);
    for (auto [narrow, result] : llvm::zip(op->getResults(), wide->getResults())) {
      if (!isHalf(narrow.getType()))
        continue;
      auto t = cast<RankedTensorType>(narrow.getType());
      result.setType(RankedTensorType::get(t.getShape(), b.getF32Type()));
      narrow.replaceAllUsesWith(CastOp::create(b, op->getLoc(), t, result).getResult());
    }
    op->erase();
  }
}

LogicalResult prepareForCodegen(ModuleOp module, CompiledModel &model,
                                const PrepareOptions &options) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return module.emitError("the model has no @main function");
  Block &body = main.getBody().front();
  model.flops = countFlops(main);
  llvm::StringMap<int64_t> named; // dim name -> its dims-vector entry
  for (auto [i, arg] : llvm::enumerate(main.getArguments())) {
    auto name = main.getArgAttrOfType<StringAttr>(i, "kiln.name");
    std::string n = name ? name.str() : "arg" + std::to_string(i);
    TensorSignature sig;
    if (failed(signatureOf(arg, main.getLoc(), "input", n, sig)))
      return failure();
    assignDims(sig, main.getArgAttrOfType<ArrayAttr>(i, "kiln.dim_names"), named,
               model.symbols);
    model.inputs.push_back(sig);
    if (auto state = main.getArgAttrOfType<DictionaryAttr>(i, "kiln.state")) {
      auto at = [&](llvm::StringRef key) { return (uint32_t)state.getAs<IntegerAttr>(key).getInt(); };
      model.states.push_back({(uint32_t)i, at("length_input"), at("length_output"), at("axis"),
                              n, state.getAs<StringAttr>("present").str()});
    }
  }
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  bool valueSized = false;
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    auto name = main.getResultAttrOfType<StringAttr>(i, "kiln.name");
    std::string n = name ? name.str() : "result" + std::to_string(i);
    TensorSignature sig;
    if (failed(signatureOf(v, main.getLoc(), "output", n, sig)))
      return failure();
    // With every input dim static, a dynamic output dim comes from values:
    // of small integer inputs (sizes the runtime computes per run), or of
    // data (refused by the CPU target's kiln-cpu-partition-dispatches).
    valueSized |= !model.symbols && llvm::any_of(sig.shape, [](int64_t d) { return d < 0; });
    model.outputs.push_back(sig);
  }
  // Names are recorded; the lowered function needs none of the attributes.
  for (unsigned i = 0; i < main.getNumArguments(); ++i)
    main.setArgAttrs(i, DictionaryAttr::get(module.getContext()));
  for (unsigned i = 0; i < main.getNumResults(); ++i)
    main.setResultAttrs(i, DictionaryAttr::get(module.getContext()));
  if (failed(extractHostSteps(main, model.host)))
    return failure();
  // Host steps size their work from the declared shapes.
  for (const HostStep &step : model.host.steps)
    for (const std::vector<HostStep::Ref> *refs : {&step.inputs, &step.outputs})
      for (const HostStep::Ref &r : *refs) {
        const std::vector<TensorSignature> &sigs =
            r.kind == HostStep::Ref::Input ? model.inputs : model.outputs;
        if (r.kind == HostStep::Ref::Value || r.index >= sigs.size() ||
            llvm::none_of(sigs[r.index].shape, [](int64_t d) { return d < 0; }))
          continue;
        return emitError(main.getLoc())
               << "host step '" << step.name << "' reads or writes '" << sigs[r.index].name
               << "', which has dynamic dims; string ops need static shapes (pin them with "
                  "--input-shape or --dim)";
      }
  if (options.widenHalfFusedOps)
    widenHalfFusedOps(main);
  if (failed(bindWeights(main, model)))
    return failure();
  // Static inputs with dynamic intermediates: sizes set by input values
  // (a TopK k the outputs reduce away); their checks need the dims vector.
  if (!model.symbols && !valueSized)
    main.walk([&](Operation *op) {
      for (Type t : op->getResultTypes())
        if (auto rt = dyn_cast<RankedTensorType>(t); rt && !rt.hasStaticShape())
          valueSized = true;
    });
  // Dynamic dims: which dims-vector entry each kernel input's dims read
  // (kiln-cpu-partition-dispatches turns them into loads of that vector);
  // which inputs may give sizes by their values (small, static, integer or
  // float -- a Range's float bounds, a window's length --, the caller's: not
  // a session cache).
  if (model.symbols || valueSized) {
    MLIRContext *ctx = module.getContext();
    for (auto [k, input] : llvm::enumerate(model.host.kernelInputs)) {
      if (!model.inputs[input].dims.empty())
        main.setArgAttr(k, "kiln.dims",
                        DenseI64ArrayAttr::get(ctx, model.inputs[input].dims));
      auto t = dyn_cast<RankedTensorType>(main.getArgument(k).getType());
      uint32_t index = input;
      bool cache = llvm::any_of(model.states, [&](const SessionState &s) {
        return s.cache == index || s.lengthInput == index;
      });
      Type elt = t ? t.getElementType() : Type();
      bool number = elt && ((elt.isSignlessInteger() && !elt.isInteger(1)) ||
                            isa<Float16Type, BFloat16Type, Float32Type, Float64Type>(elt));
      if (t && t.hasStaticShape() && t.getNumElements() <= 64 && number && !cache)
        main.setArgAttr(k, "kiln.value_input", UnitAttr::get(ctx));
    }
    module->setAttr("kiln.symbols", IntegerAttr::get(IntegerType::get(ctx, 64), model.symbols));
    module->setAttr("kiln.kernel_args",
                    IntegerAttr::get(IntegerType::get(ctx, 64), main.getNumArguments()));
  }
  // Inputs are the caller's buffers and weights are mapped read-only from
  // the artifact: bufferization must never write into an argument (an op
  // updating a copy of one, like ScatterElements on a zeros initializer,
  // would otherwise do it in place).
  // Session caches are the exception: a step writes its entries into one
  // where it lies.
  for (unsigned i = 0; i < main.getNumArguments(); ++i) {
    bool cache = i < model.host.kernelInputs.size() &&
                 llvm::any_of(model.states, [&](const SessionState &s) {
                   return s.cache == model.host.kernelInputs[i];
                 });
    main.setArgAttr(i, "bufferization.writable", BoolAttr::get(module.getContext(), cache));
  }
  return success();
}

LogicalResult compileKernels(ModuleOp module, ArrayRef<target::Target *> targets,
                             CompiledModel &model, const target::CompileOptions &options) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (main && main.getNumResults() == 0)
    return success();
  for (target::Target *t : targets) {
    bool dynamicOutput = llvm::any_of(model.outputs, [](const TensorSignature &o) {
      return llvm::any_of(o.shape, [](int64_t d) { return d < 0; });
    });
    if ((model.symbols || dynamicOutput) && t->capabilities().subgroupSize)
      return module.emitError("target ")
             << t->spec() << " needs static shapes: fix the dynamic dims with --input-shape or "
                             "--dim (dynamic dims are compiled for the CPU)";
    OwningOpRef<ModuleOp> copy = module.clone();
    FailureOr<target::KernelBlob> blob = t->compile(*copy, options);
    if (failed(blob))
      return failure();
    model.kernels.push_back(std::move(*blob));
  }
  return success();
}

} // namespace kiln::compiler

//===- SessionState.cpp - KV caches kept in the session -------------------===//
//
// See Passes.td. The runtime side: Runtime.cpp (session caches, rewind).
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringSet.h"

namespace kiln {
#define GEN_PASS_DEF_KILNSESSIONSTATE
#include "dialects/kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// Dim `d` of `v` as a tensor<1xi64>.
Value dimOf(OpBuilder &b, Location loc, Value v, int64_t d) {
  auto vec1 = RankedTensorType::get({1}, b.getI64Type());
  auto t = cast<RankedTensorType>(v.getType());
  if (!t.isDynamicDim(d))
    return arith::ConstantOp::create(b, loc, DenseIntElementsAttr::get(vec1, {t.getDimSize(d)}));
  Value shape = ShapeOp::create(b, loc, v);
  Value at = arith::ConstantOp::create(
      b, loc, DenseIntElementsAttr::get(RankedTensorType::get({}, b.getI64Type()), {d}));
  Value dim = GatherOp::create(b, loc, shape, at, b.getI64IntegerAttr(0));
  return ReshapeOp::create(b, loc, vec1, dim, Value(), false);
}

/// An attention op with its own cache (ONNX Attention's and
/// MultiHeadAttention's past_key/past_value, imported as
/// `kiln.attention ... past(pk, pv)`) attends to Concat(past, new) and
/// returns those as its present: written out as the concatenations, the
/// pairs below find them. (Equivalent: the op's causal frontier is
/// aligned to the end of past + new either way.)
void attentionCachesAsConcats(Block &body) {
  SmallVector<AttentionOp> ops;
  for (Operation &op : body)
    if (auto a = dyn_cast<AttentionOp>(op); a && a.getPastKey())
      ops.push_back(a);
  for (AttentionOp a : ops) {
    OpBuilder b(a);
    Location loc = a.getLoc();
    Value key = ConcatOp::create(b, loc, ValueRange{a.getPastKey(), a.getKey()},
                                 b.getI64IntegerAttr(2));
    Value value = ConcatOp::create(b, loc, ValueRange{a.getPastValue(), a.getValue()},
                                   b.getI64IntegerAttr(2));
    auto plain = AttentionOp::create(b, loc, a.getQuery(), key, value, a.getMask(), Value(),
                                     Value(), a.getCausal(), a.getScaleAttr(), a.getSoftcapAttr());
    a.getOutput().replaceAllUsesWith(plain.getOutput());
    a.getPresent()[0].replaceAllUsesWith(key);
    a.getPresent()[1].replaceAllUsesWith(value);
    a.erase();
  }
}

struct KilnSessionStatePass : kiln::impl::KilnSessionStateBase<KilnSessionStatePass> {
  using KilnSessionStateBase::KilnSessionStateBase;

  void runOnOperation() override {
    func::FuncOp main = getOperation();
    if (maxContext <= 0 || main.getName() != "main" || main.getBody().empty())
      return;
    Block &body = main.getBody().front();
    attentionCachesAsConcats(body);
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    struct Pair {
      unsigned output;
      ConcatOp concat;
      BlockArgument past;
      int64_t axis;
    };
    SmallVector<Pair> pairs;
    for (auto [o, v] : llvm::enumerate(ret.getOperands())) {
      auto c = v.getDefiningOp<ConcatOp>();
      if (!c || c.getInputs().size() != 2 || llvm::count(ret.getOperands(), v) != 1)
        continue;
      auto past = dyn_cast<BlockArgument>(c.getInputs()[0]);
      // Read by the concat only (and for its shape: the length stays).
      if (!past || past.getOwner() != &body ||
          llvm::any_of(past.getUsers(), [&](Operation *u) { return u != c && !isa<ShapeOp>(u); }))
        continue;
      auto t = cast<RankedTensorType>(past.getType());
      int64_t axis = (int64_t)c.getAxis(); // (the getter is unsigned)
      if (axis < 0)
        axis += t.getRank();
      if (axis < 0 || axis >= t.getRank() || !t.isDynamicDim(axis))
        continue;
      pairs.push_back({(unsigned)o, c, past, axis});
    }
    if (pairs.empty()) {
      main.emitError("--max-context: the model has no KV cache to keep in the session (an "
                     "output Concat(past, new) along a dynamic dim of an input 'past' that "
                     "nothing else reads but for its shape)");
      return signalPassFailure();
    }
    MLIRContext *ctx = &getContext();
    auto name = [&](unsigned i, bool result) {
      auto n = result ? main.getResultAttrOfType<StringAttr>(i, "kiln.name")
                      : main.getArgAttrOfType<StringAttr>(i, "kiln.name");
      return n ? n.str() : (result ? "result" : "arg") + std::to_string(i);
    };
    // The dim names the caller's inputs give sizes to (the pasts become
    // hidden): a cache's other dynamic dims must be one of them.
    llvm::StringSet<> givenNames;
    for (BlockArgument arg : main.getArguments()) {
      if (llvm::any_of(pairs, [&](const Pair &p) { return p.past == arg; }))
        continue;
      if (auto names = main.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "kiln.dim_names"))
        for (auto n : names.getAsRange<StringAttr>())
          if (!n.getValue().empty())
            givenNames.insert(n.getValue());
    }
    SmallVector<Type> resultTypes(main.getResultTypes());
    for (Pair &p : pairs) {
      auto pastType = cast<RankedTensorType>(p.past.getType());
      auto presentType = cast<RankedTensorType>(p.concat.getType());
      SmallVector<int64_t> shape(pastType.getShape());
      shape[p.axis] = maxContext;
      std::string pastName = name(p.past.getArgNumber(), false);
      auto names = main.getArgAttrOfType<ArrayAttr>(p.past.getArgNumber(), "kiln.dim_names");
      SmallVector<Attribute> dimNames;
      if (names && (int64_t)names.size() == pastType.getRank())
        dimNames.assign(names.begin(), names.end());
      for (int64_t d = 0; d < pastType.getRank(); ++d) {
        if (d == p.axis || !pastType.isDynamicDim(d))
          continue;
        // A dim the graph pins (the present is static there: torch.export
        // names each past's batch on its own, then specializes it).
        if (!presentType.isDynamicDim(d)) {
          shape[d] = presentType.getDimSize(d);
          if (!dimNames.empty())
            dimNames[d] = StringAttr::get(ctx, "");
          continue;
        }
        StringRef dimName = dimNames.empty() ? "" : cast<StringAttr>(dimNames[d]).getValue();
        if (dimName.empty() || !givenNames.contains(dimName)) {
          main.emitError() << "--max-context: dim " << d << " of '" << pastName << "'"
                           << (dimName.empty() ? "" : " ('" + dimName.str() + "')")
                           << " is dynamic and no other input has it, so the runtime could "
                              "not size the cache; pin it with --dim NAME=N";
          return signalPassFailure();
        }
      }
      auto cacheType = RankedTensorType::get(shape, pastType.getElementType());
      // The cache: named as past was (the state's name), its other dims
      // named as past's are; past itself stays, for its length only.
      NamedAttrList attrs;
      attrs.set("kiln.name", StringAttr::get(ctx, pastName));
      if (!dimNames.empty()) {
        dimNames[p.axis] = StringAttr::get(ctx, "");
        attrs.set("kiln.dim_names", ArrayAttr::get(ctx, dimNames));
      }
      Builder ab(ctx);
      attrs.set("kiln.state",
                ab.getDictionaryAttr({ab.getNamedAttr("axis", ab.getI64IntegerAttr(p.axis)),
                                      ab.getNamedAttr("length_input", ab.getI64IntegerAttr(
                                                                          p.past.getArgNumber())),
                                      ab.getNamedAttr("length_output",
                                                      ab.getI64IntegerAttr(p.output)),
                                      ab.getNamedAttr("present", ab.getStringAttr(
                                                                     name(p.output, true)))}));
      unsigned index = main.getNumArguments();
      if (failed(main.insertArgument(index, cacheType, attrs.getDictionary(ctx), p.concat.getLoc())))
        return signalPassFailure();
      main.setArgAttr(p.past.getArgNumber(), "kiln.name",
                      StringAttr::get(ctx, pastName + ".length"));
      BlockArgument cache = main.getArgument(index);

      OpBuilder b(p.concat);
      Location loc = p.concat.getLoc();
      // Messages about the cache name it: "node 'past_key_0' (session state)".
      Location cacheLoc = NameLoc::get(StringAttr::get(ctx, pastName),
                                       NameLoc::get(StringAttr::get(ctx, "session state")));
      auto vec1 = RankedTensorType::get({1}, b.getI64Type());
      Value newEntries = p.concat.getInputs()[1];
      Value length = dimOf(b, loc, p.past, p.axis);
      Value present = CacheAppendOp::create(b, cacheLoc, p.concat.getType(), cache, newEntries, length,
                                            b.getI64IntegerAttr(p.axis));
      Value end = BinaryOp::create(b, loc, BinaryKind::add, length,
                                   dimOf(b, loc, newEntries, p.axis));
      p.concat.getResult().replaceAllUsesWith(present);
      p.concat.erase();
      // The output is the new length: the entries stay in the cache.
      ret->setOperand(p.output, end);
      resultTypes[p.output] = vec1;
    }
    main.setType(FunctionType::get(ctx, main.getArgumentTypes(), resultTypes));
  }
};

} // namespace

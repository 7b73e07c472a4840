//===- SymbolicDims.cpp - dynamic dims of @main as a run-time dims vector -===//
//
// See SymbolicDims.h.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/SymbolicDims.h"
#include "lib/support/StorageBytes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace kiln::cpu {

namespace {

/// Sizes are computed in integers, or in floats where the model does (a
/// Range's float bounds).
bool isScalar(Type t) {
  return t.isIndex() || t.isSignlessInteger() ||
         isa<Float16Type, BFloat16Type, Float32Type, Float64Type>(t);
}

/// Elements of an input at most whose values may decide sizes.
constexpr int64_t kMaxInputValues = 64;

/// memref.dim of a view: the size it was made with (collapse: the product
/// of its source's group).
struct DimOfView : OpRewritePattern<memref::DimOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::DimOp op, PatternRewriter &rewriter) const override {
    std::optional<int64_t> d = op.getConstantIndex();
    Operation *def = op.getSource().getDefiningOp();
    if (!d || !def)
      return failure();
    Location loc = op.getLoc();
    auto dimOf = [&](Value v, int64_t i) -> Value {
      return memref::DimOp::create(rewriter, loc, v, i);
    };
    if (auto c = dyn_cast<memref::CollapseShapeOp>(def)) {
      SmallVector<ReassociationIndices> groups = c.getReassociationIndices();
      if (*d >= (int64_t)groups.size())
        return failure();
      Value size = arith::ConstantIndexOp::create(rewriter, loc, 1);
      for (int64_t i : groups[*d])
        size = arith::MulIOp::create(rewriter, loc, size, dimOf(c.getSrc(), i));
      rewriter.replaceOp(op, size);
      return success();
    }
    if (auto t = dyn_cast<memref::TransposeOp>(def)) { // dim d is the source's perm(d)
      AffineMap perm = t.getPermutation();
      if (*d >= (int64_t)perm.getNumResults())
        return failure();
      rewriter.replaceOp(op, dimOf(t.getIn(), perm.getDimPosition(*d)));
      return success();
    }
    if (auto e = dyn_cast<memref::ExpandShapeOp>(def)) {
      SmallVector<OpFoldResult> shape = e.getMixedOutputShape();
      if (*d >= (int64_t)shape.size())
        return failure();
      rewriter.replaceOp(op, getValueOrCreateConstantIndexOp(rewriter, loc, shape[*d]));
      return success();
    }
    if (auto r = dyn_cast<memref::ReinterpretCastOp>(def)) {
      SmallVector<OpFoldResult> sizes = r.getMixedSizes();
      if (*d >= (int64_t)sizes.size())
        return failure();
      rewriter.replaceOp(op, getValueOrCreateConstantIndexOp(rewriter, loc, sizes[*d]));
      return success();
    }
    if (auto sv = dyn_cast<memref::SubViewOp>(def)) {
      // The sizes of the dims the subview keeps.
      llvm::SmallBitVector dropped = sv.getDroppedDims();
      SmallVector<OpFoldResult> kept;
      for (auto [i, size] : llvm::enumerate(sv.getMixedSizes()))
        if (!dropped.test(i))
          kept.push_back(size);
      if (*d >= (int64_t)kept.size())
        return failure();
      rewriter.replaceOp(op, getValueOrCreateConstantIndexOp(rewriter, loc, kept[*d]));
      return success();
    }
    if (auto c = dyn_cast<memref::CastOp>(def)) {
      rewriter.replaceOp(op, dimOf(c.getSource(), *d));
      return success();
    }
    return failure();
  }
};

/// Sizes read through views, allocations and arithmetic fold to what they
/// are made of: in the end, loads of D and constants.
void resolveDims(func::FuncOp main) {
  MLIRContext *ctx = main.getContext();
  RewritePatternSet patterns(ctx);
  patterns.add<DimOfView>(ctx);
  memref::populateResolveRankedShapedTypeResultDimsPatterns(patterns);
  memref::DimOp::getCanonicalizationPatterns(patterns, ctx);
  for (Dialect *d : ctx->getLoadedDialects())
    if (isa<arith::ArithDialect>(d))
      d->getCanonicalizationPatterns(patterns);
  for (RegisteredOperationName op : ctx->getRegisteredOperations())
    if (op.getDialectNamespace() == "arith")
      op.getCanonicalizationPatterns(patterns, ctx);
  // Only the dims and what they become: the rest of @main stays as it is.
  SmallVector<Operation *> dims;
  main.walk([&](memref::DimOp d) { dims.push_back(d); });
  GreedyRewriteConfig config;
  config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
  (void)applyOpPatternsGreedily(dims, std::move(patterns), config);
}

/// Folds the run-time checks kiln-shape-checks wrote, now that sizes are
/// loads of D: a check of two dims the model names alike is true and goes.
void foldChecks(func::FuncOp main) {
  MLIRContext *ctx = main.getContext();
  llvm::SetVector<Operation *> ops;
  SmallVector<Value> stack;
  for (Operation &op : main.front())
    if (auto a = dyn_cast<cf::AssertOp>(op)) {
      ops.insert(a);
      stack.push_back(a.getArg());
    }
  while (!stack.empty()) {
    Operation *def = stack.pop_back_val().getDefiningOp();
    if (def && def->getBlock() == &main.front() && def->getNumRegions() == 0 &&
        isMemoryEffectFree(def) && ops.insert(def))
      llvm::append_range(stack, def->getOperands());
  }
  if (ops.empty())
    return;
  RewritePatternSet patterns(ctx);
  cf::AssertOp::getCanonicalizationPatterns(patterns, ctx);
  for (RegisteredOperationName op : ctx->getRegisteredOperations())
    if (op.getDialectNamespace() == "arith")
      op.getCanonicalizationPatterns(patterns, ctx);
  GreedyRewriteConfig config;
  config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
  (void)applyOpPatternsGreedily(ops.takeVector(), std::move(patterns), config);
}

} // namespace

bool SymbolicDims::isShapeOp(Operation *op) const { return shapeOps.contains(op); }

FailureOr<SymbolicDims> SymbolicDims::build(ModuleOp module, func::FuncOp main) {
  SymbolicDims sd;
  MLIRContext *ctx = module.getContext();
  Block &body = main.front();
  Location loc = main.getLoc();
  auto symbols = module->getAttrOfType<IntegerAttr>("kiln.symbols");
  auto kernelArgs = module->getAttrOfType<IntegerAttr>("kiln.kernel_args");
  if (!symbols || !kernelArgs || kernelArgs.getInt() > (int64_t)body.getNumArguments())
    return module.emitError("@main has dynamic dims but no dims-vector layout (kiln.symbols, "
                            "kiln.kernel_args)");
  sd.next = symbols.getInt();
  unsigned numIn = kernelArgs.getInt();
  unsigned numArgs = body.getNumArguments();
  OpBuilder b = OpBuilder::atBlockBegin(&body);
  sd.dimsArg = body.addArgument(MemRefType::get({1}, b.getI64Type()), loc);
  main.setType(FunctionType::get(ctx, body.getArgumentTypes(), main.getResultTypes()));

  // Input dims: loads of their D entries, each held by a cast (so pattern
  // rewrites neither erase them while unused nor lose track of them).
  llvm::DenseMap<Value, SmallVector<Operation *>> keepers;
  llvm::DenseMap<int64_t, Value> entrySizes;
  auto kept = [&](Value arg, size_t k) { return keepers[arg][k]->getOperand(0); };
  for (unsigned i = 0; i < numIn; ++i) {
    BlockArgument arg = body.getArgument(i);
    auto t = dyn_cast<MemRefType>(arg.getType());
    if (!t || t.hasStaticShape())
      continue;
    auto at = main.getArgAttrOfType<DenseI64ArrayAttr>(i, "kiln.dims");
    if (!at || at.size() != t.getRank())
      return main.emitError("argument ") << i << " of dynamic type " << t
                                         << " has no dims-vector entries (kiln.dims)";
    SmallVector<Operation *> &s = keepers[arg];
    for (int64_t d = 0; d < t.getRank(); ++d) {
      if (!t.isDynamicDim(d))
        continue;
      if (at[d] < 0 || at[d] >= sd.next)
        return main.emitError("argument ") << i << " dim " << d << " has dims-vector entry "
                                           << at[d] << " of " << sd.next;
      // One load per entry: dims the model names alike are one value, so
      // the checks relating them fold away.
      Value &size = entrySizes[at[d]];
      if (!size) {
        Value at0 = arith::ConstantIndexOp::create(b, loc, at[d]);
        Value load = memref::LoadOp::create(b, loc, sd.dimsArg, ValueRange{at0});
        size = arith::IndexCastOp::create(b, loc, b.getIndexType(), load);
      }
      s.push_back(UnrealizedConversionCastOp::create(b, loc, b.getIndexType(), size));
    }
  }
  // Input values: top-level loads at constant indices of a small integer
  // input (`kiln.value_input`: the caller's, not a weight or a session
  // cache) read the copy the runtime puts in D, so the sizes they decide
  // (a Reshape's target, TopK's k, Range's bounds, integer or float) are
  // shape values.
  llvm::DenseMap<unsigned, int64_t> valueEntry;
  for (Operation &op : llvm::make_early_inc_range(body.without_terminator())) {
    auto load = dyn_cast<memref::LoadOp>(op);
    auto arg = load ? dyn_cast<BlockArgument>(load.getMemRef()) : BlockArgument();
    if (!arg || arg.getOwner() != &body || arg.getArgNumber() >= numIn ||
        !main.getArgAttr(arg.getArgNumber(), "kiln.value_input"))
      continue;
    auto t = cast<MemRefType>(arg.getType());
    Type elt = t.getElementType();
    auto integer = dyn_cast<IntegerType>(elt);
    bool number = integer ? integer.isSignless() && integer.getWidth() >= 8 &&
                                integer.getWidth() <= 64
                          : isa<Float16Type, BFloat16Type, Float32Type, Float64Type>(elt);
    if (!t.hasStaticShape() || t.getNumElements() > kMaxInputValues || !number)
      continue;
    int64_t linear = 0;
    bool constant = true;
    for (auto [d, i] : llvm::enumerate(load.getIndices())) {
      std::optional<int64_t> c = getConstantIntValue(i);
      constant = constant && c && *c >= 0 && *c < t.getDimSize(d);
      if (constant)
        linear = linear * t.getDimSize(d) + *c;
    }
    if (!constant)
      continue;
    auto [it, inserted] = valueEntry.try_emplace(arg.getArgNumber(), sd.next);
    if (inserted) {
      sd.valueList.push_back({arg.getArgNumber(), sd.next, t.getNumElements()});
      sd.next += t.getNumElements();
    }
    OpBuilder lb(load);
    Value at = arith::ConstantIndexOp::create(lb, load.getLoc(), it->second + linear);
    Value v = memref::LoadOp::create(lb, load.getLoc(), sd.dimsArg, ValueRange{at});
    // (A float comes as its bits, zero-extended.)
    unsigned width = elt.getIntOrFloatBitWidth();
    if (width < 64)
      v = arith::TruncIOp::create(lb, load.getLoc(), lb.getIntegerType(width), v);
    if (!integer)
      v = arith::BitcastOp::create(lb, load.getLoc(), elt, v);
    load.replaceAllUsesWith(v);
    load.erase();
  }
  // (Read: the marks go, or the kernels' lowering would carry them.)
  for (unsigned i = 0; i < numIn; ++i)
    main.removeArgAttr(i, "kiln.value_input");
  // Every memref.dim of a dynamic input dim reads its load instead.
  auto replaceInputDims = [&]() -> LogicalResult {
    SmallVector<memref::DimOp> dims;
    main.walk([&](memref::DimOp d) {
      auto arg = dyn_cast<BlockArgument>(d.getSource());
      if (arg && arg.getOwner() == &body && keepers.count(arg))
        dims.push_back(d);
    });
    for (memref::DimOp d : dims) {
      auto t = cast<MemRefType>(d.getSource().getType());
      std::optional<int64_t> j = d.getConstantIndex();
      if (!j)
        return d.emitError("a dim of a dynamic input taken at a run-time index");
      if (*j < 0 || *j >= t.getRank() || !t.isDynamicDim(*j))
        continue;
      d.replaceAllUsesWith(kept(d.getSource(), t.getDynamicDimIndex(*j)));
      d.erase();
    }
    return success();
  };
  resolveDims(main);
  if (failed(replaceInputDims()))
    return failure();

  // Out-parameters: kiln-return-result-dims left their dynamic dims as
  // index results, in order; each is held by a cast until resolved.
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  SmallVector<Value> resultDims(ret.getOperands());
  b.setInsertionPoint(ret);
  SmallVector<std::pair<BlockArgument, SmallVector<Operation *>>> held;
  size_t next = 0;
  auto which = main->getAttrOfType<ArrayAttr>("kiln.result_dims");
  for (unsigned i = numIn; i < numArgs; ++i) {
    BlockArgument arg = body.getArgument(i);
    auto t = dyn_cast<MemRefType>(arg.getType());
    if (!t)
      continue;
    // The dims the result returned (a dim may have become static since).
    auto returned = which && i - numIn < which.size()
                        ? dyn_cast<DenseI64ArrayAttr>(which[i - numIn])
                        : DenseI64ArrayAttr();
    SmallVector<Operation *> holders; // (a static output gets no entries)
    for (int64_t d = 0; d < t.getRank(); ++d) {
      bool wasReturned = returned && llvm::is_contained(returned.asArrayRef(), d);
      if (!t.isDynamicDim(d)) {
        next += wasReturned;
        continue;
      }
      if (!wasReturned || next >= resultDims.size())
        return main.emitError("output ") << i - numIn
                                         << " has dynamic dims but @main does not return them "
                                            "(kiln-return-result-dims)";
      holders.push_back(
          UnrealizedConversionCastOp::create(b, loc, b.getIndexType(), resultDims[next++])
              .getOperation());
    }
    held.push_back({arg, std::move(holders)});
  }
  main->removeAttr("kiln.result_dims");
  ret->setOperands({});
  main.setType(FunctionType::get(ctx, body.getArgumentTypes(), {}));
  main.setAllResultAttrs(ArrayRef<DictionaryAttr>{});
  for (int round = 0; round < 4; ++round) {
    resolveDims(main);
    if (failed(replaceInputDims()))
      return failure();
  }

  for (auto &[arg, list] : keepers)
    for (size_t k = 0; k < list.size(); ++k)
      sd.sizes[arg].push_back(kept(arg, k));
  for (auto &[arg, list] : keepers)
    for (Operation *keeper : list)
      keeper->erase();
  foldChecks(main);
  // Shape computations move to the top of @main, in order: each depends on
  // D, constants and earlier ones only.
  Block::iterator pos = body.begin();
  auto classify = [&]() {
  for (Operation &op : llvm::make_early_inc_range(body.without_terminator())) {
    bool shape = isa<memref::LoadOp>(op)
                     ? cast<memref::LoadOp>(op).getMemRef() == sd.dimsArg
                     : op.getNumRegions() == 0 && op.getNumResults() == 1 &&
                           isMemoryEffectFree(&op) && isScalar(op.getResult(0).getType()) &&
                           llvm::all_of(op.getOperands(), [&](Value v) {
                             return isScalar(v.getType()) &&
                                    (isa<BlockArgument>(v) ||
                                     sd.shapeOps.contains(v.getDefiningOp()));
                           });
    if (!shape || sd.shapeOps.contains(&op))
      continue;
    sd.shapeOps.insert(&op);
    if (&op == &*pos)
      ++pos;
    else
      op.moveBefore(&body, pos);
  }
  };
  classify();
  auto isShapeValue = [&](Value v) {
    Operation *def = v.getDefiningOp();
    return def && sd.shapeOps.contains(def);
  };
  // Data dims: a top-level min(data, bound) the lowering marked
  // `kiln.data_size` (a NonZero count, NMS's picks, Unique's distinct
  // values), with the bound a size, is stored in a D entry of its own where
  // it is computed; its other uses read the entry (the bound while unset).
  // Until none is left: one may bound another (NonZero of a Compress).
  for (bool more = true; more;) {
  more = false;
  for (Operation &op : llvm::make_early_inc_range(body.without_terminator())) {
    auto min = dyn_cast<arith::MinUIOp>(op);
    if (!min || !min->hasAttr("kiln.data_size") || !min.getType().isIndex() ||
        sd.shapeOps.contains(min) || isShapeValue(min.getLhs()) || !isShapeValue(min.getRhs()) ||
        min->use_empty())
      continue;
    min->removeAttr("kiln.data_size");
    more = true;
    int64_t entry = sd.next++;
    OpBuilder sb(ctx);
    sb.setInsertionPointAfter(min);
    Value at = arith::ConstantIndexOp::create(sb, loc, entry);
    auto store = memref::StoreOp::create(
        sb, loc, arith::IndexCastOp::create(sb, loc, sb.getI64Type(), min.getResult()), sd.dimsArg,
        ValueRange{at});
    sb.setInsertionPoint(&body, pos);
    Value bound = min.getRhs();
    SmallVector<Operation *> made;
    auto mk = [&](Value v) {
      made.push_back(v.getDefiningOp());
      return v;
    };
    Value at2 = mk(arith::ConstantIndexOp::create(sb, loc, entry));
    Value stored = mk(memref::LoadOp::create(sb, loc, sd.dimsArg, ValueRange{at2}));
    Value unset = mk(arith::CmpIOp::create(sb, loc, arith::CmpIPredicate::slt, stored,
                                           mk(arith::ConstantIntOp::create(sb, loc, 0, 64))));
    Value size = mk(arith::IndexCastOp::create(sb, loc, sb.getIndexType(), stored));
    // (min again: a damaged artifact cannot size past the bound.)
    Value v = mk(arith::MinUIOp::create(sb, loc, mk(arith::SelectOp::create(sb, loc, unset, bound, size)),
                                        bound));
    for (Operation *m : made)
      sd.shapeOps.insert(m);
    min.getResult().replaceAllUsesExcept(v, store.getOperand(0).getDefiningOp());
    sd.dataList.push_back({entry, store});
  }
  // (What the data dims sized may now be a size computation too.)
  if (more)
    classify();
  }
  // Run-time checks over sizes alone become entries kiln_shapes fills;
  // those that need data cannot be made before a run and go.
  for (Operation &op : llvm::make_early_inc_range(body.without_terminator())) {
    auto a = dyn_cast<cf::AssertOp>(op);
    if (!a)
      continue;
    Value cond = a.getArg();
    if (isShapeValue(cond))
      sd.check(cond, a.getMsg());
    a.erase();
    SmallVector<Operation *> maybeDead = {cond.getDefiningOp()};
    while (!maybeDead.empty()) {
      Operation *def = maybeDead.pop_back_val();
      if (!def || sd.shapeOps.contains(def) || !isOpTriviallyDead(def))
        continue;
      for (Value v : def->getOperands())
        maybeDead.push_back(v.getDefiningOp());
      def->erase();
    }
  }
  for (auto &[arg, holders] : held) {
    SmallVector<Value> &s = sd.sizes[arg];
    SmallVector<int64_t> entries;
    auto t = cast<MemRefType>(arg.getType());
    size_t k = 0;
    for (int64_t d = 0; d < t.getRank(); ++d) {
      if (!t.isDynamicDim(d)) {
        entries.push_back(-1);
        continue;
      }
      Value v = holders[k++]->getOperand(0);
      if (!isShapeValue(v)) {
        InFlightDiagnostic diag = main.emitError("output ")
                                  << arg.getArgNumber() - numIn << " dim " << d
                                  << " depends on the data, not only on input dims (a "
                                     "data-dependent size is not supported yet)";
        if (Operation *def = v.getDefiningOp())
          diag.attachNote(def->getLoc()) << "its size is computed by '" << def->getName() << "'";
        return diag;
      }
      s.push_back(v);
      entries.push_back(sd.value(v));
    }
    sd.outDims.push_back(std::move(entries));
    for (Operation *h : holders)
      h->erase();
  }
  // Out-parameter dims used in the body are the values just found.
  SmallVector<memref::DimOp> outDimUses;
  main.walk([&](memref::DimOp d) {
    auto arg = dyn_cast<BlockArgument>(d.getSource());
    if (arg && arg.getOwner() == &body && arg.getArgNumber() >= numIn && sd.sizes.count(arg))
      outDimUses.push_back(d);
  });
  for (memref::DimOp d : outDimUses) {
    auto t = cast<MemRefType>(d.getSource().getType());
    std::optional<int64_t> j = d.getConstantIndex();
    if (j && *j >= 0 && *j < t.getRank() && t.isDynamicDim(*j)) {
      d.replaceAllUsesWith(sd.sizes[d.getSource()][t.getDynamicDimIndex(*j)]);
      d.erase();
    }
  }
  // What is left at the top level must not need a size from data.
  for (Operation &op : body.without_terminator()) {
    if (auto d = dyn_cast<memref::DimOp>(op)) {
      InFlightDiagnostic diag = d.emitError(
          "a size at the top level depends on data, not only on input dims (a data-dependent "
          "size is not supported yet)");
      if (Operation *def = d.getSource().getDefiningOp())
        diag.attachNote(def->getLoc()) << "the size of what '" << def->getName() << "' made";
      return diag;
    }
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      if (!llvm::all_of(alloc.getDynamicSizes(), isShapeValue))
        return alloc.emitError("a buffer's size depends on data, not only on input dims "
                               "(a data-dependent size is not supported yet)");
      if (!alloc.getDynamicSizes().empty())
        sd.sizes[alloc.getResult()] = SmallVector<Value>(alloc.getDynamicSizes());
    }
  }
  return sd;
}

SmallVector<Value> SymbolicDims::sizesOf(Value buffer) const {
  auto it = sizes.find(buffer);
  return it == sizes.end() ? SmallVector<Value>{} : it->second;
}

int64_t SymbolicDims::value(Value v) {
  auto [it, inserted] = valueEntries.try_emplace(v, next);
  if (inserted) {
    entries.push_back({Entry::Value, {v}, 1, 1, next});
    ++next;
  }
  return it->second;
}

/// The D entry of an input's dim when `v` is its load, else a new entry.
int64_t SymbolicDims::sizeEntry(Value v) {
  if (auto cast = v.getDefiningOp<arith::IndexCastOp>())
    if (auto load = cast.getIn().getDefiningOp<memref::LoadOp>();
        load && load.getMemRef() == dimsArg)
      if (std::optional<int64_t> k = getConstantIntValue(load.getIndices()[0]))
        return *k;
  return value(v);
}

void SymbolicDims::check(Value cond, llvm::StringRef message) {
  Check c{next++, -1, -1, message.str(), {}};
  // The data dims it reads (loads of their entries among what computes it).
  llvm::SmallPtrSet<Operation *, 16> seen;
  SmallVector<Value> stack = {cond};
  while (!stack.empty()) {
    Operation *def = stack.pop_back_val().getDefiningOp();
    if (!def || !seen.insert(def).second)
      continue;
    if (auto load = dyn_cast<memref::LoadOp>(def); load && load.getMemRef() == dimsArg) {
      std::optional<int64_t> k = getConstantIntValue(load.getIndices()[0]);
      if (k && llvm::any_of(dataList, [&](const DataDim &d) { return d.entry == *k; }) &&
          !llvm::is_contained(c.dataEntries, *k))
        c.dataEntries.push_back(*k);
      continue;
    }
    llvm::append_range(stack, def->getOperands());
  }
  entries.push_back({Entry::Check, {cond}, 1, 1, c.ok});
  // The sizes compared, for the message (index values only: an entry must
  // hold a size, which the runtime range-checks; a Range's delta is none).
  if (auto cmp = cond.getDefiningOp<arith::CmpIOp>(); cmp && cmp.getLhs().getType().isIndex()) {
    c.lhs = sizeEntry(cmp.getLhs());
    c.rhs = sizeEntry(cmp.getRhs());
  }
  checkList.push_back(std::move(c));
}

int64_t SymbolicDims::bytes(Value alloc, uint64_t align) {
  auto t = cast<MemRefType>(alloc.getType());
  int64_t factor = (int64_t)kiln::elementStorageBytes(t.getElementType());
  for (int64_t d : t.getShape())
    if (!ShapedType::isDynamic(d))
      factor *= d;
  entries.push_back({Entry::Bytes, sizesOf(alloc), factor, align, next});
  return next++;
}

int64_t SymbolicDims::tripCount(Value lb, Value ub, Value step) {
  for (const Entry &e : entries) // grids over the same range share one
    if (e.kind == Entry::TripCount && e.operands == SmallVector<Value>{lb, ub, step})
      return e.index;
  entries.push_back({Entry::TripCount, {lb, ub, step}, 1, 1, next});
  return next++;
}

MemRefType SymbolicDims::dimsType() const {
  return MemRefType::get({std::max<int64_t>(next, 1)}, IntegerType::get(dimsArg.getContext(), 64));
}

void SymbolicDims::finish(ModuleOp module, func::FuncOp main) {
  MLIRContext *ctx = module.getContext();
  MemRefType type = dimsType();
  dimsArg.setType(type);
  main.setType(FunctionType::get(ctx, main.front().getArgumentTypes(), main.getResultTypes()));

  // kiln_shapes(D): the shape computations the entries need, then stores.
  OpBuilder b(ctx);
  b.setInsertionPoint(main);
  Location loc = main.getLoc();
  auto fn = func::FuncOp::create(b, loc, "kiln_shapes", b.getFunctionType({type}, {}));
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  IRMapping map;
  map.map(dimsArg, entry->getArgument(0));
  llvm::SetVector<Operation *> needed;
  SmallVector<Value> stack;
  for (const Entry &e : entries)
    llvm::append_range(stack, e.operands);
  while (!stack.empty()) {
    Operation *def = stack.pop_back_val().getDefiningOp();
    if (def && def->getBlock() == &main.front() && needed.insert(def))
      llvm::append_range(stack, def->getOperands());
  }
  SmallVector<Operation *> ordered(needed.begin(), needed.end());
  llvm::sort(ordered, [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
  for (Operation *op : ordered)
    b.clone(*op, map);
  auto c = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
  for (const Entry &e : entries) {
    Value x;
    switch (e.kind) {
    case Entry::Value:
      x = map.lookupOrDefault(e.operands[0]);
      break;
    case Entry::Bytes: {
      // Checked products in i64: an overflow stores -1, which the runtime
      // rejects (a wrapped size would undersize the slot).
      auto i64 = [&](Value v) { return arith::IndexCastOp::create(b, loc, b.getI64Type(), v); };
      x = i64(c(e.factor));
      Value zero64 = i64(c(0));
      Value overflow = arith::ConstantOp::create(b, loc, b.getBoolAttr(false));
      for (Value s : e.operands) {
        auto product = arith::MulUIExtendedOp::create(b, loc, x, i64(map.lookupOrDefault(s)));
        overflow = arith::OrIOp::create(
            b, loc, overflow,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, product.getHigh(), zero64));
        x = product.getLow();
      }
      Value a = i64(c((int64_t)e.align));
      x = arith::MulIOp::create(b, loc, arith::CeilDivUIOp::create(b, loc, x, a), a);
      overflow = arith::OrIOp::create(
          b, loc, overflow, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x, zero64));
      x = arith::SelectOp::create(b, loc, overflow, i64(c(-1)), x);
      break;
    }
    case Entry::Check:
      x = arith::ExtUIOp::create(b, loc, b.getI64Type(), map.lookupOrDefault(e.operands[0]));
      break;
    case Entry::TripCount: {
      Value span = arith::SubIOp::create(b, loc, map.lookupOrDefault(e.operands[1]),
                                         map.lookupOrDefault(e.operands[0]));
      x = arith::MaxSIOp::create(
          b, loc, c(0), arith::CeilDivSIOp::create(b, loc, span, map.lookupOrDefault(e.operands[2])));
      break;
    }
    }
    if (!x.getType().isInteger(64))
      x = x.getType().isIndex() ? arith::IndexCastOp::create(b, loc, b.getI64Type(), x).getResult()
                                : arith::ExtSIOp::create(b, loc, b.getI64Type(), x).getResult();
    memref::StoreOp::create(b, loc, x, entry->getArgument(0), ValueRange{c(e.index)});
  }
  func::ReturnOp::create(b, loc);
}

void SymbolicDims::castDynamicArguments(func::FuncOp fn, ArrayRef<SmallVector<Value>> sizes) {
  Block &entry = fn.front();
  Operation *last = nullptr;
  for (const SmallVector<Value> &s : sizes)
    for (Value v : s)
      if (Operation *def = v.getDefiningOp(); def && def->getBlock() == &entry)
        if (!last || last->isBeforeInBlock(def))
          last = def;
  OpBuilder b(fn.getContext());
  if (last)
    b.setInsertionPointAfter(last);
  else
    b.setInsertionPointToStart(&entry);
  bool changed = false;
  for (auto [i, arg] : llvm::enumerate(entry.getArguments())) {
    auto t = dyn_cast<MemRefType>(arg.getType());
    if (!t || t.hasStaticShape() || i >= sizes.size())
      continue;
    Location loc = arg.getLoc();
    SmallVector<OpFoldResult> extents;
    size_t k = 0;
    for (int64_t d = 0; d < t.getRank(); ++d)
      extents.push_back(t.isDynamicDim(d) ? OpFoldResult(sizes[i][k++])
                                          : OpFoldResult(b.getIndexAttr(t.getDimSize(d))));
    SmallVector<OpFoldResult> strides(t.getRank(), b.getIndexAttr(1));
    for (int64_t d = t.getRank() - 2; d >= 0; --d) {
      std::optional<int64_t> s = getConstantIntValue(strides[d + 1]);
      std::optional<int64_t> e = getConstantIntValue(extents[d + 1]);
      if (s && e)
        strides[d] = b.getIndexAttr(*s * *e);
      else
        strides[d] = arith::MulIOp::create(b, loc, getValueOrCreateConstantIndexOp(b, loc, strides[d + 1]),
                                           getValueOrCreateConstantIndexOp(b, loc, extents[d + 1]))
                         .getResult();
    }
    arg.setType(MemRefType::get({1}, t.getElementType(), nullptr, t.getMemorySpace()));
    auto cast = memref::ReinterpretCastOp::create(b, loc, t, arg, b.getIndexAttr(0), extents, strides);
    arg.replaceAllUsesExcept(cast.getResult(), cast.getOperation());
    changed = true;
  }
  if (changed)
    fn.setType(FunctionType::get(fn.getContext(), entry.getArgumentTypes(), fn.getResultTypes()));
}

} // namespace kiln::cpu

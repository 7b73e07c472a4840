//===- PartitionDispatches.cpp - @main to dispatches, arena and plan -------===//
//
// See Passes.td. The host plan is data (module attributes) the target copies
// into the artifact; the runtime executes it: it never sees @main.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"
#include "targets/cpu/SymbolicDims.h"
#include "lib/support/ArenaPlacement.h"
#include "lib/support/StorageBytes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace kiln {
#define GEN_PASS_DEF_KILNCPUPARTITIONDISPATCHES
#include "targets/cpu/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// Binding kinds in the plan: @main argument, arena byte offset, arena
/// slot placed at run time (dynamic dims), the dims vector.
constexpr int64_t kArgBinding = 0, kArenaBinding = 1, kSlotBinding = 2, kDimsBinding = 3;
constexpr uint64_t kAlign = 64;

/// Ops that cost nothing and are re-created in each dispatch that uses them.
/// A top-level alloca is per-invocation scratch (the matmul's packing
/// buffers): each dispatch gets its own on the stack of the thread.
bool isRematerializable(Operation *op) {
  if (op->getNumRegions() != 0)
    return false;
  return op->hasTrait<OpTrait::ConstantLike>() || isa<ViewLikeOpInterface>(op) ||
         isa<memref::AllocaOp>(op) ||
         isa<memref::GetGlobalOp, memref::CastOp, memref::ExpandShapeOp,
             memref::CollapseShapeOp, memref::ReinterpretCastOp, memref::TransposeOp>(op);
}

/// A top-level allocation the arena holds: static, or (dynamic dims) sized
/// by shape computations only.
bool isArenaAlloc(Operation *op, const kiln::cpu::SymbolicDims *sd) {
  auto alloc = dyn_cast<memref::AllocOp>(op);
  if (!alloc)
    return false;
  MemRefType t = alloc.getType();
  if (!t.getLayout().isIdentity() || !t.getElementType().isIntOrFloat() ||
      !alloc.getSymbolOperands().empty())
    return false;
  if (t.hasStaticShape())
    return alloc.getDynamicSizes().empty();
  return sd && llvm::all_of(alloc.getDynamicSizes(), [&](Value v) {
           return v.getDefiningOp() && sd->isShapeOp(v.getDefiningOp());
         });
}

uint64_t byteSize(MemRefType t) {
  uint64_t bytes = kiln::storageBytes(t);
  return (bytes + kAlign - 1) / kAlign * kAlign;
}

/// Bytes a kernel may touch through a binding of `type` (its static
/// extent; 0 for a non-memref). The artifact records it and the runtime
/// checks it against the buffer bound there.
uint64_t bufferBytes(Type type) {
  auto m = dyn_cast<MemRefType>(type);
  if (!m || !m.hasStaticShape())
    return 0;
  int64_t offset;
  SmallVector<int64_t> strides;
  uint64_t elements = m.getNumElements() ? 1 : 0;
  if (elements && succeeded(m.getStridesAndOffset(strides, offset)) &&
      !ShapedType::isDynamic(offset) && llvm::none_of(strides, ShapedType::isDynamic)) {
    elements = (uint64_t)offset + 1;
    for (auto [d, st] : llvm::zip(m.getShape(), strides))
      elements += (uint64_t)(d - 1) * (uint64_t)st;
  } else if (elements) {
    elements = (uint64_t)m.getNumElements();
  }
  return elements * kiln::elementStorageBytes(m.getElementType());
}

struct Slot {
  memref::AllocOp alloc;
  uint64_t bytes = 0;
  int64_t bytesEntry = -1; // dynamic dims: the D entry holding its size
  kiln::ArenaSlot place;
};

/// The grid of a top-level parallel loop: its first dimension with more
/// than one static iteration or a run-time trip count (dimension 0 when
/// none has), with the static trip count (-1: run-time); count 0 when the
/// loop is not a usable grid. Run-time upper bounds need `sd`.
std::pair<unsigned, int64_t> gridOf(scf::ParallelOp par, const kiln::cpu::SymbolicDims *sd) {
  if (par.getNumReductions() != 0)
    return {0, 0};
  std::pair<unsigned, int64_t> grid = {0, 0};
  for (unsigned d = 0; d < par.getNumLoops(); ++d) {
    std::optional<int64_t> lb = getConstantIntValue(par.getLowerBound()[d]);
    std::optional<int64_t> ub = getConstantIntValue(par.getUpperBound()[d]);
    std::optional<int64_t> step = getConstantIntValue(par.getStep()[d]);
    if (!lb || !step || *step <= 0)
      return {0, 0};
    if (!ub) {
      Operation *def = par.getUpperBound()[d].getDefiningOp();
      if (!sd || !def || !sd->isShapeOp(def))
        return {0, 0};
      return {d, -1};
    }
    if (*ub <= *lb)
      return {0, 0};
    int64_t n = (*ub - *lb + *step - 1) / *step;
    if (d == 0)
      grid = {0, n};
    if (n > 1) {
      grid = {d, n};
      break;
    }
  }
  return grid;
}

/// A top-level loop whose first dim has a run-time count (a batch, often 1
/// when it runs) and at least two dims after it: dims 0 and 1 become one,
/// so the grid is batch x rows and the threads split the rows (a grid of
/// the batch alone would be one workgroup). The innermost dims stay loops
/// of their own (a flat index would cost a division per element).
void collapseLeadingDynamicDims(func::FuncOp main) {
  SmallVector<scf::ParallelOp> loops;
  for (auto par : main.getBody().front().getOps<scf::ParallelOp>())
    if (par.getNumLoops() >= 3 && par.getNumReductions() == 0 &&
        !getConstantIntValue(par.getUpperBound()[0]))
      loops.push_back(par);
  IRRewriter rewriter(main.getContext());
  for (scf::ParallelOp par : loops) {
    SmallVector<std::vector<unsigned>> dims = {{0, 1}};
    for (unsigned d = 2; d < par.getNumLoops(); ++d)
      dims.push_back({d});
    rewriter.setInsertionPoint(par);
    collapseParallelLoops(rewriter, par, dims);
  }
}

struct PartitionDispatchesPass
    : kiln::impl::KilnCpuPartitionDispatchesBase<PartitionDispatchesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.getBlocks().size() != 1) {
      module.emitError("kiln-cpu-partition-dispatches needs a single-block @main");
      return signalPassFailure();
    }
    emptyArguments(main);
    sharedScratchToArena(main);
    std::optional<kiln::cpu::SymbolicDims> sd;
    // A dims vector for dynamic arguments, or where the compiler asked for
    // one (static inputs whose values decide sizes: kiln.symbols = 0).
    if (module->hasAttr("kiln.symbols") || llvm::any_of(main.getArgumentTypes(), [](Type t) {
          auto m = dyn_cast<MemRefType>(t);
          return m && !m.hasStaticShape();
        })) {
      collapseLeadingDynamicDims(main); // (its sizes become shape ops of D)
      FailureOr<kiln::cpu::SymbolicDims> built = kiln::cpu::SymbolicDims::build(module, main);
      if (failed(built))
        return signalPassFailure();
      sd = std::move(*built);
    } else {
      // Static inputs: checks left are of sizes computed from data, which
      // cannot be made before a run.
      main.walk([](cf::AssertOp a) { a.erase(); });
    }
    if (failed(partition(module, main, sd ? &*sd : nullptr)))
      return signalPassFailure();
  }

  /// Module attributes the target reads for a dynamic-dims plan: the dims
  /// vector's length, which entries are outputs' dims, the shape function.
  static void recordDims(ModuleOp module, kiln::cpu::SymbolicDims &sd) {
    OpBuilder b(module.getContext());
    SmallVector<Attribute> outs;
    for (const SmallVector<int64_t> &o : sd.outputDims())
      outs.push_back(b.getDenseI64ArrayAttr(o));
    module->setAttr("kiln.dims_length", b.getI64IntegerAttr(sd.length()));
    module->setAttr("kiln.output_dims", b.getArrayAttr(outs));
    module->setAttr("kiln.shape_entry", b.getStringAttr("kiln_shapes"));
    SmallVector<Attribute> checks;
    for (const kiln::cpu::SymbolicDims::Check &c : sd.checks()) {
      SmallVector<Attribute> fields = {b.getI64IntegerAttr(c.ok), b.getI64IntegerAttr(c.lhs),
                                       b.getI64IntegerAttr(c.rhs), b.getStringAttr(c.message)};
      if (!c.dataEntries.empty()) // (the data dims it waits for)
        fields.push_back(b.getDenseI64ArrayAttr(c.dataEntries));
      checks.push_back(b.getArrayAttr(fields));
    }
    module->setAttr("kiln.shape_checks", b.getArrayAttr(checks));
    SmallVector<int64_t> values; // (kernel argument, first entry, count) each
    for (const kiln::cpu::SymbolicDims::InputValues &v : sd.inputValues())
      values.append({(int64_t)v.arg, v.entry, v.count});
    module->setAttr("kiln.input_values", b.getDenseI64ArrayAttr(values));
  }

  /// A tensor with no elements never holds data, but a shape with a zero
  /// extent has zero strides, which the bare-pointer calling convention
  /// rejects: such arguments become memref<0xT> (still bound, so argument
  /// numbers stay), and their uses read an empty stack buffer instead.
  static void emptyArguments(func::FuncOp main) {
    Block &body = main.front();
    OpBuilder b = OpBuilder::atBlockBegin(&body);
    bool changed = false;
    for (BlockArgument arg : body.getArguments()) {
      auto type = dyn_cast<MemRefType>(arg.getType());
      if (!type || !type.hasStaticShape() || type.getNumElements() != 0 || type.getRank() == 1)
        continue;
      Value empty = memref::AllocaOp::create(b, arg.getLoc(), type);
      arg.replaceAllUsesWith(empty);
      arg.setType(MemRefType::get({0}, type.getElementType()));
      changed = true;
    }
    if (changed)
      main.setType(FunctionType::get(main.getContext(), body.getArgumentTypes(),
                                     main.getResultTypes()));
  }

  /// A top-level alloca is re-created in each dispatch that uses it, which
  /// is right for per-workgroup scratch but would lose what one dispatch
  /// leaves there for the next (a fused kernel whose one-iteration grid was
  /// folded away leaves its loops at the top level). An alloca used by more
  /// than one dispatch becomes an arena allocation instead.
  static void sharedScratchToArena(func::FuncOp main) {
    Block &body = main.front();
    SmallVector<memref::AllocaOp> shared;
    for (auto alloca : body.getOps<memref::AllocaOp>()) {
      if (!alloca.getType().hasStaticShape() || alloca.getType().getNumElements() == 0)
        continue;
      llvm::SmallPtrSet<Operation *, 4> users;
      SmallVector<Value> stack = {alloca.getResult()};
      while (!stack.empty()) {
        Value v = stack.pop_back_val();
        for (Operation *user : v.getUsers()) {
          Operation *top = body.findAncestorOpInBlock(*user);
          if (!top)
            continue;
          if (top == user && isRematerializable(top))
            llvm::append_range(stack, top->getResults());
          else
            users.insert(top);
        }
      }
      if (users.size() > 1)
        shared.push_back(alloca);
    }
    for (memref::AllocaOp alloca : shared) {
      OpBuilder b(alloca);
      auto alloc = memref::AllocOp::create(b, alloca.getLoc(), alloca.getType(),
                                           alloca.getAlignmentAttr());
      alloca.replaceAllUsesWith(alloc.getResult());
      alloca.erase();
    }
  }

  LogicalResult partition(ModuleOp module, func::FuncOp main, kiln::cpu::SymbolicDims *sd) {
    Block &body = main.front();
    // Dispatches: one per top-level op, except that ops passing values
    // other than buffers (a loop canonicalized away leaves its scalar and
    // vector code at the top level: a one-row kernel, say) share their
    // users' dispatch, which then runs them in order on one workgroup.
    SmallVector<SmallVector<Operation *, 1>> work;
    std::vector<Slot> slots;
    llvm::DenseMap<Operation *, size_t> slotOf;
    llvm::DenseMap<Operation *, size_t> groupOf;
    bool splittable = true;
    for (Operation &op : body.without_terminator()) {
      if (isArenaAlloc(&op, sd)) {
        slotOf[&op] = slots.size();
        auto type = cast<MemRefType>(op.getResult(0).getType());
        slots.push_back(
            {cast<memref::AllocOp>(op), type.hasStaticShape() ? byteSize(type) : 0, -1, {}});
      } else if (isa<memref::DeallocOp>(op) || isRematerializable(&op) ||
                 (sd && sd->isShapeOp(&op))) {
        continue;
      } else {
        // Reading a non-buffer value another group made merges that group
        // and every later one (groups stay contiguous, in program order).
        size_t first = work.size();
        op.walk([&](Operation *inner) {
          for (Value v : inner->getOperands()) {
            Operation *def = v.getDefiningOp();
            if (!isa<MemRefType>(v.getType()) && def && def->getBlock() == &body &&
                groupOf.count(def))
              first = std::min(first, groupOf[def]);
          }
        });
        if (first < work.size()) {
          for (size_t g = first + 1; g < work.size(); ++g)
            for (Operation *moved : work[g]) {
              work[first].push_back(moved);
              groupOf[moved] = first;
            }
          work.resize(first + 1);
        } else {
          work.emplace_back();
        }
        work.back().push_back(&op);
        groupOf[&op] = work.size() - 1;
      }
    }
    // (A non-buffer value still crossing groups: one dispatch for all.)
    for (auto [index, group] : llvm::enumerate(work))
      for (Operation *op : group)
        for (Value r : op->getResults())
          for (Operation *user : r.getUsers()) {
            Operation *top = body.findAncestorOpInBlock(*user);
            if (!isa<MemRefType>(r.getType()) && top && groupOf.count(top) &&
                groupOf[top] != index)
              splittable = false;
          }
    for (Operation &op : body.without_terminator())
      if (auto d = dyn_cast<memref::DeallocOp>(op))
        if (!slotOf.count(d.getMemref().getDefiningOp()))
          splittable = false; // frees something not in the arena
    // (A model whose outputs are all empty has no work: keep one dispatch,
    // so every plan has an entry.)
    if (!splittable || work.empty()) {
      if (sd && !sd->dataDims().empty())
        return sd->dataDims().front().store->emitError(
            "a size only the data decides needs the plan split into dispatches, and this "
            "model's could not be");
      return single(module, main, sd);
    }
    // Data dims: the dispatch that stores each (its group); nothing after
    // the store in that group may be sized by it (it reads D on entry).
    if (sd && !sd->dataDims().empty()) {
      SmallVector<int64_t> data;
      for (const kiln::cpu::SymbolicDims::DataDim &d : sd->dataDims()) {
        auto group = groupOf.find(d.store);
        if (group == groupOf.end())
          return d.store->emitError("internal: a data-dependent size stored outside any dispatch");
        data.append({d.entry, (int64_t)group->second});
      }
      module->setAttr("kiln.data_dims", OpBuilder(module.getContext()).getDenseI64ArrayAttr(data));
    }
    // Dynamic dims: every size the runtime needs gets a D entry before any
    // function takes D's final type.
    SmallVector<std::pair<unsigned, int64_t>> grids(work.size(), {0, 0});
    SmallVector<int64_t> gridEntries(work.size(), -1);
    for (auto [index, group] : llvm::enumerate(work)) {
      auto par = dyn_cast<scf::ParallelOp>(group.front());
      if (!par || group.size() != 1)
        continue;
      grids[index] = gridOf(par, sd);
      auto [dim, n] = grids[index];
      if (n < 0)
        gridEntries[index] = sd->tripCount(par.getLowerBound()[dim], par.getUpperBound()[dim],
                                           par.getStep()[dim]);
    }
    if (sd) {
      for (Slot &s : slots)
        s.bytesEntry = sd->bytes(s.alloc.getResult(), kAlign);
      recordDims(module, *sd);
      sd->finish(module, main);
    }

    MLIRContext *ctx = module.getContext();
    OpBuilder b(ctx);
    SmallVector<Attribute> plan;
    SmallVector<func::FuncOp> dispatches;
    std::vector<SmallVector<Value>> rootsOf;
    for (auto [index, group] : llvm::enumerate(work)) {
      Operation *op = group.front();
      // Values from above: operands and captures, traced through views to
      // their roots (arguments and arena allocations); not the group's own.
      llvm::SetVector<Value> used;
      llvm::SmallPtrSet<Operation *, 4> members(group.begin(), group.end());
      for (Operation *member : group) {
        for (Value v : member->getOperands())
          if (!members.contains(v.getDefiningOp()))
            used.insert(v);
        for (Region &r : member->getRegions()) {
          llvm::SetVector<Value> captured;
          getUsedValuesDefinedAbove(r, captured);
          for (Value v : captured)
            if (!members.contains(v.getDefiningOp()))
              used.insert(v);
        }
      }
      llvm::SetVector<Value> roots;
      llvm::SetVector<Operation *> remat;
      SmallVector<Value> stack(used.begin(), used.end());
      while (!stack.empty()) {
        Value v = stack.pop_back_val();
        if (isa<BlockArgument>(v)) {
          if (roots.insert(v) && sd)
            llvm::append_range(stack, sd->sizesOf(v));
          continue;
        }
        Operation *def = v.getDefiningOp();
        if (slotOf.count(def)) {
          roots.insert(v);
          Slot &s = slots[slotOf[def]];
          s.place.first = std::min<int64_t>(s.place.first, index);
          s.place.last = std::max<int64_t>(s.place.last, index);
          if (sd)
            llvm::append_range(stack, sd->sizesOf(v));
          continue;
        }
        bool shape = sd && sd->isShapeOp(def);
        if ((!isRematerializable(def) && !shape) || !remat.insert(def))
          continue;
        for (Value o : def->getOperands())
          stack.push_back(o);
      }
      // Bindings in a stable order: arguments by number, then arena slots
      // in program order.
      SmallVector<Value> sorted(roots.begin(), roots.end());
      llvm::sort(sorted, [](Value x, Value y) {
        auto ax = dyn_cast<BlockArgument>(x), ay = dyn_cast<BlockArgument>(y);
        if (ax && ay)
          return ax.getArgNumber() < ay.getArgNumber();
        if (ax || ay)
          return bool(ax);
        return x.getDefiningOp()->isBeforeInBlock(y.getDefiningOp());
      });
      roots = llvm::SetVector<Value>(sorted.begin(), sorted.end());
      // Dispatch function: roots, then the workgroup range.
      SmallVector<Type> types;
      for (Value r : roots)
        types.push_back(r.getType());
      types.push_back(b.getIndexType());
      types.push_back(b.getIndexType());
      b.setInsertionPoint(main);
      std::string name = "kiln_dispatch_" + std::to_string(index);
      auto fn = func::FuncOp::create(b, op->getLoc(), name, b.getFunctionType(types, {}));
      Block *entry = fn.addEntryBlock();
      b.setInsertionPointToStart(entry);
      IRMapping map;
      for (auto [i, r] : llvm::enumerate(roots))
        map.map(r, entry->getArgument(i));
      // Re-created views and constants, in their original order.
      SmallVector<Operation *> ordered(remat.begin(), remat.end());
      llvm::sort(ordered, [](Operation *a, Operation *c) { return a->isBeforeInBlock(c); });
      for (Operation *r : ordered)
        b.clone(*r, map);
      Operation *clone = nullptr;
      for (Operation *member : group)
        clone = b.clone(*member, map);
      if (sd) {
        SmallVector<SmallVector<Value>> sizes;
        for (Value r : roots) {
          sizes.emplace_back();
          for (Value v : sd->sizesOf(r))
            sizes.back().push_back(map.lookup(v));
        }
        kiln::cpu::SymbolicDims::castDynamicArguments(fn, sizes);
      }
      int64_t workgroups = 1;
      if (auto par = dyn_cast<scf::ParallelOp>(clone); par && group.size() == 1) {
        auto [dim, n] = grids[index];
        if (n != 0) {
          // Iterations [first, last) of the grid dimension.
          Value first = entry->getArgument(roots.size());
          Value last = entry->getArgument(roots.size() + 1);
          b.setInsertionPoint(par);
          Location loc = par.getLoc();
          Value lb = par.getLowerBound()[dim], step = par.getStep()[dim];
          Value newLb = arith::AddIOp::create(b, loc, lb, arith::MulIOp::create(b, loc, first, step));
          Value newUb = arith::MinSIOp::create(
              b, loc, par.getUpperBound()[dim],
              arith::AddIOp::create(b, loc, lb, arith::MulIOp::create(b, loc, last, step)));
          par.getLowerBoundMutable()[dim].set(newLb);
          par.getUpperBoundMutable()[dim].set(newUb);
          b.setInsertionPointAfter(par);
          workgroups = n;
        }
      }
      func::ReturnOp::create(b, op->getLoc());
      dispatches.push_back(fn);
      rootsOf.push_back(SmallVector<Value>(roots.begin(), roots.end()));
      NamedAttrList attrs;
      attrs.set("entry", b.getStringAttr(name));
      attrs.set("workgroups", b.getI64IntegerAttr(std::max<int64_t>(workgroups, 1)));
      if (gridEntries[index] >= 0)
        attrs.set("workgroups_entry", b.getI64IntegerAttr(gridEntries[index]));
      plan.push_back(attrs.getDictionary(ctx));
    }
    uint64_t intermediate = 0;
    for (Slot &s : slots)
      intermediate += s.place.last >= 0 ? s.bytes : 0;
    std::vector<kiln::ArenaSlot> places;
    for (Slot &s : slots)
      places.push_back({s.bytes, 0, s.place.first, s.place.last});
    uint64_t arena = sd ? 0 : kiln::placeArenaSlots(places);
    // Bindings, now that arena offsets are known (or, with dynamic dims,
    // slot numbers the runtime places).
    for (auto [i, roots] : llvm::enumerate(rootsOf)) {
      SmallVector<int64_t> bindings, bytes;
      for (Value r : roots) {
        bytes.push_back((int64_t)bufferBytes(r.getType()));
        if (sd && r == sd->dims()) {
          bindings.append({kDimsBinding, 0});
        } else if (auto arg = dyn_cast<BlockArgument>(r)) {
          bindings.append({kArgBinding, (int64_t)arg.getArgNumber()});
        } else if (sd) {
          bindings.append({kSlotBinding, (int64_t)slotOf[r.getDefiningOp()]});
        } else {
          bindings.append({kArenaBinding, (int64_t)places[slotOf[r.getDefiningOp()]].offset});
        }
      }
      auto dict = cast<DictionaryAttr>(plan[i]);
      NamedAttrList attrs(dict);
      attrs.set("bindings", b.getDenseI64ArrayAttr(bindings));
      attrs.set("buffer_bytes", b.getDenseI64ArrayAttr(bytes));
      plan[i] = attrs.getDictionary(ctx);
    }
    module->setAttr("kiln.plan", b.getArrayAttr(plan));
    module->setAttr("kiln.arena_bytes", b.getI64IntegerAttr(arena));
    module->setAttr("kiln.intermediate_bytes", b.getI64IntegerAttr(intermediate));
    if (sd) {
      // (bytes entry, first, last dispatch) of each slot.
      SmallVector<int64_t> table;
      for (Slot &s : slots)
        table.append({s.bytesEntry, s.place.first == INT64_MAX ? -1 : s.place.first,
                      s.place.last});
      module->setAttr("kiln.slots", b.getDenseI64ArrayAttr(table));
    }
    main.erase();
    return success();
  }

  /// The fallback: @main itself is the only dispatch (one workgroup, its
  /// own allocations), bound to every argument in order.
  LogicalResult single(ModuleOp module, func::FuncOp main, kiln::cpu::SymbolicDims *sd) {
    OpBuilder b(module.getContext());
    // Buffer sizes are checked on load for static arguments only.
    SmallVector<int64_t> bytes;
    for (Type t : main.getArgumentTypes())
      bytes.push_back((int64_t)bufferBytes(t));
    if (sd) {
      recordDims(module, *sd);
      sd->finish(module, main);
      bytes.back() = (int64_t)bufferBytes(sd->dimsType());
      SmallVector<SmallVector<Value>> sizes;
      for (BlockArgument arg : main.getArguments())
        sizes.push_back(sd->sizesOf(arg));
      kiln::cpu::SymbolicDims::castDynamicArguments(main, sizes);
    }
    std::string name = "kiln_dispatch_0";
    main.setName(name);
    Block &body = main.front();
    body.addArgument(b.getIndexType(), main.getLoc());
    body.addArgument(b.getIndexType(), main.getLoc());
    SmallVector<Type> types(body.getArgumentTypes());
    main.setType(b.getFunctionType(types, {}));
    SmallVector<int64_t> bindings;
    for (unsigned i = 0; i + 2 < body.getNumArguments(); ++i) {
      if (sd && body.getArgument(i) == sd->dims())
        bindings.append({kDimsBinding, 0});
      else
        bindings.append({kArgBinding, (int64_t)i});
    }
    module->setAttr("kiln.plan",
                    b.getArrayAttr({b.getDictionaryAttr(
                        {b.getNamedAttr("entry", b.getStringAttr(name)),
                         b.getNamedAttr("workgroups", b.getI64IntegerAttr(1)),
                         b.getNamedAttr("bindings", b.getDenseI64ArrayAttr(bindings)),
                         b.getNamedAttr("buffer_bytes", b.getDenseI64ArrayAttr(bytes))})}));
    module->setAttr("kiln.arena_bytes", b.getI64IntegerAttr(0));
    module->setAttr("kiln.intermediate_bytes", b.getI64IntegerAttr(0));
    return success();
  }
};

} // namespace

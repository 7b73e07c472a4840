//===- LaunchPlan.cpp - the host side of outlined GPU kernels --------------===//

#include "targets/nvptx/LaunchPlan.h"
#include "lib/support/StorageBytes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"

#include "llvm/ADT/DenseMap.h"

#include <algorithm>
#include <cstring>

using namespace mlir;

namespace kiln::target {

void mergeGpuModules(ModuleOp module) {
  SmallVector<gpu::GPUModuleOp> modules(module.getOps<gpu::GPUModuleOp>());
  if (modules.size() < 2)
    return;
  gpu::GPUModuleOp first = modules.front();
  Block &into = first.getBodyRegion().front();
  for (gpu::GPUModuleOp m : llvm::drop_begin(modules)) {
    // Outlining names each module uniquely (main_kernel, main_kernel_0,
    // ...) but the kernel in each after the function: kernels take their
    // module's name.
    for (Operation &op : llvm::make_early_inc_range(m.getBodyRegion().front())) {
      if (auto f = dyn_cast<gpu::GPUFuncOp>(op)) {
        StringAttr old = f.getNameAttr();
        StringAttr name = StringAttr::get(
            module.getContext(), m.getSymName() + (f.getName() == "main_kernel" ? "" : "_" + f.getName()));
        f.setName(name);
        module.walk([&](gpu::LaunchFuncOp launch) {
          if (launch.getKernelModuleName() == m.getSymNameAttr() && launch.getKernelName() == old)
            launch.setKernelAttr(
                SymbolRefAttr::get(first.getSymNameAttr(), {FlatSymbolRefAttr::get(name)}));
        });
      }
      op.moveBefore(&into, into.end());
    }
    m.erase();
  }
}

/// `v` as a launch dimension, or an error.
static FailureOr<uint32_t> dimension(gpu::LaunchFuncOp launch, Value v, const char *what) {
  std::optional<int64_t> c = getConstantIntValue(v);
  if (!c || *c < 1 || *c > UINT32_MAX)
    return launch.emitError("the cuda launch plan needs a constant ") << what << " size";
  return (uint32_t)*c;
}

/// Arena offsets for @main's intermediate buffers. Launches run in order on
/// one stream, so a buffer lives from the first launch that uses it to the
/// last; buffers whose lives do not overlap share bytes (largest first,
/// first fit, 64-byte aligned). Returns null on a buffer the plan cannot
/// hold.
static FailureOr<llvm::DenseMap<Value, uint64_t>> placeBuffers(func::FuncOp main,
                                                               uint64_t &arenaBytes) {
  struct Life {
    Value buffer;
    uint64_t bytes;
    unsigned first = ~0u, last = 0;
    uint64_t offset = 0;
  };
  std::vector<Life> lives;
  llvm::DenseMap<Value, size_t> index;
  for (auto alloc : main.getBody().front().getOps<memref::AllocOp>()) {
    MemRefType t = alloc.getType();
    if (!t.hasStaticShape() || !t.getLayout().isIdentity())
      return alloc.emitError("the cuda launch plan needs static, row-major buffers");
    uint64_t bytes = storageBytes(t);
    index[alloc] = lives.size();
    lives.push_back({alloc, (bytes + 63) / 64 * 64});
  }
  unsigned step = 0;
  for (auto launch : main.getBody().front().getOps<gpu::LaunchFuncOp>()) {
    for (Value v : launch.getKernelOperands())
      if (auto it = index.find(v); it != index.end()) {
        lives[it->second].first = std::min(lives[it->second].first, step);
        lives[it->second].last = std::max(lives[it->second].last, step);
      }
    ++step;
  }
  std::vector<size_t> order(lives.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return lives[a].bytes != lives[b].bytes ? lives[a].bytes > lives[b].bytes : a < b;
  });
  std::vector<size_t> placed;
  arenaBytes = 0;
  for (size_t i : order) {
    Life &l = lives[i];
    // The lowest offset clear of every placed buffer alive at the same time.
    std::vector<std::pair<uint64_t, uint64_t>> busy;
    for (size_t j : placed)
      if (lives[j].first <= l.last && l.first <= lives[j].last)
        busy.push_back({lives[j].offset, lives[j].offset + lives[j].bytes});
    std::sort(busy.begin(), busy.end());
    uint64_t offset = 0;
    for (auto [begin, end] : busy)
      if (offset + l.bytes <= begin)
        break;
      else
        offset = std::max(offset, end);
    l.offset = offset;
    arenaBytes = std::max(arenaBytes, offset + l.bytes);
    placed.push_back(i);
  }
  llvm::DenseMap<Value, uint64_t> offsets;
  for (const Life &l : lives)
    offsets[l.buffer] = l.offset;
  return offsets;
}

FailureOr<std::vector<GpuLaunch>> planLaunches(ModuleOp module, uint64_t &arenaBytes) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return module.emitError("the model has no @main function");
  FailureOr<llvm::DenseMap<Value, uint64_t>> placement = placeBuffers(main, arenaBytes);
  if (failed(placement))
    return failure();
  const llvm::DenseMap<Value, uint64_t> &arena = *placement; // intermediate -> offset
  std::vector<GpuLaunch> launches;
  for (Operation &op : main.getBody().front()) {
    if (isa<memref::AllocOp>(op))
      continue;
    if (isa<arith::ConstantOp, memref::DeallocOp, func::ReturnOp>(op))
      continue;
    auto launch = dyn_cast<gpu::LaunchFuncOp>(op);
    if (!launch)
      return op.emitError("the cuda launch plan cannot run '")
             << op.getName() << "' on the host";
    GpuLaunch l;
    l.entry = launch.getKernelName().str();
    gpu::KernelDim3 grid = launch.getGridSizeOperandValues(),
                    block = launch.getBlockSizeOperandValues();
    Value dims[6] = {grid.x, grid.y, grid.z, block.x, block.y, block.z};
    for (int i = 0; i < 6; ++i) {
      FailureOr<uint32_t> d = dimension(launch, dims[i], i < 3 ? "grid" : "block");
      if (failed(d))
        return failure();
      (i < 3 ? l.grid[i] : l.block[i - 3]) = *d;
    }
    for (Value v : launch.getKernelOperands()) {
      LaunchArg arg;
      if (auto t = dyn_cast<MemRefType>(v.getType())) {
        arg.kind = LaunchArg::Buffer;
        if (!t.hasStaticShape() || !t.getLayout().isIdentity())
          return launch.emitError("the cuda launch plan needs static, row-major buffers");
        arg.shape.assign(t.getShape().begin(), t.getShape().end());
        if (auto a = dyn_cast<BlockArgument>(v); a && a.getOwner()->getParentOp() == main)
          arg.buffer = {DispatchBinding::Argument, a.getArgNumber(), storageBytes(t)};
        else if (arena.count(v))
          arg.buffer = {DispatchBinding::Arena, arena.lookup(v), storageBytes(t)};
        else
          return launch.emitError("the cuda launch plan cannot bind a buffer made by '")
                 << (v.getDefiningOp() ? v.getDefiningOp()->getName().getStringRef() : "?")
                 << "'";
        l.args.push_back(std::move(arg));
        continue;
      }
      Attribute c;
      if (!matchPattern(v, m_Constant(&c)))
        return launch.emitError("the cuda launch plan needs constant scalar parameters");
      if (auto i = dyn_cast<IntegerAttr>(c)) {
        arg.bits = i.getValue().getZExtValue();
        arg.bytes = isa<IndexType>(i.getType()) ? 8 : (i.getType().getIntOrFloatBitWidth() + 7) / 8;
      } else if (auto f = dyn_cast<FloatAttr>(c)) {
        arg.bits = f.getValue().bitcastToAPInt().getZExtValue();
        arg.bytes = f.getType().getIntOrFloatBitWidth() / 8;
      } else {
        return launch.emitError("the cuda launch plan cannot pass parameter ") << c;
      }
      l.args.push_back(std::move(arg));
    }
    launches.push_back(std::move(l));
  }
  return launches;
}

} // namespace kiln::target

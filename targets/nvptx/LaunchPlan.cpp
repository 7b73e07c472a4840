//===- LaunchPlan.cpp - the host side of outlined GPU kernels --------------===//

#include "targets/nvptx/LaunchPlan.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"

#include "llvm/ADT/DenseMap.h"

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

FailureOr<std::vector<GpuLaunch>> planLaunches(ModuleOp module, uint64_t &arenaBytes) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return module.emitError("the model has no @main function");
  arenaBytes = 0;
  llvm::DenseMap<Value, uint64_t> arena; // intermediate buffer -> offset
  std::vector<GpuLaunch> launches;
  for (Operation &op : main.getBody().front()) {
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      MemRefType t = alloc.getType();
      if (!t.hasStaticShape() || !t.getLayout().isIdentity())
        return alloc.emitError("the cuda launch plan needs static, row-major buffers");
      arena[alloc] = arenaBytes;
      uint64_t bytes = t.getNumElements() * ((t.getElementTypeBitWidth() + 7) / 8);
      arenaBytes += (bytes + 63) / 64 * 64;
      continue;
    }
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
          arg.buffer = {DispatchBinding::Argument, a.getArgNumber()};
        else if (arena.count(v))
          arg.buffer = {DispatchBinding::Arena, arena.lookup(v)};
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

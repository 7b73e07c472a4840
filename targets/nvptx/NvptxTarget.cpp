//===- NvptxTarget.cpp - elementwise kernels to PTX ------------------------===//
//
// kiln-to-linalg, bufferization, parallel loops; each loop nest collapsed
// to one loop over all elements and distributed over blocks of threads
// (adjacent threads, adjacent elements: coalesced; a few elements per
// thread); kernel outlining, the host code left becomes the launch plan
// (LaunchPlan.cpp), then
// upstream's gpu-lower-to-nvvm-pipeline with the binary format `isa`: the
// gpu.binary holds PTX text, extracted here.
// Capabilities are data (sm version, PTX ISA, warp size, shared memory).
//
//===----------------------------------------------------------------------===//

#include "targets/nvptx/NvptxTarget.h"
#include "targets/nvptx/LaunchPlan.h"

#include "dialects/kiln/IR/KilnOps.h"
#include "passes/Pipelines/Pipelines.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/FileSystem.h"

#include <cstdlib>

using namespace mlir;

namespace kiln::target {
namespace {

class NvptxTarget : public Target {
public:
  NvptxTarget(std::string chip, std::string ptx) : chip(std::move(chip)), ptx(std::move(ptx)) {
    specName = "cuda:" + this->chip;
    caps.arch = "nvptx64";
    caps.cpu = this->chip;
    caps.vectorBits = 128; // 16-byte vector loads
    caps.hasFma = true;
    caps.subgroupSize = 32;
    caps.maxWorkgroupThreads = 1024;
  }
  llvm::StringRef spec() const override { return specName; }
  const TargetCapabilities &capabilities() const override { return caps; }
  FailureOr<KernelBlob> compile(ModuleOp module, const CompileOptions &options) override;

private:
  std::string chip, ptx, specName;
  TargetCapabilities caps;
};

/// Math functions lower to libdevice calls (__nv_expf, ...); link libdevice
/// from a CUDA toolkit when one is installed ($CUDA_HOME or /usr/local/cuda).
/// Without it, kernels that use them keep unresolved calls.
std::string libdeviceOption() {
  std::vector<std::string> roots;
  if (const char *home = std::getenv("CUDA_HOME"))
    roots.push_back(home);
  roots.push_back("/usr/local/cuda");
  for (const std::string &root : roots) {
    std::string bc = root + "/nvvm/libdevice/libdevice.10.bc";
    if (llvm::sys::fs::exists(bc))
      return " l=" + bc;
  }
  return "";
}

/// The outermost scf.parallel nests of `module`.
SmallVector<scf::ParallelOp> outermostLoops(ModuleOp module) {
  SmallVector<scf::ParallelOp> loops;
  module.walk([&](scf::ParallelOp loop) {
    if (!loop->getParentOfType<scf::ParallelOp>())
      loops.push_back(loop);
  });
  return loops;
}

/// `loop` (one dimension, from 0 by 1 to N) as blocks of `threads` threads
/// that each take `perThread` adjacent elements: one 16-byte access per
/// buffer for 4 floats, adjacent threads on adjacent 16-byte pieces
/// (coalesced); the last block is guarded when N needs it.
void distribute(IRRewriter &rewriter, scf::ParallelOp loop, int64_t threads, int64_t perThread) {
  Location loc = loop.getLoc();
  MLIRContext *ctx = loop.getContext();
  rewriter.setInsertionPoint(loop);
  auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(rewriter, loc, v); };
  Value zero = index(0), one = index(1), n = loop.getUpperBound()[0];
  Value width = index(threads);
  auto blocks = scf::ParallelOp::create(rewriter, loc, ValueRange{zero}, ValueRange{n},
                                        ValueRange{index(threads * perThread)});
  rewriter.setInsertionPointToStart(blocks.getBody());
  auto lanes = scf::ParallelOp::create(rewriter, loc, ValueRange{zero}, ValueRange{width},
                                       ValueRange{one});
  rewriter.setInsertionPointToStart(lanes.getBody());
  auto each = scf::ForOp::create(rewriter, loc, zero, index(perThread), one);
  rewriter.setInsertionPointToStart(each.getBody());
  // Element block * threads * perThread + thread * perThread + k.
  Value i = arith::AddIOp::create(
      rewriter, loc, blocks.getInductionVars()[0],
      arith::AddIOp::create(
          rewriter, loc,
          arith::MulIOp::create(rewriter, loc, lanes.getInductionVars()[0], index(perThread)),
          each.getInductionVar()));
  // Whole blocks need no bounds check (and then the loads of one thread
  // are issued together, not one per guarded branch).
  std::optional<int64_t> count = getConstantIntValue(n);
  if (!count || *count % (threads * perThread)) {
    Value inside = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ult, i, n);
    auto guard = scf::IfOp::create(rewriter, loc, inside, /*withElseRegion=*/false);
    rewriter.setInsertionPointToStart(guard.thenBlock());
  }
  IRMapping map;
  map.map(loop.getInductionVars()[0], i);
  for (Operation &op : loop.getBody()->without_terminator())
    rewriter.clone(op, map);
  rewriter.eraseOp(loop);
  AffineMap id = AffineMap::getMultiDimIdentityMap(1, ctx);
  (void)gpu::setMappingAttr(
      blocks, {gpu::ParallelLoopDimMappingAttr::get(ctx, gpu::Processor::BlockX, id, id)});
  (void)gpu::setMappingAttr(
      lanes, {gpu::ParallelLoopDimMappingAttr::get(ctx, gpu::Processor::ThreadX, id, id)});
}

/// Every elementwise loop nest as one loop over all its elements (nested
/// (i, j, ...) loops mapped as they are would make each element a block of
/// one thread), distributed over blocks and threads.
LogicalResult mapToThreads(ModuleOp module, int64_t threads, int64_t perThread) {
  module.getContext()->getOrLoadDialect<gpu::GPUDialect>(); // the mapping attributes
  IRRewriter rewriter(module.getContext());
  for (scf::ParallelOp loop : outermostLoops(module)) {
    if (loop.getNumLoops() < 2)
      continue;
    std::vector<unsigned> all(loop.getNumLoops());
    for (unsigned i = 0; i < all.size(); ++i)
      all[i] = i;
    rewriter.setInsertionPoint(loop);
    collapseParallelLoops(rewriter, loop, {all});
  }
  // Fold the collapsed bounds (products of the extents) to constants.
  PassManager fold(module.getContext());
  if (failed(parsePassPipeline("func.func(canonicalize)", fold)) || failed(fold.run(module)))
    return failure();
  for (scf::ParallelOp loop : outermostLoops(module)) {
    if (!isConstantIntValue(loop.getLowerBound()[0], 0) ||
        !isConstantIntValue(loop.getStep()[0], 1) || loop->getNumRegions() != 1 ||
        !loop.getInitVals().empty())
      return loop.emitError("the cuda target expects elementwise loops from 0 by 1");
    distribute(rewriter, loop, threads, perThread);
  }
  return success();
}

/// The launch plan binds only buffers the runtime allocates (cuMemAlloc:
/// 256-byte aligned) or 64-byte aligned arena offsets, each allocation its
/// own range: kernel buffers may be assumed 16-byte aligned, and not to
/// overlap when a launch passes distinct buffers. Both let LLVM merge a
/// thread's adjacent loads and stores into 16-byte accesses.
void annotateBuffers(ModuleOp module) {
  llvm::DenseMap<StringAttr, bool> distinct; // kernel -> all launches pass distinct buffers
  module.walk([&](gpu::LaunchFuncOp launch) {
    llvm::SmallPtrSet<Value, 8> seen;
    bool unique = true;
    for (Value v : launch.getKernelOperands())
      if (isa<MemRefType>(v.getType()))
        unique &= seen.insert(v).second;
    auto it = distinct.try_emplace(launch.getKernelName(), unique).first;
    it->second &= unique;
  });
  module.walk([&](gpu::GPUFuncOp f) {
    bool noalias = distinct.lookup(f.getNameAttr());
    for (BlockArgument arg : f.getArguments()) {
      if (!isa<MemRefType>(arg.getType()))
        continue;
      f.setArgAttr(arg.getArgNumber(), "llvm.align",
                   IntegerAttr::get(IntegerType::get(f.getContext(), 64), 16));
      if (noalias)
        f.setArgAttr(arg.getArgNumber(), "llvm.noalias", UnitAttr::get(f.getContext()));
    }
  });
}

FailureOr<KernelBlob> NvptxTarget::compile(ModuleOp module, const CompileOptions &options) {
  // The ops whose loop nests map to threads as they are (checked on an
  // H100 against PyTorch: bench/gpu_ops.py); say which op is not, at the op.
  WalkResult walk = module.walk([](Operation *op) {
    if (isa<KilnDialect>(op->getDialect()) &&
        !isa<UnaryOp, BinaryOp, CompareOp, WhereOp, CastOp, SoftmaxOp, ReduceOp, LayerNormOp,
             RmsNormOp, MatmulOp, GemmOp, GatedMlpOp, ReshapeOp, TransposeOp, ConcatOp, SliceOp,
             ExpandOp>(op)) {
      op->emitError("the cuda target compiles elementwise, softmax, norm, reduction and "
                    "layout ops and matmuls (one thread per output) so far; '")
          << op->getName() << "' needs the full GPU target";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  registerPassesForTextualPipelines();
  DialectRegistry registry;
  registerAllToLLVMIRTranslations(registry);
  module.getContext()->appendDialectRegistry(registry);
  std::string toLoops =
      tensorsToBuffersPipeline(/*outParams=*/true) + "func.func(convert-linalg-to-parallel-loops)";
  PassManager loopsPm(module.getContext());
  if (failed(parsePassPipeline(toLoops, loopsPm)) || failed(loopsPm.run(module)))
    return failure();
  // Eight warps per block, four adjacent elements per thread (16-byte
  // accesses for f32, with annotateBuffers' alignment and no-alias).
  if (failed(mapToThreads(module,
                          std::min<int64_t>(8 * caps.subgroupSize, caps.maxWorkgroupThreads), 4)))
    return failure();
  // Outline the kernels; the host code left in @main becomes the launch
  // plan (canonicalized first: grid sizes are affine.apply of constants).
  PassManager outlinePm(module.getContext());
  // Constants the kernels use (loop bounds, the collapsed loop's divisors)
  // move inside before outlining, so they are immediates, not parameters.
  if (failed(parsePassPipeline("func.func(convert-parallel-loops-to-gpu,"
                               "gpu-launch-sink-index-computations),"
                               "gpu-kernel-outlining,func.func(canonicalize)",
                               outlinePm)) ||
      failed(outlinePm.run(module)))
    return failure();
  mergeGpuModules(module);
  annotateBuffers(module);
  uint64_t arenaBytes = 0;
  FailureOr<std::vector<GpuLaunch>> launches = planLaunches(module, arenaBytes);
  if (failed(launches))
    return failure();
  std::string pipeline =
      "nvvm-attach-target{chip=" + chip + " features=+" + ptx + libdeviceOption() + "},"
      "gpu-lower-to-nvvm-pipeline{cubin-chip=" + chip + " cubin-features=+" + ptx +
      " cubin-format=isa kernel-bare-ptr-calling-convention}";
  PassManager pm(module.getContext());
  if (failed(parsePassPipeline(pipeline, pm)) || failed(pm.run(module)))
    return failure();
  KernelBlob blob;
  blob.target = specName;
  blob.format = "ptx";
  blob.launches = std::move(*launches);
  blob.arenaBytes = blob.intermediateBytes = arenaBytes;
  module.walk([&](gpu::BinaryOp bin) {
    // One object per attached target; the first is ours (the pipeline may
    // attach a second, identical one).
    if (auto obj = dyn_cast<gpu::ObjectAttr>(bin.getObjects()[0])) {
      StringRef text = obj.getObject().getValue();
      blob.data.assign(text.begin(), text.end());
    }
    blob.entry = bin.getName().str();
  });
  if (blob.data.empty())
    return module.emitError("the GPU pipeline produced no PTX");
  if (options.text && options.emit != Emit::Blob)
    options.text->assign(blob.data.begin(), blob.data.end());
  return blob;
}

} // namespace

std::unique_ptr<Target> createNvptxTarget(llvm::StringRef variant, std::string &error) {
  std::string chip = variant.empty() ? "sm_90" : variant.str();
  unsigned sm = 0;
  llvm::StringRef c(chip);
  if (!c.starts_with("sm_") || c.drop_front(3).getAsInteger(10, sm) || sm < 50) {
    error = "unknown CUDA architecture '" + chip + "' (expected sm_XX, XX >= 50)";
    return nullptr;
  }
  // The PTX ISA each architecture needs at least.
  std::string ptx = sm >= 90 ? "ptx80" : sm >= 80 ? "ptx70" : "ptx60";
  return std::make_unique<NvptxTarget>(chip, ptx);
}

} // namespace kiln::target

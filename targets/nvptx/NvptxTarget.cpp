//===- NvptxTarget.cpp - elementwise kernels to PTX ------------------------===//
//
// kiln-to-linalg, bufferization, parallel loops mapped to blocks and
// threads, kernel outlining, then upstream's gpu-lower-to-nvvm-pipeline with
// the binary format `isa`: the gpu.binary holds PTX text, extracted here.
// Capabilities are data (sm version, PTX ISA, warp size, shared memory).
//
//===----------------------------------------------------------------------===//

#include "targets/nvptx/NvptxTarget.h"

#include "dialects/kiln/IR/KilnOps.h"
#include "passes/Pipelines/Pipelines.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
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

FailureOr<KernelBlob> NvptxTarget::compile(ModuleOp module, const CompileOptions &options) {
  // Elementwise-only for now: say which op is not, at the op.
  WalkResult walk = module.walk([](Operation *op) {
    if (isa<KilnDialect>(op->getDialect()) &&
        !isa<UnaryOp, BinaryOp, CompareOp, WhereOp, CastOp>(op)) {
      op->emitError("the cuda target compiles elementwise ops only so far; '")
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
  std::string pipeline =
      tensorsToBuffersPipeline(/*outParams=*/true) +
      "func.func(convert-linalg-to-parallel-loops,gpu-map-parallel-loops,"
      "convert-parallel-loops-to-gpu),gpu-kernel-outlining,"
      "nvvm-attach-target{chip=" + chip + " features=+" + ptx + libdeviceOption() + "},"
      "gpu-lower-to-nvvm-pipeline{cubin-chip=" + chip + " cubin-features=+" + ptx +
      " cubin-format=isa}";
  PassManager pm(module.getContext());
  if (failed(parsePassPipeline(pipeline, pm)) || failed(pm.run(module)))
    return failure();
  KernelBlob blob;
  blob.target = specName;
  blob.format = "ptx";
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

//===- CpuTarget.cpp - kiln IR to a shared object for the CPU -------------===//
//
// kiln-cpu-lowering-pipeline (kernel ABI) to the LLVM dialect, an entry
// wrapper `void kiln_entry(void **buffers)` that unpacks the buffer table
// into @main's pointer arguments, LLVM IR optimized at O3 for the chosen
// CPU, an ELF object from the target machine, and a shared object linked by
// lld in process (LinkSharedObject.cpp).
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/CpuTarget.h"

#include "targets/cpu/MachineCode.h"

#include "passes/Pipelines/Pipelines.h"
#include "targets/cpu/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace kiln::target {
namespace {

class CpuTarget : public Target {
public:
  CpuTarget(std::string cpu, std::string features, const llvm::Target *target,
            std::unique_ptr<llvm::TargetMachine> tm, unsigned vectorBits, unsigned registers,
            bool fma)
      : specName("cpu:" + cpu), features(std::move(features)), target(target),
        tm(std::move(tm)) {
    caps.arch = llvm::sys::getDefaultTargetTriple();
    caps.cpu = std::move(cpu);
    caps.vectorBits = vectorBits;
    caps.vectorRegisters = registers;
    caps.hasFma = fma;
  }
  llvm::StringRef spec() const override { return specName; }
  const TargetCapabilities &capabilities() const override { return caps; }
  FailureOr<KernelBlob> compile(ModuleOp module, const CompileOptions &options) override;

private:
  /// Another target machine like `tm`, for a code-generation thread.
  std::unique_ptr<llvm::TargetMachine> newMachine() const;

  std::string specName, features;
  const llvm::Target *target;
  /// Made once when the target is created (its features give the
  /// capabilities) and used for every compile.
  std::unique_ptr<llvm::TargetMachine> tm;
  TargetCapabilities caps;
};

/// Reads the host plan kiln-cpu-partition-dispatches left on the module and
/// gives each dispatch its ABI entry `void entry(void **bindings, int64_t
/// first, int64_t last)` around the lowered function (renamed entry_impl).
LogicalResult addDispatchEntries(ModuleOp module, KernelBlob &blob) {
  auto plan = module->getAttrOfType<ArrayAttr>("kiln.plan");
  if (!plan || plan.empty())
    return module.emitError("the CPU lowering produced no host plan");
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i64 = IntegerType::get(ctx, 64);
  for (Attribute a : plan) {
    auto d = cast<DictionaryAttr>(a);
    DispatchInfo info;
    info.entry = cast<StringAttr>(d.get("entry")).str();
    info.workgroups = cast<IntegerAttr>(d.get("workgroups")).getInt();
    if (auto e = d.getAs<IntegerAttr>("workgroups_entry"))
      info.workgroupsEntry = e.getInt();
    ArrayRef<int64_t> pairs = cast<DenseI64ArrayAttr>(d.get("bindings")).asArrayRef();
    auto sizes = dyn_cast_or_null<DenseI64ArrayAttr>(d.get("buffer_bytes"));
    for (size_t i = 0; i + 1 < pairs.size(); i += 2)
      info.bindings.push_back({(DispatchBinding::Kind)pairs[i], (uint64_t)pairs[i + 1],
                               sizes && i / 2 < (size_t)sizes.size() ? (uint64_t)sizes[i / 2] : 0});
    auto impl = module.lookupSymbol<LLVM::LLVMFuncOp>(info.entry);
    if (!impl)
      return module.emitError("no lowered function for dispatch ") << info.entry;
    impl.setSymName(info.entry + "_impl");
    impl.setLinkage(LLVM::Linkage::Internal);
    b.setInsertionPointToEnd(module.getBody());
    Location loc = impl.getLoc();
    auto fnType = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {ptr, i64, i64});
    auto entry = LLVM::LLVMFuncOp::create(b, loc, info.entry, fnType);
    Block *body = entry.addEntryBlock(b);
    b.setInsertionPointToStart(body);
    SmallVector<Value> args;
    ArrayRef<Type> params = impl.getArgumentTypes();
    if (params.size() != info.bindings.size() + 2)
      return impl.emitError("dispatch ") << info.entry << " takes " << params.size()
                                         << " arguments, expected bindings + 2";
    for (size_t i = 0; i < info.bindings.size(); ++i) {
      if (!isa<LLVM::LLVMPointerType>(params[i]))
        return impl.emitError("binding ")
               << i << " of " << info.entry << " lowered to " << params[i]
               << ", not a pointer: the kernel ABI needs static shapes";
      Value slot = LLVM::GEPOp::create(b, loc, ptr, ptr, body->getArgument(0),
                                       ArrayRef<LLVM::GEPArg>{(int32_t)i});
      args.push_back(LLVM::LoadOp::create(b, loc, ptr, slot));
    }
    args.push_back(body->getArgument(1));
    args.push_back(body->getArgument(2));
    LLVM::CallOp::create(b, loc, impl, args);
    LLVM::ReturnOp::create(b, loc, ValueRange{});
    blob.dispatches.push_back(std::move(info));
  }
  auto bytes = [&](llvm::StringRef name) -> uint64_t {
    auto attr = module->getAttrOfType<IntegerAttr>(name);
    return attr ? attr.getInt() : 0;
  };
  blob.arenaBytes = bytes("kiln.arena_bytes");
  blob.intermediateBytes = bytes("kiln.intermediate_bytes");
  if (auto entry = module->getAttrOfType<StringAttr>("kiln.shape_entry")) {
    blob.shapeEntry = entry.str();
    blob.dimsLength = bytes("kiln.dims_length");
    for (Attribute o : module->getAttrOfType<ArrayAttr>("kiln.output_dims"))
      blob.outputDims.emplace_back(cast<DenseI64ArrayAttr>(o).asArrayRef().vec());
    if (auto slots = module->getAttrOfType<DenseI64ArrayAttr>("kiln.slots"))
      for (size_t i = 0; i + 2 < (size_t)slots.size(); i += 3)
        blob.slots.push_back({slots[i], slots[i + 1], slots[i + 2]});
    if (auto checks = module->getAttrOfType<ArrayAttr>("kiln.shape_checks"))
      for (Attribute a : checks) {
        auto c = cast<ArrayAttr>(a);
        auto at = [&](int i) { return cast<IntegerAttr>(c[i]).getInt(); };
        std::vector<int64_t> data;
        if (c.size() > 4)
          data = cast<DenseI64ArrayAttr>(c[4]).asArrayRef().vec();
        blob.checks.push_back({at(0), at(1), at(2), cast<StringAttr>(c[3]).str(), std::move(data)});
      }
    if (auto values = module->getAttrOfType<DenseI64ArrayAttr>("kiln.input_values"))
      for (size_t i = 0; i + 2 < (size_t)values.size(); i += 3)
        blob.inputValues.push_back({values[i], values[i + 1], values[i + 2]});
    if (auto data = module->getAttrOfType<DenseI64ArrayAttr>("kiln.data_dims"))
      for (size_t i = 0; i + 1 < (size_t)data.size(); i += 2)
        blob.dataDims.push_back({data[i], data[i + 1]});
  }
  return success();
}

FailureOr<KernelBlob> CpuTarget::compile(ModuleOp module, const CompileOptions &options) {
  MLIRContext *ctx = module.getContext();
  PassManager pm(ctx);
  // The attention kernel and the matmul strategy are sized from this CPU's
  // vector registers; the partitioning turns @main into dispatches over an
  // arena.
  static bool registered = (registerKilnCpuPasses(), true);
  (void)registered;
  CpuLoweringOptions lowering;
  lowering.kernelAbi = true;
  if (caps.hasFma && caps.vectorBits >= 128) {
    lowering.tensorPasses =
        llvm::formatv("kiln-cpu-quantized-matmul{{vector-bits={0} registers={1}},"
                      "kiln-cpu-moe{{vector-bits={0} registers={1}},"
                      "kiln-cpu-flash-attention{{vector-bits={0} registers={1}},"
                      "kiln-cpu-row-kernels{{vector-bits={0}},",
                      caps.vectorBits, caps.vectorRegisters)
            .str();
    lowering.bufferPasses =
        llvm::formatv("kiln-cpu-matmul-microkernel{{vector-bits={0} registers={1}},",
                      caps.vectorBits, caps.vectorRegisters)
            .str();
  }
  // Checked before a run, where dims are dynamic (first: later passes
  // hide which sizes meet in loops).
  lowering.bufferPasses = "kiln-shape-checks," + lowering.bufferPasses;
  lowering.loopPasses = "kiln-cpu-partition-dispatches,";
  KernelBlob blob;
  if (failed(buildCpuLoweringPipeline(pm, lowering)) || failed(pm.run(module)) ||
      failed(addDispatchEntries(module, blob)))
    return failure();

  registerBuiltinDialectTranslation(*ctx);
  registerLLVMDialectTranslation(*ctx);
  llvm::LLVMContext llvmCtx;
  std::unique_ptr<llvm::Module> llvmModule = translateModuleToLLVMIR(module, llvmCtx);
  if (!llvmModule)
    return module.emitError("cannot translate the lowered module to LLVM IR");

  llvm::InitializeNativeTargetAsmPrinter();
  llvmModule->setDataLayout(tm->createDataLayout());
  llvmModule->setTargetTriple(tm->getTargetTriple());

  // --emit: the whole module in one piece, as text.
  if (options.emit != Emit::Blob) {
    optimizeModule(*llvmModule, *tm);
    if (!options.text)
      return KernelBlob{};
    if (options.emit == Emit::LLVMIR) {
      llvm::raw_string_ostream os(*options.text);
      llvmModule->print(os, nullptr);
      return KernelBlob{};
    }
    llvm::SmallVector<char, 0> assembly;
    if (!emitMachineCode(*llvmModule, *tm, llvm::CodeGenFileType::AssemblyFile, assembly))
      return module.emitError("the target machine cannot emit assembly");
    options.text->assign(assembly.begin(), assembly.end());
    return KernelBlob{};
  }

  // O3 (vectorizes the loops linalg produced) and instruction selection,
  // dispatches split over threads.
  CodegenStats stats;
  auto objects = compileObjects(*llvmModule, [this] { return newMachine(); }, &stats);
  if (!objects)
    return module.emitError("code generation failed: ") << llvm::toString(objects.takeError());
  if (options.verbose) {
    llvm::errs() << "kiln: " << specName << ": " << blob.dispatches.size()
                 << " dispatches, LLVM in " << stats.partitions << " partition"
                 << (stats.partitions == 1 ? "" : "s") << " on " << stats.threads << " thread"
                 << (stats.threads == 1 ? "" : "s");
    if (stats.largestPartition)
      llvm::errs() << " (at most " << stats.largestPartition << " dispatches in one)";
    llvm::errs() << "\n";
  }
  std::string error;
  FailureOr<std::vector<char>> so = linkSharedObject(*objects, error);
  if (failed(so))
    return module.emitError("linking the kernel shared object failed: ") << error;
  blob.target = specName;
  blob.format = "elf-shared-object";
  blob.entry = blob.dispatches.front().entry;
  blob.data = std::move(*so);
  return blob;
}

std::unique_ptr<llvm::TargetMachine> CpuTarget::newMachine() const {
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      tm->getTargetTriple(), tm->getTargetCPU(), features, tm->Options, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
}

} // namespace

std::unique_ptr<Target> createCpuTarget(llvm::StringRef variant, std::string &error) {
  std::string cpu = variant.str(), features;
  if (variant.empty() || variant == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    for (auto &f : llvm::sys::getHostCPUFeatures())
      features += (features.empty() ? "" : ",") + std::string(f.second ? "+" : "-") +
                  f.getKey().str();
  }
  llvm::InitializeNativeTarget();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, llvm::TargetOptions(), llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!tm || !tm->getMCSubtargetInfo()->isCPUStringValid(cpu)) {
    error = "unknown CPU '" + cpu + "' for " + triple.str();
    return nullptr;
  }
  const llvm::MCSubtargetInfo *sti = tm->getMCSubtargetInfo();
  unsigned bits = 128, registers = triple.isAArch64() ? 32 : 16; // SSE2 / NEON baseline
  bool fma = triple.isAArch64();
  if (triple.isX86()) {
    bool avx512 = sti->checkFeatures("+avx512f");
    bits = avx512 ? 512 : sti->checkFeatures("+avx2") ? 256 : 128;
    registers = avx512 ? 32 : 16;
    fma = sti->checkFeatures("+fma");
  }
  return std::make_unique<CpuTarget>(cpu, std::move(features), target, std::move(tm), bits,
                                     registers, fma);
}

} // namespace kiln::target

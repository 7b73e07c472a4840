//===- MachineCode.cpp - LLVM IR to ELF objects, in parallel ---------------===//
//
// O3 and instruction selection are three quarters of a large model's
// compile (6.4 of 8.6 s for a 10k-node chain, single-threaded). Dispatches are independent functions, so the module is split
// with llvm::SplitModule (locals stay with their users, so each entry keeps
// the kernel it inlines) and every partition is optimized and compiled in
// its own LLVMContext on a thread, as LTO's parallel code generation does.
// The partitioning depends only on the module, never on the thread count, so
// an artifact is the same whatever machine load or core count built it.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/MachineCode.h"

#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/Threading.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Transforms/Utils/SplitModule.h"

namespace kiln::target {

/// Dispatches per partition below which splitting costs more (cloning,
/// bitcode round trips, one more object to link) than it saves.
constexpr unsigned kDispatchesPerPartition = 4;
/// More partitions than threads balance uneven kernels; past this the
/// per-partition overhead dominates.
constexpr unsigned kMaxPartitions = 16;

void optimizeModule(llvm::Module &module, llvm::TargetMachine &tm) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(module, mam);
}

bool emitMachineCode(llvm::Module &module, llvm::TargetMachine &tm, llvm::CodeGenFileType kind,
                     llvm::SmallVectorImpl<char> &out) {
  llvm::raw_svector_ostream os(out);
  llvm::legacy::PassManager codegen;
  if (tm.addPassesToEmitFile(codegen, os, nullptr, kind))
    return false;
  codegen.run(module);
  return true;
}

unsigned partitionsFor(const llvm::Module &module) {
  unsigned entries = 0;
  for (const llvm::Function &f : module)
    if (!f.isDeclaration() && !f.hasLocalLinkage())
      ++entries;
  return std::clamp(entries / kDispatchesPerPartition, 1u, kMaxPartitions);
}

llvm::Expected<std::vector<llvm::SmallVector<char, 0>>>
compileObjects(llvm::Module &module, const MachineFactory &makeMachine, CodegenStats *stats) {
  unsigned parts = partitionsFor(module);
  std::vector<llvm::SmallVector<char, 0>> objects(parts);
  if (stats) {
    stats->partitions = parts;
    stats->threads = 1;
  }
  if (parts == 1) {
    std::unique_ptr<llvm::TargetMachine> tm = makeMachine();
    optimizeModule(module, *tm);
    if (!emitMachineCode(module, *tm, llvm::CodeGenFileType::ObjectFile, objects[0]))
      return llvm::createStringError("the target machine cannot emit an object file");
    return objects;
  }

  // Each partition travels as bitcode: an LLVMContext is single-threaded,
  // so every worker parses its own copy into a context of its own.
  std::vector<llvm::SmallVector<char, 0>> bitcode;
  bitcode.reserve(parts);
  llvm::SplitModule(
      module, parts,
      [&](std::unique_ptr<llvm::Module> part) {
        llvm::raw_svector_ostream os(bitcode.emplace_back());
        llvm::WriteBitcodeToFile(*part, os);
      },
      /*PreserveLocals=*/true);

  std::vector<std::string> errors(parts);
  llvm::ThreadPoolStrategy strategy = llvm::hardware_concurrency();
  unsigned threads = std::min(strategy.compute_thread_count(), parts);
  if (stats)
    stats->threads = threads;
  llvm::DefaultThreadPool pool(llvm::hardware_concurrency(threads));
  for (unsigned i = 0; i < parts; ++i)
    pool.async([&, i] {
      llvm::LLVMContext ctx;
      llvm::MemoryBufferRef buffer(llvm::StringRef(bitcode[i].data(), bitcode[i].size()),
                                   "partition");
      llvm::Expected<std::unique_ptr<llvm::Module>> part = llvm::parseBitcodeFile(buffer, ctx);
      if (!part) {
        errors[i] = llvm::toString(part.takeError());
        return;
      }
      std::unique_ptr<llvm::TargetMachine> tm = makeMachine();
      optimizeModule(**part, *tm);
      if (!emitMachineCode(**part, *tm, llvm::CodeGenFileType::ObjectFile, objects[i]))
        errors[i] = "the target machine cannot emit an object file";
    });
  pool.wait();
  for (unsigned i = 0; i < parts; ++i)
    if (!errors[i].empty())
      return llvm::createStringError("partition " + std::to_string(i) + ": " + errors[i]);
  return objects;
}

} // namespace kiln::target

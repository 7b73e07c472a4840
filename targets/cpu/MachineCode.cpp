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

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/DiagnosticPrinter.h"
#include "llvm/IR/Instruction.h"
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

/// SplitModule keeps a local global with all its users: a constant shared
/// by many dispatches (a table every layer reads) would pull them all into
/// one partition. Shared ones become hidden globals instead, defined in one
/// partition and linked by lld like any other symbol.
void shareConstantsAcrossPartitions(llvm::Module &module) {
  for (llvm::GlobalVariable &g : module.globals()) {
    if (!g.hasLocalLinkage() || g.isDeclaration())
      continue;
    llvm::SmallPtrSet<const llvm::Function *, 4> users;
    llvm::SmallVector<const llvm::User *> work(g.users());
    while (!work.empty() && users.size() < 2) {
      const llvm::User *u = work.pop_back_val();
      if (auto *inst = llvm::dyn_cast<llvm::Instruction>(u))
        users.insert(inst->getFunction());
      else if (llvm::isa<llvm::Constant>(u) && !llvm::isa<llvm::GlobalValue>(u))
        work.append(u->user_begin(), u->user_end());
      else
        users.insert(nullptr); // a global initializer: keep it simple, share
    }
    if (users.size() < 2)
      continue;
    g.setLinkage(llvm::GlobalValue::ExternalLinkage);
    g.setVisibility(llvm::GlobalValue::HiddenVisibility);
  }
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
    if (!tm)
      return llvm::createStringError("cannot create the target machine");
    optimizeModule(module, *tm);
    if (!emitMachineCode(module, *tm, llvm::CodeGenFileType::ObjectFile, objects[0]))
      return llvm::createStringError("the target machine cannot emit an object file");
    return objects;
  }

  // Each partition travels as bitcode: an LLVMContext is single-threaded,
  // so every worker parses its own copy into a context of its own.
  shareConstantsAcrossPartitions(module);
  std::vector<llvm::SmallVector<char, 0>> bitcode;
  bitcode.reserve(parts);
  unsigned largest = 0;
  llvm::SplitModule(
      module, parts,
      [&](std::unique_ptr<llvm::Module> part) {
        unsigned entries = 0;
        for (const llvm::Function &f : *part)
          entries += !f.isDeclaration() && !f.hasLocalLinkage();
        largest = std::max(largest, entries);
        llvm::raw_svector_ostream os(bitcode.emplace_back());
        llvm::WriteBitcodeToFile(*part, os);
      },
      /*PreserveLocals=*/true);
  if (stats)
    stats->largestPartition = largest;

  std::vector<std::string> errors(parts);
  llvm::ThreadPoolStrategy strategy = llvm::hardware_concurrency();
  unsigned threads = std::min(strategy.compute_thread_count(), parts);
  if (stats)
    stats->threads = threads;
  llvm::DefaultThreadPool pool(llvm::hardware_concurrency(threads));
  for (unsigned i = 0; i < parts; ++i)
    pool.async([&, i] {
      llvm::LLVMContext ctx;
      // A backend error is this partition's error, not LLVM's exit(1) from
      // a worker thread.
      ctx.setDiagnosticHandlerCallBack(
          [](const llvm::DiagnosticInfo *info, void *error) {
            if (info->getSeverity() != llvm::DS_Error)
              return;
            std::string &message = *static_cast<std::string *>(error);
            llvm::raw_string_ostream os(message);
            llvm::DiagnosticPrinterRawOStream printer(os);
            if (message.empty())
              info->print(printer);
          },
          &errors[i]);
      llvm::MemoryBufferRef buffer(llvm::StringRef(bitcode[i].data(), bitcode[i].size()),
                                   "partition");
      llvm::Expected<std::unique_ptr<llvm::Module>> part = llvm::parseBitcodeFile(buffer, ctx);
      if (!part) {
        errors[i] = llvm::toString(part.takeError());
        return;
      }
      std::unique_ptr<llvm::TargetMachine> tm = makeMachine();
      if (!tm) {
        errors[i] = "cannot create the target machine";
        return;
      }
      optimizeModule(**part, *tm);
      if (!emitMachineCode(**part, *tm, llvm::CodeGenFileType::ObjectFile, objects[i]) &&
          errors[i].empty())
        errors[i] = "the target machine cannot emit an object file";
    });
  pool.wait();
  for (unsigned i = 0; i < parts; ++i)
    if (!errors[i].empty())
      return llvm::createStringError("partition " + std::to_string(i) + ": " + errors[i]);
  return objects;
}

} // namespace kiln::target

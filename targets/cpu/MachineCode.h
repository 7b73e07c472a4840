//===- MachineCode.h - LLVM IR to ELF objects, in parallel -----*- C++ -*-===//

#ifndef KILN_TARGETS_CPU_MACHINECODE_H
#define KILN_TARGETS_CPU_MACHINECODE_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/CodeGen.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <memory>
#include <vector>

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace kiln::target {

/// A fresh target machine (one per thread: they are not shared).
using MachineFactory = std::function<std::unique_ptr<llvm::TargetMachine>()>;

/// What compileObjects did, for --verbose.
struct CodegenStats {
  unsigned partitions = 1;
  unsigned threads = 1;
  unsigned largestPartition = 0; // dispatches in the largest (0: not split)
};

/// LLVM's O3 pipeline over `module`.
void optimizeModule(llvm::Module &module, llvm::TargetMachine &tm);
/// Appends `module` as an object file or assembly to `out`; false if the
/// target cannot emit that kind.
bool emitMachineCode(llvm::Module &module, llvm::TargetMachine &tm, llvm::CodeGenFileType kind,
                     llvm::SmallVectorImpl<char> &out);
/// The partitions compileObjects splits `module` into (from its size only).
unsigned partitionsFor(const llvm::Module &module);
/// O3 and an ELF object per partition of `module`, partitions compiled on
/// up to one thread per CPU; `module` itself may be left split or optimized.
llvm::Expected<std::vector<llvm::SmallVector<char, 0>>>
compileObjects(llvm::Module &module, const MachineFactory &makeMachine,
               CodegenStats *stats = nullptr);

} // namespace kiln::target

#endif // KILN_TARGETS_CPU_MACHINECODE_H

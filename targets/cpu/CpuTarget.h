//===- CpuTarget.h - the host CPU target --------------------------*- C++ -*-===//

#ifndef KILN_TARGETS_CPU_CPUTARGET_H
#define KILN_TARGETS_CPU_CPUTARGET_H

#include "targets/Target.h"

#include "llvm/ADT/SmallVector.h"

namespace kiln::target {

/// The CPU target for `variant`: "" or "native" (the host CPU and its
/// features) or an LLVM CPU name ("x86-64-v3", "znver4", "neoverse-v2").
std::unique_ptr<Target> createCpuTarget(llvm::StringRef variant, std::string &error);

/// Links `objects` (ELF) into one shared object with lld, in process.
mlir::FailureOr<std::vector<char>>
linkSharedObject(llvm::ArrayRef<llvm::SmallVector<char, 0>> objects, std::string &error);

} // namespace kiln::target

#endif // KILN_TARGETS_CPU_CPUTARGET_H

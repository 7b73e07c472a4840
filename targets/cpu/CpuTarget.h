//===- CpuTarget.h - the host CPU target --------------------------*- C++ -*-===//

#ifndef KILN_TARGETS_CPU_CPUTARGET_H
#define KILN_TARGETS_CPU_CPUTARGET_H

#include "targets/Target.h"

namespace kiln::target {

/// The CPU target for `variant`: "" or "native" (the host CPU and its
/// features) or an LLVM CPU name ("x86-64-v3", "znver4", "neoverse-v2").
std::unique_ptr<Target> createCpuTarget(llvm::StringRef variant, std::string &error);

/// Links `object` (ELF) into a shared object with lld, in process.
mlir::FailureOr<std::vector<char>> linkSharedObject(llvm::ArrayRef<char> object,
                                                    std::string &error);

} // namespace kiln::target

#endif // KILN_TARGETS_CPU_CPUTARGET_H

//===- NvptxTarget.h - NVIDIA GPUs through gpu -> nvvm -> PTX -----*- C++ -*-===//

#ifndef KILN_TARGETS_NVPTX_NVPTXTARGET_H
#define KILN_TARGETS_NVPTX_NVPTXTARGET_H

#include "targets/Target.h"

namespace kiln::target {

/// The CUDA target for `variant` "sm_80", "sm_90", ... (default sm_90).
/// Minimal so far: elementwise-only models, lowered through upstream
/// gpu/nvvm to PTX (checked with ptxas in the tests); the host launch plan
/// and the cuda runtime device come with the full GPU targets.
std::unique_ptr<Target> createNvptxTarget(llvm::StringRef variant, std::string &error);

} // namespace kiln::target

#endif // KILN_TARGETS_NVPTX_NVPTXTARGET_H

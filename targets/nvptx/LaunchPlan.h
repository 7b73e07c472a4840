//===- LaunchPlan.h - the host side of outlined GPU kernels -----*- C++ -*-===//
//
// After gpu-kernel-outlining, @main is host code: constants, buffer
// allocations and gpu.launch_func. It becomes the target's launch plan
// (grid, block, parameters bound to model arguments or arena offsets), which
// the runtime's GPU device replays; the kernels move into one gpu.module so
// they share one PTX image.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TARGETS_NVPTX_LAUNCHPLAN_H
#define KILN_TARGETS_NVPTX_LAUNCHPLAN_H

#include "targets/Target.h"

namespace kiln::target {

/// Moves every outlined kernel into the first gpu.module (launches follow).
void mergeGpuModules(mlir::ModuleOp module);

/// The launches of @main in order; intermediate buffers get arena offsets
/// (64-byte aligned, `arenaBytes` in all). Errors at a host op the plan
/// cannot express.
mlir::FailureOr<std::vector<GpuLaunch>> planLaunches(mlir::ModuleOp module,
                                                     uint64_t &arenaBytes);

} // namespace kiln::target

#endif // KILN_TARGETS_NVPTX_LAUNCHPLAN_H

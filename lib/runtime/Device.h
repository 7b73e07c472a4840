//===- Device.h - loading and running kernels on a device ---------*- C++ -*-===//

#ifndef KILN_LIB_RUNTIME_DEVICE_H
#define KILN_LIB_RUNTIME_DEVICE_H

#include "lib/artifact/ArtifactFormat.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kiln::runtime {

/// A dispatch entry: workgroups [first, last) on the pointer table.
using DispatchFn = void (*)(void **buffers, int64_t first, int64_t last);

class LoadedKernel {
public:
  virtual ~LoadedKernel() = default;
  /// The entry named `symbol`, or null.
  virtual DispatchFn lookup(const std::string &symbol) = 0;
};

/// Loads a CPU kernel (an ELF shared object held in memory) and checks it
/// has `kernel.entry`.
std::unique_ptr<LoadedKernel> loadCpuKernel(const artifact::fb::Kernel &kernel,
                                            const uint8_t *bytes, std::string &error);

/// A model's GPU kernel replayed on a GPU: device buffers for inputs,
/// weights (uploaded once), outputs and the arena; each run copies inputs
/// in, runs the kernel's launches in order and copies outputs back.
class GpuSession {
public:
  virtual ~GpuSession() = default;
  /// `in` / `out`: host pointers of every model input / output (string
  /// tensors are null: they never reach a kernel).
  virtual bool run(const std::vector<void *> &in, const std::vector<void *> &out,
                   std::string &error) = 0;
};

/// A CUDA session for `kernel` (format "ptx" with launches): the driver
/// (libcuda.so.1) is dlopen'ed, device 0 used through its primary context.
/// `profile`: print each launch's time when destroyed.
std::unique_ptr<GpuSession> createCudaSession(const artifact::Artifact &artifact,
                                              const artifact::fb::Kernel &kernel, bool profile,
                                              std::string &error);

} // namespace kiln::runtime

#endif // KILN_LIB_RUNTIME_DEVICE_H

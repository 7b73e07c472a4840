//===- Device.h - loading and running kernels on a device ---------*- C++ -*-===//

#ifndef KILN_LIB_RUNTIME_DEVICE_H
#define KILN_LIB_RUNTIME_DEVICE_H

#include "lib/artifact/ArtifactFormat.h"

#include <cstdint>
#include <memory>
#include <string>

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

} // namespace kiln::runtime

#endif // KILN_LIB_RUNTIME_DEVICE_H

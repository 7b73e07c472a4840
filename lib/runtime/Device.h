//===- Device.h - loading and running kernels on a device ---------*- C++ -*-===//

#ifndef KILN_LIB_RUNTIME_DEVICE_H
#define KILN_LIB_RUNTIME_DEVICE_H

#include "lib/artifact/ArtifactFormat.h"

#include <memory>
#include <string>

namespace kiln::runtime {

class LoadedKernel {
public:
  virtual ~LoadedKernel() = default;
  /// Runs the kernel on its pointer table.
  virtual void run(void **buffers) = 0;
};

/// Loads a CPU kernel (an ELF shared object held in memory).
std::unique_ptr<LoadedKernel> loadCpuKernel(const artifact::fb::Kernel &kernel,
                                            const uint8_t *bytes, std::string &error);

} // namespace kiln::runtime

#endif // KILN_LIB_RUNTIME_DEVICE_H

//===- CpuDevice.cpp - CPU kernels: shared objects loaded from memory -----===//
//
// The kernel's shared object is written to an anonymous memfd and dlopen'ed
// through /proc/self/fd, so nothing touches the file system. The memfd stays
// open while the kernel is loaded: dlopen takes a path it has loaded before
// for the same object, and a closed descriptor's number (its path) would be
// reused by the next kernel, which would then resolve to this one.
//
//===----------------------------------------------------------------------===//

#include "lib/runtime/Device.h"

#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

namespace kiln::runtime {
namespace {

class CpuKernel : public LoadedKernel {
public:
  CpuKernel(void *handle, int fd) : handle(handle), fd(fd) {}
  ~CpuKernel() override {
    dlclose(handle);
    ::close(fd);
  }
  DispatchFn lookup(const std::string &symbol) override {
    return reinterpret_cast<DispatchFn>(dlsym(handle, symbol.c_str()));
  }

private:
  void *handle;
  int fd;
};

} // namespace

std::unique_ptr<LoadedKernel> loadCpuKernel(const artifact::fb::Kernel &kernel,
                                            const uint8_t *bytes, std::string &error) {
  if (kernel.format()->str() != "elf-shared-object") {
    error = "the cpu device cannot load kernels of format '" + kernel.format()->str() + "'";
    return nullptr;
  }
  int fd = memfd_create("kiln-kernel", MFD_CLOEXEC);
  if (fd < 0) {
    error = std::string("memfd_create failed: ") + std::strerror(errno);
    return nullptr;
  }
  uint64_t size = kernel.data()->size();
  for (uint64_t done = 0; done < size;) {
    ssize_t n = ::write(fd, bytes + done, size - done);
    if (n <= 0) {
      error = std::string("cannot stage the kernel: ") + std::strerror(errno);
      ::close(fd);
      return nullptr;
    }
    done += (uint64_t)n;
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    error = std::string("cannot load the cpu kernel: ") + dlerror();
    ::close(fd);
    return nullptr;
  }
  auto loaded = std::make_unique<CpuKernel>(handle, fd);
  if (!loaded->lookup(kernel.entry()->str())) {
    error = "the cpu kernel has no entry '" + kernel.entry()->str() + "'";
    return nullptr;
  }
  return loaded;
}

} // namespace kiln::runtime

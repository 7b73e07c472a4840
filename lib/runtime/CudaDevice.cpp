//===- CudaDevice.cpp - GPU kernels run through the CUDA driver -----------===//
//
// The driver API is dlopen'ed (libcuda.so.1) and its few entry points are
// declared here, so the runtime builds and runs where no CUDA is installed;
// asking for device "cuda" there is a clear error. The kernel's PTX is
// JIT-compiled by the driver for the GPU at hand; its launches (grid,
// block, parameters: scalars and bare buffer pointers) come from the
// artifact.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime.h"
#include "lib/runtime/Device.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <dlfcn.h>

namespace fb = kiln::artifact::fb;

namespace kiln::runtime {
namespace {

// The driver API types and entry points the runtime uses (cuda.h).
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUevent = void *;
constexpr int kComputeCapabilityMajor = 75, kComputeCapabilityMinor = 76;

struct Driver {
  void *handle = nullptr;
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned, void *, void **);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, void *, void **, void **);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  CUresult (*cuEventCreate)(CUevent *, unsigned);
  CUresult (*cuEventDestroy)(CUevent);
  CUresult (*cuEventRecord)(CUevent, void *);
  CUresult (*cuEventSynchronize)(CUevent);
  CUresult (*cuEventElapsedTime)(float *, CUevent, CUevent);

  bool load(std::string &error) {
    handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      error = "device 'cuda': cannot load the CUDA driver (libcuda.so.1): " +
              std::string(dlerror());
      return false;
    }
    bool ok = true;
    auto bind = [&](auto &fn, const char *name) {
      void *p = dlsym(handle, name);
      if (!p) {
        error = std::string("device 'cuda': the driver has no ") + name;
        ok = false;
      }
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
    };
    bind(cuInit, "cuInit");
    bind(cuDeviceGet, "cuDeviceGet");
    bind(cuDeviceGetAttribute, "cuDeviceGetAttribute");
    bind(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    bind(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
    bind(cuCtxSetCurrent, "cuCtxSetCurrent");
    bind(cuCtxSynchronize, "cuCtxSynchronize");
    bind(cuModuleLoadDataEx, "cuModuleLoadDataEx");
    bind(cuModuleUnload, "cuModuleUnload");
    bind(cuModuleGetFunction, "cuModuleGetFunction");
    bind(cuMemAlloc, "cuMemAlloc_v2");
    bind(cuMemFree, "cuMemFree_v2");
    bind(cuMemcpyHtoD, "cuMemcpyHtoD_v2");
    bind(cuMemcpyDtoH, "cuMemcpyDtoH_v2");
    bind(cuLaunchKernel, "cuLaunchKernel");
    bind(cuGetErrorString, "cuGetErrorString");
    bind(cuEventCreate, "cuEventCreate");
    bind(cuEventDestroy, "cuEventDestroy_v2");
    bind(cuEventRecord, "cuEventRecord");
    bind(cuEventSynchronize, "cuEventSynchronize");
    bind(cuEventElapsedTime, "cuEventElapsedTime");
    return ok;
  }
};

size_t tensorBytes(const fb::TensorInfo *t) {
  size_t n = kiln_dtype_size((kiln_dtype)t->dtype());
  if (t->shape())
    for (int64_t d : *t->shape())
      n *= (size_t)d;
  return n;
}

class CudaSession : public GpuSession {
public:
  ~CudaSession() override;
  bool init(const artifact::Artifact &artifact, const fb::Kernel &kernel, std::string &error);
  bool run(const std::vector<void *> &in, const std::vector<void *> &out,
           std::string &error) override;
  bool profile = false;

private:
  bool check(CUresult r, const char *what, std::string &error) {
    if (r == 0)
      return true;
    const char *text = nullptr;
    if (driver.cuGetErrorString)
      driver.cuGetErrorString(r, &text);
    error = std::string("device 'cuda': ") + what + " failed: " + (text ? text : "error ") +
            (text ? "" : std::to_string(r));
    return false;
  }
  CUdeviceptr alloc(size_t bytes, std::string &error) {
    CUdeviceptr p = 0;
    if (bytes && !check(driver.cuMemAlloc(&p, bytes), "cuMemAlloc", error))
      return 0;
    buffers.push_back(p);
    return p;
  }

  struct Launch {
    CUfunction fn;
    const fb::Launch *plan;
    std::vector<uint64_t> slots; // parameter values
    std::vector<void *> params;  // pointers to them
    double seconds = 0;
  };
  Driver driver;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUmodule module = nullptr;
  std::vector<CUdeviceptr> buffers, inputs, outputs, weights;
  std::vector<size_t> inBytes, outBytes;
  CUdeviceptr arena = 0;
  std::vector<Launch> launches;
  CUevent before = nullptr, after = nullptr; // KILN_PROFILE: device time per launch
};

CudaSession::~CudaSession() {
  if (profile)
    for (const Launch &l : launches)
      std::fprintf(stderr, "kiln: cuda %s: %.3f ms\n", l.plan->entry()->c_str(), l.seconds * 1e3);
  if (!context)
    return;
  driver.cuCtxSetCurrent(context);
  if (before)
    driver.cuEventDestroy(before);
  if (after)
    driver.cuEventDestroy(after);
  for (CUdeviceptr p : buffers)
    driver.cuMemFree(p);
  if (module)
    driver.cuModuleUnload(module);
  driver.cuDevicePrimaryCtxRelease(device);
}

bool CudaSession::init(const artifact::Artifact &artifact, const fb::Kernel &kernel,
                       std::string &error) {
  if (!driver.load(error))
    return false;
  if (!check(driver.cuInit(0), "cuInit", error) ||
      !check(driver.cuDeviceGet(&device, 0), "cuDeviceGet", error) ||
      !check(driver.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain",
             error) ||
      !check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent", error))
    return false;
  // PTX for sm_XX runs on compute capability XX or newer.
  int major = 0, minor = 0;
  driver.cuDeviceGetAttribute(&major, kComputeCapabilityMajor, device);
  driver.cuDeviceGetAttribute(&minor, kComputeCapabilityMinor, device);
  std::string target = kernel.target()->str();
  size_t at = target.find("sm_");
  int sm = at == std::string::npos ? 0 : std::atoi(target.c_str() + at + 3);
  if (!sm || major * 10 + minor < sm) {
    error = "device 'cuda': the artifact's kernels are for " + target +
            ", this GPU has compute capability " + std::to_string(major) + "." +
            std::to_string(minor);
    return false;
  }
  const uint8_t *bytes = artifact.bytes(*kernel.data());
  std::string ptx(reinterpret_cast<const char *>(bytes), kernel.data()->size()); // NUL-ended
  if (!check(driver.cuModuleLoadDataEx(&module, ptx.c_str(), 0, nullptr, nullptr),
             "loading the PTX (cuModuleLoadDataEx)", error))
    return false;

  const fb::Manifest &m = artifact.manifest();
  for (const fb::TensorInfo *t : *m.inputs()) {
    inBytes.push_back(t->dtype() == fb::DType::String ? 0 : tensorBytes(t));
    inputs.push_back(alloc(inBytes.back(), error));
  }
  for (const fb::TensorInfo *t : *m.outputs()) {
    outBytes.push_back(t->dtype() == fb::DType::String ? 0 : tensorBytes(t));
    outputs.push_back(alloc(outBytes.back(), error));
  }
  if (m.weights())
    for (const fb::Weight *w : *m.weights()) {
      weights.push_back(alloc(w->data()->size(), error));
      if (!check(driver.cuMemcpyHtoD(weights.back(), artifact.bytes(*w->data()),
                                     w->data()->size()),
                 "uploading weights", error))
        return false;
    }
  arena = alloc(kernel.arena_bytes(), error);
  if (!error.empty())
    return false;

  for (const fb::Launch *l : *kernel.launches()) {
    Launch launch{nullptr, l, {}, {}};
    if (!check(driver.cuModuleGetFunction(&launch.fn, module, l->entry()->c_str()),
               ("finding kernel '" + l->entry()->str() + "'").c_str(), error))
      return false;
    for (const fb::LaunchArg *a : *l->args()) {
      if (a->kind() == fb::LaunchArgKind::Scalar) {
        launch.slots.push_back(a->bits());
        continue;
      }
      const fb::Binding *b = a->buffer();
      CUdeviceptr p = b->kind() == fb::BufferKind::Input    ? inputs[b->index()]
                      : b->kind() == fb::BufferKind::Output ? outputs[b->index()]
                      : b->kind() == fb::BufferKind::Weight ? weights[b->index()]
                                                            : arena + b->offset();
      // Kernels take static buffers as bare pointers (16-byte aligned:
      // cuMemAlloc gives 256, arena offsets are multiples of 64).
      launch.slots.push_back(p);
    }
    launches.push_back(std::move(launch));
  }
  if (profile && (!check(driver.cuEventCreate(&before, 0), "cuEventCreate", error) ||
                  !check(driver.cuEventCreate(&after, 0), "cuEventCreate", error)))
    return false;
  // Parameter pointers once the slot vectors no longer move.
  for (Launch &l : launches)
    for (uint64_t &slot : l.slots)
      l.params.push_back(&slot);
  return true;
}

bool CudaSession::run(const std::vector<void *> &in, const std::vector<void *> &out,
                      std::string &error) {
  if (!check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent", error))
    return false;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inBytes[i] && !check(driver.cuMemcpyHtoD(inputs[i], in[i], inBytes[i]),
                             "copying inputs to the GPU", error))
      return false;
  for (Launch &l : launches) {
    if (profile && !check(driver.cuEventRecord(before, nullptr), "cuEventRecord", error))
      return false;
    const auto *g = l.plan->grid(), *b = l.plan->block();
    if (!check(driver.cuLaunchKernel(l.fn, g->Get(0), g->Get(1), g->Get(2), b->Get(0), b->Get(1),
                                     b->Get(2), 0, nullptr, l.params.data(), nullptr),
               ("launching '" + l.plan->entry()->str() + "'").c_str(), error))
      return false;
    float ms = 0;
    if (profile && (!check(driver.cuEventRecord(after, nullptr), "cuEventRecord", error) ||
                    !check(driver.cuEventSynchronize(after), "running the kernels", error) ||
                    !check(driver.cuEventElapsedTime(&ms, before, after), "timing", error)))
      return false;
    l.seconds += ms * 1e-3;
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    if (outBytes[i] && !check(driver.cuMemcpyDtoH(out[i], outputs[i], outBytes[i]),
                              "copying outputs from the GPU", error))
      return false;
  return check(driver.cuCtxSynchronize(), "running the kernels", error);
}

} // namespace

std::unique_ptr<GpuSession> createCudaSession(const artifact::Artifact &artifact,
                                              const fb::Kernel &kernel, bool profile,
                                              std::string &error) {
  auto s = std::make_unique<CudaSession>();
  s->profile = profile;
  if (!s->init(artifact, kernel, error))
    return nullptr;
  return s;
}

} // namespace kiln::runtime

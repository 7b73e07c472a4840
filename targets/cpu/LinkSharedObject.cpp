//===- LinkSharedObject.cpp - lld as a library -----------------------------===//
//
// The kernel objects become one shared object the runtime can dlopen. lld
// (liblld-22-dev) runs in process; it reads and writes files, so the object
// and the result pass through a private temporary directory.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/CpuTarget.h"

#include "lld/Common/Driver.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

LLD_HAS_DRIVER(elf)

namespace kiln::target {

mlir::FailureOr<std::vector<char>>
linkSharedObject(llvm::ArrayRef<llvm::SmallVector<char, 0>> objects, std::string &error) {
  llvm::SmallString<128> dir;
  if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("kiln-link", dir)) {
    error = "cannot create a temporary directory: " + ec.message();
    return mlir::failure();
  }
  llvm::SmallString<128> so(dir);
  llvm::sys::path::append(so, "kernel.so");
  std::vector<std::string> objs;
  auto cleanup = llvm::scope_exit([&] {
    for (const std::string &obj : objs)
      llvm::sys::fs::remove(obj);
    llvm::sys::fs::remove(so);
    llvm::sys::fs::remove(dir);
  });
  for (size_t i = 0; i < objects.size(); ++i) {
    llvm::SmallString<128> obj(dir);
    llvm::sys::path::append(obj, "kernel" + std::to_string(i) + ".o");
    objs.push_back(obj.str().str());
    std::error_code ec;
    llvm::raw_fd_ostream os(obj, ec);
    if (ec) {
      error = "cannot write " + obj.str().str() + ": " + ec.message();
      return mlir::failure();
    }
    os.write(objects[i].data(), objects[i].size());
    os.close();
    if (os.has_error()) { // a full disk: an error, not LLVM's abort
      error = "cannot write " + obj.str().str() + ": " + os.error().message();
      os.clear_error();
      return mlir::failure();
    }
  }
  std::string log;
  llvm::raw_string_ostream logOS(log);
  // Undefined symbols (libm's erf, expf, ...) resolve against the runtime
  // process when the shared object is loaded.
  std::vector<const char *> args = {"ld.lld", "-shared", "--no-undefined-version", "-O2",
                                    "--gc-sections", "-z", "noexecstack"};
  for (const std::string &obj : objs)
    args.push_back(obj.c_str());
  args.push_back("-o");
  args.push_back(so.c_str());
  lld::Result r = lld::lldMain(args, logOS, logOS, {{lld::Gnu, &lld::elf::link}});
  if (r.retCode) {
    error = log.empty() ? "lld failed" : log;
    return mlir::failure();
  }
  auto buf = llvm::MemoryBuffer::getFile(so, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf) {
    error = "lld wrote no output: " + buf.getError().message();
    return mlir::failure();
  }
  return std::vector<char>((*buf)->getBufferStart(), (*buf)->getBufferEnd());
}

} // namespace kiln::target

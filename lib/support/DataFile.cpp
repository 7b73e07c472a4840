//===- DataFile.cpp - open a model's side files inside its folder ---------===//

#include "lib/support/DataFile.h"
#include "lib/support/OutputFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace llvm;

namespace kiln {
namespace {

Error fail(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message);
}

/// Whether real path `path` is `root` or below it (whole components).
bool within(StringRef path, StringRef root) {
  if (!path.starts_with(root))
    return false;
  return path.size() == root.size() || root.ends_with("/") || path[root.size()] == '/';
}

} // namespace

bool isRegularFile(StringRef path, std::string &error) {
  struct stat st;
  if (::stat(path.str().c_str(), &st) != 0) {
    error = "'" + path.str() + "': " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error = "'" + path.str() + "' is " + fileKindName(st.st_mode) + ", not a regular file";
    return false;
  }
  return true;
}

Expected<DataFile> openDataFile(const DataRoots &roots, StringRef name) {
  if (name.empty())
    return fail("the external data location is empty");
  SmallString<256> written;
  if (sys::path::is_absolute(name))
    written = name;
  else {
    written = roots.modelDir.empty() ? StringRef(".") : StringRef(roots.modelDir);
    sys::path::append(written, name);
  }
  SmallString<256> real;
  if (std::error_code ec = sys::fs::real_path(written, real))
    return fail("cannot open external data file '" + written + "': " + ec.message());

  const std::string modelDir = roots.modelDir.empty() ? "." : roots.modelDir;
  SmallVector<std::string> rootPaths;
  bool inside = false;
  for (size_t i = 0; i <= roots.allowed.size(); ++i) {
    const std::string &root = i > 0 ? roots.allowed[i - 1] : modelDir;
    SmallString<256> rootReal;
    if (sys::fs::real_path(root, rootReal))
      continue; // an allowed folder that does not exist allows nothing
    rootPaths.push_back(rootReal.str().str());
    inside |= within(real, rootReal);
  }
  if (!inside)
    return fail("external data '" + name + "' resolves to '" + real +
                "', outside the model's folder '" +
                (rootPaths.empty() ? modelDir : rootPaths.front()) +
                "'; if that is intended, allow its folder with "
                "--allow-data-dir=DIR");

  // O_NONBLOCK: opening a FIFO for reading must not wait for a writer; the
  // fstat below then refuses it. O_NOFOLLOW: `real` has no symlinks left,
  // so one appearing now is a swap.
  int fd = ::open(real.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0)
    return fail("cannot open external data file '" + real + "': " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const char *what = ::fstat(fd, &st) != 0 ? "unreadable" : fileKindName(st.st_mode);
    ::close(fd);
    return fail("external data '" + name + "' ('" + real + "') is " + what +
                ", not a regular file");
  }
  auto buffer = MemoryBuffer::getOpenFile(sys::fs::convertFDToNativeFile(fd), real,
                                          (uint64_t)st.st_size,
                                          /*RequiresNullTerminator=*/false);
  ::close(fd);
  if (!buffer)
    return fail("cannot read external data file '" + real + "': " +
                buffer.getError().message());
  return DataFile{real.str().str(), std::move(*buffer)};
}

} // namespace kiln

//===- DataFile.h - open a model's side files inside its folder ---*- C++ -*-===//
//
// A model names side files (ONNX external data, later safetensors shards) by
// paths it chooses. Those paths are untrusted: `../../etc/passwd`, an
// absolute path, a symlink out of the folder, a FIFO or /dev/zero. Every
// such file is opened through here, which resolves it and refuses anything
// that is not a regular file inside the model's folder or a folder the user
// allowed.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_SUPPORT_DATAFILE_H
#define KILN_LIB_SUPPORT_DATAFILE_H

#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <string>
#include <vector>

namespace kiln {

/// Where side files may be: the model's folder and the folders the user
/// named (`--allow-data-dir`).
struct DataRoots {
  std::string modelDir;
  std::vector<std::string> allowed;
};

struct DataFile {
  /// The file's real path (no symlinks, no `..`): what later stages re-open.
  std::string path;
  std::unique_ptr<llvm::MemoryBuffer> buffer;
};

/// Opens side file `name` (as written in the model, relative to its folder)
/// read-only, or says why not: missing, outside every root, not a regular
/// file. Never blocks (a FIFO is refused, not opened for reading).
llvm::Expected<DataFile> openDataFile(const DataRoots &roots, llvm::StringRef name);

/// Whether `path` is a regular file (following symlinks); false with
/// `error` naming what it is otherwise.
bool isRegularFile(llvm::StringRef path, std::string &error);

} // namespace kiln

#endif // KILN_LIB_SUPPORT_DATAFILE_H

//===- OutputFile.h - write a file whole or not at all ------------*- C++ -*-===//
//
// Every file Kiln writes (artifacts, --emit text, kiln run's .npy outputs)
// goes through here: into a temporary next to the destination, flushed to
// disk, then renamed over it. A failure (full disk, a kill) leaves the
// destination as it was. A destination that exists and is not a regular
// file (a device node, FIFO, directory) is refused, never replaced.
// Plain POSIX: the artifact library and the runtime have no LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_SUPPORT_OUTPUTFILE_H
#define KILN_LIB_SUPPORT_OUTPUTFILE_H

#include <cstdint>
#include <string>
#include <string_view>

namespace kiln {

/// "a directory", "a FIFO", "a device", "a socket" or "not a regular file",
/// for a stat() mode that is not a regular file's.
const char *fileKindName(unsigned mode);

/// False (with `error`) when `path` exists and is not a regular file.
bool checkOutputTarget(const std::string &path, std::string &error);

class OutputFile {
public:
  explicit OutputFile(std::string path);
  ~OutputFile(); // removes the temporary unless commit() succeeded
  OutputFile(const OutputFile &) = delete;
  OutputFile &operator=(const OutputFile &) = delete;

  /// Checks the destination and creates the temporary.
  bool open(std::string &error);
  /// Appends `size` bytes.
  bool write(const void *data, uint64_t size, std::string &error);
  /// Writes `size` bytes at `offset` (already written: a header filled in
  /// last).
  bool writeAt(const void *data, uint64_t size, uint64_t offset, std::string &error);
  /// Bytes appended so far.
  uint64_t size() const { return size_; }
  /// Flushes to disk, makes it readable (0644 less the umask's bits) and
  /// renames it over the destination.
  bool commit(std::string &error);
  const std::string &path() const { return path_; }

private:
  bool fail(const std::string &what, std::string &error);
  std::string path_, tmp_;
  int fd_ = -1;
  uint64_t size_ = 0;
  bool committed_ = false;
};

/// The whole of `data` to `path`, as above.
bool writeFileAtomically(const std::string &path, std::string_view data, std::string &error);

} // namespace kiln

#endif // KILN_LIB_SUPPORT_OUTPUTFILE_H

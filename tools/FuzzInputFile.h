//===- FuzzInputFile.h - a fuzz input as a file -------------------*- C++ -*-===//
//
// For libFuzzer targets whose code under test reads a path (as kiln does):
// the input is written to one temporary file per process, reused.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TOOLS_FUZZINPUTFILE_H
#define KILN_TOOLS_FUZZINPUTFILE_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace kiln {

/// Writes `data` to this process's file for `tag` and returns its path, or
/// "" when it cannot be written.
inline std::string writeFuzzInput(const char *tag, const uint8_t *data, size_t size) {
  static const std::string path = [tag] {
    std::string name = std::string("/tmp/kiln-fuzz-") + tag + "-XXXXXX";
    close(mkstemp(name.data()));
    return name;
  }();
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return "";
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

} // namespace kiln

#endif // KILN_TOOLS_FUZZINPUTFILE_H

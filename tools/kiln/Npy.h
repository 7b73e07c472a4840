//===- Npy.h - NumPy .npy files (format versions 1-3) -------------*- C++ -*-===//

#ifndef KILN_TOOLS_KILN_NPY_H
#define KILN_TOOLS_KILN_NPY_H

#include "kiln/runtime.h"

#include <string>
#include <vector>

namespace kiln::cli {

struct NpyArray {
  kiln_dtype dtype = KILN_F32;
  std::vector<int64_t> shape;
  /// The elements; for KILN_STRING an array of `const char *` (what the
  /// runtime binds), pointing into `strings` once pointAtStrings ran.
  std::vector<char> data;
  std::vector<std::string> strings;
  /// KILN_STRING: points `data` at `strings` (when the array is bound, after
  /// it last moved).
  void pointAtStrings();
};

/// Reads a C-order, little-endian .npy file; false with `error` set.
/// String arrays ('<U' UTF-32 or '|S' bytes) are read as UTF-8 strings.
bool readNpy(const std::string &path, NpyArray &out, std::string &error);
/// Writes `array` as a version 1.0 .npy file (bfloat16 widened to float32,
/// which NumPy has no type for; strings as '<U' arrays).
bool writeNpy(const std::string &path, const NpyArray &array, std::string &error);

} // namespace kiln::cli

#endif // KILN_TOOLS_KILN_NPY_H

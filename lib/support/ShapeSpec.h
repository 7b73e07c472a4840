//===- ShapeSpec.h - NAME=2x32x128, as --input-shape writes a shape -------===//
//
// One parser for the `--input-shape` syntax, shared by the ONNX loader (which
// fixes the graph's input types before ONNX shape inference) and the
// kiln-specialize-shapes pass (MLIR input). "scalar" is rank 0.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_SUPPORT_SHAPESPEC_H
#define KILN_SUPPORT_SHAPESPEC_H

#include "lib/support/CheckedSize.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace kiln {

/// Splits "NAME=D0xD1x..." into `name` and `dims`; false with `error` (a
/// whole sentence naming the entry) when it is malformed or too large.
inline bool parseShapeSpec(llvm::StringRef entry, std::string &name,
                           llvm::SmallVectorImpl<int64_t> &dims, std::string &error) {
  auto [n, text] = entry.rsplit('=');
  if (n.empty() || text.empty()) {
    error = "input shape '" + entry.str() + "' is not NAME=D0xD1x...";
    return false;
  }
  llvm::SmallVector<llvm::StringRef> parts;
  if (text != "scalar")
    text.split(parts, 'x');
  dims.clear();
  for (llvm::StringRef p : parts) {
    int64_t d;
    if (p.getAsInteger(10, d) || d < 0) {
      error = "input shape '" + entry.str() + "': '" + p.str() + "' is not a dimension size";
      return false;
    }
    dims.push_back(d);
  }
  if (!checkedElementCount(dims)) {
    error = "input shape '" + entry.str() + "' is larger than kiln accepts (2^48 bytes)";
    return false;
  }
  name = n.str();
  return true;
}

} // namespace kiln

#endif // KILN_SUPPORT_SHAPESPEC_H

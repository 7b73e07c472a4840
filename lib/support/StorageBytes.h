//===- StorageBytes.h - bytes an element takes in memory and files --------===//
//
// One answer, used by every stage that sizes a buffer, a weight's byte
// range or an artifact section: an element narrower than a byte still
// takes a whole byte (i1 is ONNX's BOOL: one byte per element in model
// files, and LLVM's memref lowering addresses i1 as bytes). Bit-packed
// sub-byte types (ONNX INT4/UINT4/FLOAT4) are not storable yet: 0, which
// callers report.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_SUPPORT_STORAGEBYTES_H
#define KILN_SUPPORT_STORAGEBYTES_H

#include "lib/support/CheckedSize.h"

#include "mlir/IR/BuiltinTypes.h"

#include <cstdint>
#include <optional>

namespace kiln {

/// Bytes one element of `elt` occupies; 0 when kiln cannot store it.
inline uint64_t elementStorageBytes(mlir::Type elt) {
  if (elt.isInteger(1))
    return 1;
  if (!elt.isIntOrIndexOrFloat() || elt.isIndex())
    return elt.isIndex() ? 8 : 0;
  unsigned bits = elt.getIntOrFloatBitWidth();
  return bits % 8 ? 0 : bits / 8;
}

/// Bytes a static-shaped tensor or memref of `t` occupies.
inline uint64_t storageBytes(mlir::ShapedType t) {
  return (uint64_t)t.getNumElements() * elementStorageBytes(t.getElementType());
}

/// Bytes of a static-shaped type, or nullopt when too large (see above).
inline std::optional<uint64_t> checkedStorageBytes(mlir::ShapedType t) {
  if (!t.hasStaticShape())
    return std::nullopt;
  return checkedTensorBytes(t.getShape(),
                            std::max<uint64_t>(1, elementStorageBytes(t.getElementType())));
}

} // namespace kiln

#endif // KILN_SUPPORT_STORAGEBYTES_H

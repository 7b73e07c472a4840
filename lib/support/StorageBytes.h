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

/// The largest tensor kiln accepts anywhere: 2^48 bytes (256 TiB), so that
/// sums and products of sizes cannot overflow 64 bits downstream.
constexpr uint64_t kMaxTensorBytes = uint64_t(1) << 48;

/// The highest rank kiln accepts (ONNX sets none; a rank of 200,000 made
/// the compiler recurse until it crashed).
constexpr size_t kMaxRank = 64;

/// Elements of a shape, or nullopt when a dim is negative (dynamic) or the
/// product overflows or passes kMaxTensorBytes, or the rank passes
/// kMaxRank.
inline std::optional<uint64_t> checkedElementCount(llvm::ArrayRef<int64_t> dims) {
  if (dims.size() > kMaxRank)
    return std::nullopt;
  uint64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || __builtin_mul_overflow(n, (uint64_t)d, &n) || n > kMaxTensorBytes)
      return std::nullopt;
  }
  return n;
}

/// Bytes of `count` elements of `bytesPer` bytes, or nullopt past
/// kMaxTensorBytes.
inline std::optional<uint64_t> checkedBytes(uint64_t count, uint64_t bytesPer) {
  uint64_t b;
  if (__builtin_mul_overflow(count, bytesPer, &b) || b > kMaxTensorBytes)
    return std::nullopt;
  return b;
}

/// Bytes of a static-shaped type, or nullopt when too large (see above).
inline std::optional<uint64_t> checkedStorageBytes(mlir::ShapedType t) {
  if (!t.hasStaticShape())
    return std::nullopt;
  std::optional<uint64_t> n = checkedElementCount(t.getShape());
  if (!n)
    return std::nullopt;
  return checkedBytes(*n, std::max<uint64_t>(1, elementStorageBytes(t.getElementType())));
}

} // namespace kiln

#endif // KILN_SUPPORT_STORAGEBYTES_H

//===- CheckedSize.h - element counts and byte sizes that cannot overflow -===//
//
// The limits and the overflow-checked arithmetic every stage uses to size a
// tensor from a declared shape: the importer, the artifact loader, `kiln
// run`'s .npy/.pb readers. Header-only and free of LLVM, so the runtime
// can use it; `Dims` is any sized range of integers (llvm::ArrayRef, a
// std::vector, a FlatBuffers vector).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_SUPPORT_CHECKEDSIZE_H
#define KILN_SUPPORT_CHECKEDSIZE_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unistd.h>

namespace kiln {

/// The largest tensor kiln accepts anywhere: 2^48 bytes (256 TiB), so that
/// sums and products of sizes cannot overflow 64 bits downstream.
constexpr uint64_t kMaxTensorBytes = uint64_t(1) << 48;

/// The highest rank kiln accepts (ONNX sets none; a rank of 200,000 made
/// the compiler recurse until it crashed).
constexpr size_t kMaxRank = 64;

/// Elements of a shape, or nullopt when a dim is negative (dynamic) or the
/// product overflows or passes kMaxTensorBytes, or the rank passes
/// kMaxRank.
template <typename Dims> std::optional<uint64_t> checkedElementCount(const Dims &dims) {
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

/// Bytes of a tensor of `dims` with `bytesPer`-byte elements, or nullopt
/// (see checkedElementCount and checkedBytes).
template <typename Dims>
std::optional<uint64_t> checkedTensorBytes(const Dims &dims, uint64_t bytesPer) {
  std::optional<uint64_t> n = checkedElementCount(dims);
  return n ? checkedBytes(*n, bytesPer) : std::nullopt;
}

/// This machine's physical memory in bytes (UINT64_MAX when unknown): a
/// buffer larger than this cannot be used, whatever overcommit allows.
inline uint64_t physicalMemoryBytes() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : UINT64_MAX;
}

} // namespace kiln

#endif // KILN_SUPPORT_CHECKEDSIZE_H

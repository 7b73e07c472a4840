//===- BlockQuantization.h - weight codes and scales written to the artifact -*- C++ -*-===//
//
// kiln.block_quantize on the bytes of a weight, computed while the artifact
// is written (the op's description in KilnOps.td is the format): symmetric
// codes, one f32 scale per group of rows and column.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_COMPILER_BLOCKQUANTIZATION_H
#define KILN_LIB_COMPILER_BLOCKQUANTIZATION_H

#include <cstdint>
#include <vector>

namespace kiln::compiler {

struct BlockQuantization {
  int64_t bits = 8, groupSize = 128;
  /// FP8 e4m3 codes with one scale per groupSize x groupSize block.
  bool float8 = false;
  /// Which result this weight argument is: the scales, or the codes.
  bool scales = false;
};

/// Quantizes the row-major [k, n] f32 weight `w` and stores the part `q`
/// names (codes [ceil(k * bits / 8), n] bytes, or scales [ceil(k / group),
/// n] f32; with float8 the scales are [ceil(k / group), ceil(n / group)])
/// in `out`.
void quantizeBlocks(const float *w, int64_t k, int64_t n, const BlockQuantization &q,
                    std::vector<char> &out);

/// The FP8 e4m3fn code nearest `x` (ties to even), |x| saturated at 448.
uint8_t toE4M3(float x);

} // namespace kiln::compiler

#endif // KILN_LIB_COMPILER_BLOCKQUANTIZATION_H

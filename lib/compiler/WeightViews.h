//===- WeightViews.h - transposes and slices of weights done at compile time -*- C++ -*-===//
//
// A chain of Transpose / Slice / Reshape over a kiln.weight (onnxruntime's
// [E, out, in] expert weights turned to [E, in, out], a fused SwiGLU
// matrix split into its gate and up rows, MLA's per-head W_UKᵀ) is a strided view
// of the weight's elements. Instead of running it on every call, the
// compiler binds the view's result as its own artifact weight and gathers
// the bytes once while writing the artifact. A cast of an f16/bf16 weight to
// f32 is folded the same way (the view widens each element).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_COMPILER_WEIGHTVIEWS_H
#define KILN_LIB_COMPILER_WEIGHTVIEWS_H

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::compiler {

/// Element (i0, .., in) of the view is source element
/// `offset + sum(i_k * strides[k])`; elements are `elementBytes` wide.
struct WeightView {
  /// Source elements widened to f32 while gathering (a cast of a half
  /// precision weight folded in).
  enum class Widen { None, F16, BF16 };
  std::vector<int64_t> shape, strides;
  int64_t offset = 0;
  uint64_t elementBytes = 0; // of the source
  Widen widen = Widen::None;
  /// Bytes of the result.
  uint64_t size() const;
};

/// Gathers `view` of the `source` bytes into `out` (resized to fit).
void gatherView(const WeightView &view, const char *source, std::vector<char> &out);

} // namespace kiln::compiler

#endif // KILN_LIB_COMPILER_WEIGHTVIEWS_H

//===- BlockQuantization.cpp - symmetric per-group weight codes -----------===//

#include "lib/compiler/BlockQuantization.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace kiln::compiler {

void quantizeBlocks(const float *w, int64_t k, int64_t n, const BlockQuantization &q,
                    std::vector<char> &out) {
  const int64_t groups = (k + q.groupSize - 1) / q.groupSize;
  const float qmax = q.bits == 4 ? 7.0f : 127.0f;
  const int mid = 1 << (q.bits - 1);
  if (q.scales)
    out.assign((size_t)(groups * n) * sizeof(float), 0);
  else
    out.assign((size_t)((k * q.bits + 7) / 8 * n), 0);
  std::vector<float> scale((size_t)n);
  for (int64_t g = 0; g < groups; ++g) {
    int64_t first = g * q.groupSize, last = std::min(k, first + q.groupSize);
    // Rows are contiguous: the group's absolute maximum per column, row by row.
    std::fill(scale.begin(), scale.end(), 0.0f);
    for (int64_t r = first; r < last; ++r)
      for (int64_t c = 0; c < n; ++c)
        scale[c] = std::max(scale[c], std::fabs(w[r * n + c]));
    for (float &s : scale)
      s = s / qmax;
    if (q.scales) {
      std::memcpy(out.data() + (size_t)(g * n) * sizeof(float), scale.data(),
                  (size_t)n * sizeof(float));
      continue;
    }
    auto *bytes = reinterpret_cast<uint8_t *>(out.data());
    for (int64_t r = first; r < last; ++r)
      for (int64_t c = 0; c < n; ++c) {
        // Round half to even (the default rounding mode), as NumPy's rint.
        float x = scale[c] == 0.0f ? 0.0f : std::nearbyint(w[r * n + c] / scale[c]);
        int code = (int)std::clamp(x, -qmax, qmax) + mid;
        if (q.bits == 8)
          bytes[r * n + c] = (uint8_t)code;
        else
          bytes[(r / 2) * n + c] |= (uint8_t)(code << (4 * (r % 2)));
      }
  }
}

} // namespace kiln::compiler

//===- BlockQuantization.cpp - symmetric per-group weight codes -----------===//

#include "lib/compiler/BlockQuantization.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace kiln::compiler {

uint8_t toE4M3(float x) {
  if (std::isnan(x)) // a weight holding NaN: zero, not undefined behaviour
    return 0;
  uint8_t sign = std::signbit(x) ? 0x80 : 0;
  float a = std::min(std::fabs(x), 448.0f);
  if (a < 0x1p-6f) // subnormal (q = 8 is the smallest normal, 0x08)
    return sign | (uint8_t)std::nearbyint(a * 512.0f);
  int e;
  float m = std::frexp(a, &e) * 2.0f; // a = m * 2^(e - 1), m in [1, 2)
  int q = (int)std::nearbyint((m - 1.0f) * 8.0f);
  int exponent = e - 1 + 7;
  if (q == 8)
    q = 0, ++exponent;
  return sign | (uint8_t)std::min(exponent << 3 | q, 0x7E);
}

/// FP8 codes of [k, n] with one scale per g x g block.
static void quantizeFloat8(const float *w, int64_t k, int64_t n, int64_t g, bool scales,
                           std::vector<char> &out) {
  int64_t rowBlocks = (k + g - 1) / g, colBlocks = (n + g - 1) / g;
  std::vector<float> scale((size_t)(rowBlocks * colBlocks), 0.0f);
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      float &s = scale[(size_t)((r / g) * colBlocks + c / g)];
      s = std::max(s, std::fabs(w[r * n + c]));
    }
  for (float &s : scale)
    s = s / 448.0f;
  if (scales) {
    out.resize(scale.size() * sizeof(float));
    std::memcpy(out.data(), scale.data(), out.size());
    return;
  }
  out.resize((size_t)(k * n));
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      float s = scale[(size_t)((r / g) * colBlocks + c / g)];
      out[(size_t)(r * n + c)] = (char)(s == 0.0f ? 0 : toE4M3(w[r * n + c] / s));
    }
}

void quantizeBlocks(const float *w, int64_t k, int64_t n, const BlockQuantization &q,
                    std::vector<char> &out) {
  if (q.float8)
    return quantizeFloat8(w, k, n, q.groupSize, q.scales, out);
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
        float x = scale[c] == 0.0f || std::isnan(w[r * n + c])
                      ? 0.0f
                      : std::nearbyint(w[r * n + c] / scale[c]);
        int code = (int)std::clamp(x, -qmax, qmax) + mid;
        if (q.bits == 8)
          bytes[r * n + c] = (uint8_t)code;
        else
          bytes[(r / 2) * n + c] |= (uint8_t)(code << (4 * (r % 2)));
      }
  }
}

} // namespace kiln::compiler

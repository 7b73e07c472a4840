//===- WeightViews.cpp - gather a strided view of weight bytes ------------===//

#include "lib/compiler/WeightViews.h"

#include <cstring>

namespace kiln::compiler {

uint64_t WeightView::size() const {
  uint64_t n = elementBytes;
  for (int64_t d : shape)
    n *= (uint64_t)d;
  return n;
}

void gatherView(const WeightView &view, const char *source, std::vector<char> &out) {
  out.resize(view.size());
  if (out.empty())
    return;
  size_t rank = view.shape.size();
  uint64_t eb = view.elementBytes;
  // Rows along the last axis: one memcpy when they are contiguous.
  int64_t inner = rank ? view.shape.back() : 1;
  bool contiguousRows = !rank || view.strides.back() == 1;
  std::vector<int64_t> index(rank ? rank - 1 : 0, 0);
  char *dst = out.data();
  for (uint64_t done = 0; done < out.size(); done += (uint64_t)inner * eb) {
    int64_t base = view.offset;
    for (size_t k = 0; k + 1 < rank; ++k)
      base += index[k] * view.strides[k];
    if (contiguousRows) {
      std::memcpy(dst, source + base * eb, (size_t)(inner * eb));
    } else {
      for (int64_t i = 0; i < inner; ++i)
        std::memcpy(dst + i * eb, source + (base + i * view.strides.back()) * eb, eb);
    }
    dst += inner * eb;
    for (size_t k = index.size(); k-- > 0;) { // next row, odometer order
      if (++index[k] < view.shape[k])
        break;
      index[k] = 0;
    }
  }
}

} // namespace kiln::compiler

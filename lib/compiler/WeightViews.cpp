//===- WeightViews.cpp - gather a strided view of weight bytes ------------===//

#include "lib/compiler/WeightViews.h"

#include "llvm/ADT/APFloat.h"

#include <cstring>

namespace kiln::compiler {

/// Copies one element, widening it to f32 when the view says so.
static void copyElement(const WeightView &view, char *dst, const char *src) {
  if (view.widen == WeightView::Widen::None) {
    std::memcpy(dst, src, view.elementBytes);
    return;
  }
  uint16_t h;
  std::memcpy(&h, src, 2);
  llvm::APFloat f(view.widen == WeightView::Widen::F16 ? llvm::APFloat::IEEEhalf()
                                                       : llvm::APFloat::BFloat(),
                  llvm::APInt(16, h));
  bool lost; // exact: f32 holds every half and bfloat16 value
  f.convert(llvm::APFloat::IEEEsingle(), llvm::APFloat::rmNearestTiesToEven, &lost);
  float x = f.convertToFloat();
  std::memcpy(dst, &x, 4);
}

uint64_t WeightView::size() const {
  uint64_t n = widen == Widen::None ? elementBytes : 4;
  for (int64_t d : shape)
    n *= (uint64_t)d;
  return n;
}

void gatherView(const WeightView &view, const char *source, std::vector<char> &out) {
  out.resize(view.size());
  if (out.empty())
    return;
  size_t rank = view.shape.size();
  uint64_t eb = view.elementBytes, ob = view.widen == WeightView::Widen::None ? eb : 4;
  // Rows along the last axis: one memcpy when they are contiguous.
  int64_t inner = rank ? view.shape.back() : 1;
  bool contiguousRows = (!rank || view.strides.back() == 1) && eb == ob;
  std::vector<int64_t> index(rank ? rank - 1 : 0, 0);
  char *dst = out.data();
  for (uint64_t done = 0; done < out.size(); done += (uint64_t)inner * ob) {
    int64_t base = view.offset;
    for (size_t k = 0; k + 1 < rank; ++k)
      base += index[k] * view.strides[k];
    if (contiguousRows) {
      std::memcpy(dst, source + base * eb, (size_t)(inner * eb));
    } else {
      int64_t stride = rank ? view.strides.back() : 0;
      for (int64_t i = 0; i < inner; ++i)
        copyElement(view, dst + i * ob, source + (base + i * stride) * eb);
    }
    dst += inner * ob;
    for (size_t k = index.size(); k-- > 0;) { // next row, odometer order
      if (++index[k] < view.shape[k])
        break;
      index[k] = 0;
    }
  }
}

} // namespace kiln::compiler

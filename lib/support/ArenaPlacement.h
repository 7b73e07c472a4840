//===- ArenaPlacement.h - intermediates placed in one arena by liveness -*- C++ -*-===//
//
// One algorithm for the compiler (static shapes: offsets fixed when the
// artifact is written) and the runtime (dynamic shapes: sizes known when a
// run's inputs are), so both plan the same arena. Header-only: the runtime
// links no compiler code.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_SUPPORT_ARENAPLACEMENT_H
#define KILN_LIB_SUPPORT_ARENAPLACEMENT_H

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace kiln {

/// An intermediate buffer: its size and the dispatches [first, last] using
/// it (last < 0: unused). `offset` is the result.
struct ArenaSlot {
  uint64_t bytes = 0, offset = 0;
  int64_t first = INT64_MAX, last = -1;
};

/// First fit by decreasing size among slots whose live ranges overlap;
/// ties keep the slots' order. Returns the arena's size (UINT64_MAX when
/// the sums overflow).
inline uint64_t placeArenaSlots(std::vector<ArenaSlot> &slots) {
  std::vector<size_t> order;
  for (size_t i = 0; i < slots.size(); ++i)
    if (slots[i].last >= 0)
      order.push_back(i);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return slots[a].bytes != slots[b].bytes ? slots[a].bytes > slots[b].bytes : a < b;
  });
  std::vector<size_t> placed;
  std::vector<std::pair<uint64_t, uint64_t>> busy;
  uint64_t total = 0;
  for (size_t i : order) {
    ArenaSlot &s = slots[i];
    busy.clear();
    for (size_t j : placed) {
      const ArenaSlot &p = slots[j];
      if (p.first <= s.last && s.first <= p.last)
        busy.push_back({p.offset, p.offset + p.bytes});
    }
    std::sort(busy.begin(), busy.end());
    uint64_t offset = 0, end = 0;
    for (auto [b, e] : busy) {
      if (__builtin_add_overflow(offset, s.bytes, &end))
        return UINT64_MAX;
      if (end <= b)
        break;
      offset = std::max(offset, e);
    }
    if (__builtin_add_overflow(offset, s.bytes, &end))
      return UINT64_MAX;
    s.offset = offset;
    total = std::max(total, end);
    placed.push_back(i);
  }
  return total;
}

} // namespace kiln

#endif // KILN_LIB_SUPPORT_ARENAPLACEMENT_H

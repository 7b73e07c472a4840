//===- WeightViewsTest.cpp - strided views of weight bytes ----------------===//

#include "lib/compiler/WeightViews.h"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

using kiln::compiler::gatherView;
using kiln::compiler::WeightView;

namespace {

std::vector<float> gatherFloats(const WeightView &v, const std::vector<float> &src) {
  std::vector<char> out;
  gatherView(v, reinterpret_cast<const char *>(src.data()), out);
  std::vector<float> f(out.size() / sizeof(float));
  std::memcpy(f.data(), out.data(), out.size());
  return f;
}

TEST(WeightViews, TransposeOfAMatrix) {
  std::vector<float> src(6); // [[0 1 2] [3 4 5]]
  std::iota(src.begin(), src.end(), 0.0f);
  WeightView v{{3, 2}, {1, 3}, 0, sizeof(float)};
  EXPECT_EQ(v.size(), 6 * sizeof(float));
  EXPECT_EQ(gatherFloats(v, src), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(WeightViews, InterleavedRowsOfStackedExperts) {
  // [2 experts, 4 rows, 3 cols]; the odd rows of each expert, transposed
  // to [2, 3, 2] (onnxruntime's interleaved SwiGLU up rows as [E, in, out]).
  std::vector<float> src(24);
  std::iota(src.begin(), src.end(), 0.0f);
  WeightView v{{2, 3, 2}, {12, 1, 6}, 3, sizeof(float)};
  EXPECT_EQ(gatherFloats(v, src),
            (std::vector<float>{3, 9, 4, 10, 5, 11, 15, 21, 16, 22, 17, 23}));
}

TEST(WeightViews, ContiguousRowsAndScalars) {
  std::vector<float> src(8);
  std::iota(src.begin(), src.end(), 0.0f);
  EXPECT_EQ(gatherFloats(WeightView{{2, 2}, {4, 1}, 2, sizeof(float)}, src),
            (std::vector<float>{2, 3, 6, 7}));
  EXPECT_EQ(gatherFloats(WeightView{{}, {}, 5, sizeof(float)}, src), (std::vector<float>{5}));
  EXPECT_TRUE(gatherFloats(WeightView{{0, 3}, {3, 1}, 0, sizeof(float)}, src).empty());
}

} // namespace

namespace {

TEST(WeightViews, WidensHalfPrecisionWhileGathering) {
  // f16 1.0, -2.5, 65504 (max), 2^-24 (smallest subnormal), transposed 2x2.
  std::vector<uint16_t> f16 = {0x3c00, 0xc100, 0x7bff, 0x0001};
  WeightView v{{2, 2}, {1, 2}, 0, 2, WeightView::Widen::F16};
  EXPECT_EQ(v.size(), 4 * sizeof(float));
  std::vector<char> out;
  gatherView(v, reinterpret_cast<const char *>(f16.data()), out);
  std::vector<float> f(4);
  std::memcpy(f.data(), out.data(), out.size());
  EXPECT_EQ(f, (std::vector<float>{1.0f, 65504.0f, -2.5f, 5.9604645e-08f}));
  // bf16 is the top half of an f32.
  std::vector<uint16_t> bf16 = {0x3f80, 0xc020};
  gatherView(WeightView{{2}, {1}, 0, 2, WeightView::Widen::BF16},
             reinterpret_cast<const char *>(bf16.data()), out);
  std::memcpy(f.data(), out.data(), out.size());
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_EQ(f[1], -2.5f);
}

} // namespace

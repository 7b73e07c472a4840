//===- TypeInferenceTest.cpp - shape rules of kiln ops --------------------===//

#include "dialects/kiln/IR/TypeInference.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include <gtest/gtest.h>

using namespace mlir;
using namespace kiln;

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

/// Collects the diagnostics the rules emit so tests can assert on them.
struct ShapeRules : ::testing::Test {
  MLIRContext ctx;
  std::string lastError;
  ScopedDiagnosticHandler handler{&ctx, [this](Diagnostic &d) {
                                    lastError = d.str();
                                    return success();
                                  }};
  ShapeDiag diag{UnknownLoc::get(&ctx), "kiln.test"};
  RankedTensorType f32(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, Float32Type::get(&ctx));
  }
};

TEST_F(ShapeRules, BroadcastStretchesOnesAndAlignsRight) {
  SmallVector<int64_t> out;
  ASSERT_TRUE(succeeded(broadcastShapes(diag, {{2, 1, 4}, {3, 1}}, out)));
  EXPECT_EQ(out, (SmallVector<int64_t>{2, 3, 4}));
}

TEST_F(ShapeRules, BroadcastDynamicTakesStaticPartner) {
  SmallVector<int64_t> out;
  ASSERT_TRUE(succeeded(broadcastShapes(diag, {{kDyn, 4}, {8, 1}}, out)));
  EXPECT_EQ(out, (SmallVector<int64_t>{8, 4}));
  ASSERT_TRUE(succeeded(broadcastShapes(diag, {{kDyn}, {1}}, out)));
  EXPECT_EQ(out, (SmallVector<int64_t>{kDyn}));
}

TEST_F(ShapeRules, BroadcastMismatchNamesTheShapes) {
  SmallVector<int64_t> out;
  EXPECT_TRUE(failed(broadcastShapes(diag, {{2, 3}, {4, 3}}, out)));
  EXPECT_NE(lastError.find("2x3, 4x3"), std::string::npos) << lastError;
  EXPECT_NE(lastError.find("'kiln.test' op"), std::string::npos) << lastError;
}

TEST_F(ShapeRules, MatmulBatchBroadcastAndVectorPromotion) {
  SmallVector<int64_t> out;
  ASSERT_TRUE(succeeded(inferMatmulShape(diag, f32({4, 1, 8, 16}), f32({3, 16, 2}), out)));
  EXPECT_EQ(out, (SmallVector<int64_t>{4, 3, 8, 2}));
  ASSERT_TRUE(succeeded(inferMatmulShape(diag, f32({16}), f32({16, 5}), out)));
  EXPECT_EQ(out, (SmallVector<int64_t>{5}));
  ASSERT_TRUE(succeeded(inferMatmulShape(diag, f32({7, 16}), f32({16}), out)));
  EXPECT_EQ(out, (SmallVector<int64_t>{7}));
  ASSERT_TRUE(succeeded(inferMatmulShape(diag, f32({16}), f32({16}), out)));
  EXPECT_TRUE(out.empty());
}

TEST_F(ShapeRules, MatmulRejectsContractionMismatch) {
  SmallVector<int64_t> out;
  EXPECT_TRUE(failed(inferMatmulShape(diag, f32({2, 8}), f32({4, 3}), out)));
  EXPECT_NE(lastError.find("K=8"), std::string::npos) << lastError;
}

TEST_F(ShapeRules, GemmTransposesAndChecksC) {
  SmallVector<int64_t> out;
  ASSERT_TRUE(succeeded(inferGemmShape(diag, f32({8, 4}), f32({6, 8}), f32({6}),
                                       /*transA=*/true, /*transB=*/true, out)));
  EXPECT_EQ(out, (SmallVector<int64_t>{4, 6}));
  EXPECT_TRUE(failed(inferGemmShape(diag, f32({4, 8}), f32({8, 6}), f32({5}),
                                    false, false, out)));
}

TEST_F(ShapeRules, SliceExtentFollowsOnnxClamping) {
  EXPECT_EQ(sliceExtent(10, 0, 10, 1), 10);
  EXPECT_EQ(sliceExtent(10, 2, 100, 3), 3);           // 2, 5, 8
  EXPECT_EQ(sliceExtent(10, -3, INT64_MAX, 1), 3);    // the last three
  EXPECT_EQ(sliceExtent(10, -1, INT64_MIN, -1), 10);  // reversed
  EXPECT_EQ(sliceExtent(10, 5, 2, 1), 0);             // empty
  EXPECT_EQ(sliceExtent(10, 8, 1, -2), 4);            // 8, 6, 4, 2
  EXPECT_EQ(sliceExtent(kDyn, 0, 4, 1), kDyn);
}

TEST_F(ShapeRules, ReduceAxesAndKeepdims) {
  SmallVector<int64_t> out;
  ASSERT_TRUE(succeeded(inferReduceShape(diag, {2, 3, 4}, {-1, 0}, false, out)));
  EXPECT_EQ(out, (SmallVector<int64_t>{3}));
  ASSERT_TRUE(succeeded(inferReduceShape(diag, {2, 3, 4}, {1}, true, out)));
  EXPECT_EQ(out, (SmallVector<int64_t>{2, 1, 4}));
  EXPECT_TRUE(failed(inferReduceShape(diag, {2, 3}, {1, -1}, false, out)));
  EXPECT_NE(lastError.find("listed twice"), std::string::npos) << lastError;
  EXPECT_TRUE(failed(inferReduceShape(diag, {2, 3}, {2}, false, out)));
  EXPECT_NE(lastError.find("out of range"), std::string::npos) << lastError;
}

TEST_F(ShapeRules, TransposeNeedsAPermutation) {
  SmallVector<int64_t> out;
  ASSERT_TRUE(succeeded(inferTransposeShape(diag, {2, 3, 4}, {2, 0, 1}, out)));
  EXPECT_EQ(out, (SmallVector<int64_t>{4, 2, 3}));
  EXPECT_TRUE(failed(inferTransposeShape(diag, {2, 3}, {0, 0}, out)));
}

TEST_F(ShapeRules, GatherSplicesIndexShape) {
  SmallVector<int64_t> out;
  ASSERT_TRUE(succeeded(inferGatherShape(diag, {5, 6, 7}, {2, 3}, 1, out)));
  EXPECT_EQ(out, (SmallVector<int64_t>{5, 2, 3, 7}));
}

TEST_F(ShapeRules, ConcatSumsAxisAndRefinesOthers) {
  SmallVector<int64_t> out;
  SmallVector<Type> types = {f32({2, kDyn}), f32({3, 4})};
  ASSERT_TRUE(succeeded(inferConcatShape(diag, types, 0, out)));
  EXPECT_EQ(out, (SmallVector<int64_t>{5, 4}));
  SmallVector<Type> bad = {f32({2, 3}), f32({2, 4})};
  EXPECT_TRUE(failed(inferConcatShape(diag, bad, 0, out)));
}

TEST_F(ShapeRules, NormParamBroadcastsToNormalizedDims) {
  EXPECT_TRUE(succeeded(checkNormParam(diag, f32({2, 5, 8}), -1, f32({8}), "scale")));
  EXPECT_TRUE(succeeded(checkNormParam(diag, f32({2, 5, 8}), 1, f32({1, 8}), "scale")));
  EXPECT_TRUE(failed(checkNormParam(diag, f32({2, 5, 8}), -1, f32({5}), "scale")));
  EXPECT_NE(lastError.find("scale of shape 5"), std::string::npos) << lastError;
}

TEST_F(ShapeRules, ShapeToStringMatchesMlirSpelling) {
  EXPECT_EQ(shapeToString({2, kDyn, 8}), "2x?x8");
  EXPECT_EQ(shapeToString({}), "scalar");
}
} // namespace

//===- FoldersTest.cpp - building kiln ops from C++ ------------------------===//
//
// Frontends build kiln ops through the C++ builders; these tests check that
// builders infer result types, that folding happens at creation time through
// OpBuilder::createOrFold, and that the verifier rejects what the builders
// cannot prevent.

#include "dialects/kiln/IR/KilnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include <gtest/gtest.h>

using namespace mlir;
using namespace kiln;

namespace {
struct Builders : ::testing::Test {
  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;
  OpBuilder b{&ctx};
  Location loc = UnknownLoc::get(&ctx);
  Block *body = nullptr;

  Builders() {
    ctx.loadDialect<KilnDialect, func::FuncDialect, arith::ArithDialect>();
    module = ModuleOp::create(loc);
    b.setInsertionPointToEnd(module->getBody());
    auto fn = func::FuncOp::create(b, loc, "f", b.getFunctionType({}, {}));
    body = fn.addEntryBlock();
    b.setInsertionPointToEnd(body);
  }
  RankedTensorType f32(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, b.getF32Type());
  }
  Value weight(ArrayRef<int64_t> shape) {
    return WeightOp::create(b, loc, f32(shape), "w", "weights.bin", 0);
  }
};

TEST_F(Builders, MatmulInfersBroadcastBatch) {
  auto mm = MatmulOp::create(b, loc, weight({3, 4, 8}), weight({8, 5}));
  EXPECT_EQ(mm.getType(), f32({3, 4, 5}));
}

TEST_F(Builders, SplatArithmeticFoldsAtCreation) {
  auto type = f32({4});
  Value two = arith::ConstantOp::create(
      b, loc, type, DenseElementsAttr::get(type, b.getF32FloatAttr(2.0f).getValue()));
  Value three = arith::ConstantOp::create(
      b, loc, type, DenseElementsAttr::get(type, b.getF32FloatAttr(3.0f).getValue()));
  Value sum = b.createOrFold<BinaryOp>(loc, BinaryKind::mul, two, three);
  auto cst = sum.getDefiningOp<arith::ConstantOp>();
  ASSERT_TRUE(cst);
  auto attr = cast<SplatElementsAttr>(cst.getValue());
  EXPECT_EQ(attr.getSplatValue<APFloat>().convertToFloat(), 6.0f);
}

TEST_F(Builders, MultiplyByOneFoldsToOperand) {
  Value x = weight({4});
  auto type = f32({4});
  Value one = arith::ConstantOp::create(
      b, loc, type, DenseElementsAttr::get(type, b.getF32FloatAttr(1.0f).getValue()));
  EXPECT_EQ(b.createOrFold<BinaryOp>(loc, BinaryKind::mul, x, one), x);
}

TEST_F(Builders, DoubleTransposeCancelsThroughIdentityFold) {
  Value x = weight({2, 3});
  Value t = TransposeOp::create(b, loc, x, ArrayRef<int64_t>{1, 0});
  EXPECT_EQ(cast<RankedTensorType>(t.getType()), f32({3, 2}));
  EXPECT_EQ(b.createOrFold<TransposeOp>(loc, x, ArrayRef<int64_t>{0, 1}), x);
}

TEST_F(Builders, VerifierRejectsBadReshape) {
  Value x = weight({2, 3});
  ReshapeOp::create(b, loc, f32({7}), x, Value());
  func::ReturnOp::create(b, loc);
  std::string msg;
  ScopedDiagnosticHandler h(&ctx, [&](Diagnostic &d) {
    msg = d.str();
    return success();
  });
  EXPECT_TRUE(failed(verify(*module)));
  EXPECT_NE(msg.find("cannot reshape 6 elements"), std::string::npos) << msg;
}

TEST_F(Builders, AttentionDefaultScaleIsInverseSqrtHeadDim) {
  Value q = weight({1, 8, 4, 64}), k = weight({1, 2, 4, 64}),
        v = weight({1, 2, 4, 32});
  auto attn = AttentionOp::create(b, loc, f32({1, 8, 4, 32}), TypeRange{}, q, k,
                                  v, Value(), Value(), Value(),
                                  /*causal=*/true, /*scale=*/FloatAttr(),
                                  /*softcap=*/FloatAttr());
  EXPECT_FLOAT_EQ(attn.getEffectiveScale(), 0.125f);
  func::ReturnOp::create(b, loc);
  EXPECT_TRUE(succeeded(verify(*module)));
}
} // namespace

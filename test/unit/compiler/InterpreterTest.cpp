//===- InterpreterTest.cpp - kiln ops on concrete tensors -----------------===//
//
// The reference interpreter the MoE proof uses (passes/Fusion/
// Interpreter.h): data-dependent shapes, the ONNX index rules, TopK's order
// among equals, kiln.moe's semantics, and clear failures.

#include "passes/Fusion/Interpreter.h"

#include "dialects/kiln/IR/KilnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using kiln::fusion::HostTensor;
using kiln::fusion::Interpreter;

namespace {

struct Interp : ::testing::Test {
  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;

  Interp() { ctx.loadDialect<kiln::KilnDialect, func::FuncDialect, arith::ArithDialect>(); }

  /// The returned values of @f in `source`.
  SmallVector<Value> parse(StringRef source) {
    module = parseSourceString<ModuleOp>(source, &ctx);
    EXPECT_TRUE(module);
    auto f = module->lookupSymbol<func::FuncOp>("f");
    return SmallVector<Value>(f.getBody().front().getTerminator()->getOperands());
  }
  Value arg(unsigned i) {
    return module->lookupSymbol<func::FuncOp>("f").getArgument(i);
  }
};

HostTensor tensor(ArrayRef<int64_t> shape, std::vector<double> data) {
  HostTensor t(shape);
  t.data = std::move(data);
  return t;
}

TEST_F(Interp, NonZeroGivesDataDependentShapes) {
  auto results = parse(R"mlir(
    func.func @f(%m: tensor<2x3xi1>, %x: tensor<3x2xf32>) -> (tensor<2x?xi64>, tensor<?x2xf32>) {
      %nz = "kiln.nonzero"(%m) : (tensor<2x3xi1>) -> tensor<2x?xi64>
      %c1 = arith.constant dense<1> : tensor<i64>
      %cols = kiln.gather %nz[%c1] axis = 0 : tensor<2x?xi64>, tensor<i64>
      %rows = kiln.gather %x[%cols] axis = 0 : tensor<3x2xf32>, tensor<?xi64>
      return %nz, %rows : tensor<2x?xi64>, tensor<?x2xf32>
    })mlir");
  Interpreter in;
  in.bind(arg(0), tensor({2, 3}, {0, 1, 0, 1, 0, 1}));
  in.bind(arg(1), tensor({3, 2}, {10, 11, 20, 21, 30, 31}));
  const HostTensor *nz = in.evaluate(results[0]);
  ASSERT_TRUE(nz) << in.error();
  EXPECT_EQ(nz->shape, (SmallVector<int64_t, 4>{2, 3}));
  EXPECT_EQ(nz->data, (std::vector<double>{0, 1, 1, 1, 0, 2}));
  const HostTensor *rows = in.evaluate(results[1]);
  ASSERT_TRUE(rows) << in.error();
  EXPECT_EQ(rows->data, (std::vector<double>{20, 21, 10, 11, 30, 31}));
}

TEST_F(Interp, TopKTakesTheLowerIndexAmongEquals) {
  auto results = parse(R"mlir(
    func.func @f(%x: tensor<1x4xf32>) -> (tensor<1x2xf32>, tensor<1x2xi64>) {
      %v, %i = kiln.topk %x k = 2 axis = -1 : tensor<1x4xf32>
      return %v, %i : tensor<1x2xf32>, tensor<1x2xi64>
    })mlir");
  Interpreter in;
  in.bind(arg(0), tensor({1, 4}, {1, 3, 2, 3}));
  const HostTensor *idx = in.evaluate(results[1]);
  ASSERT_TRUE(idx) << in.error();
  EXPECT_EQ(idx->data, (std::vector<double>{1, 3}));
}

TEST_F(Interp, ScatterAndGatherNd) {
  auto results = parse(R"mlir(
    func.func @f(%u: tensor<2x2xf32>) -> (tensor<3x2xf32>, tensor<2xf32>) {
      %z = arith.constant dense<0.0> : tensor<3x2xf32>
      %i = arith.constant dense<[[2], [0]]> : tensor<2x1xi64>
      %s = kiln.scatter_nd %u into %z[%i] : tensor<3x2xf32>, tensor<2x1xi64>, tensor<2x2xf32>
      %j = arith.constant dense<[[0, 1], [2, 0]]> : tensor<2x2xi64>
      %g = kiln.gather_nd %s[%j] : tensor<3x2xf32>, tensor<2x2xi64>
      return %s, %g : tensor<3x2xf32>, tensor<2xf32>
    })mlir");
  Interpreter in;
  in.bind(arg(0), tensor({2, 2}, {1, 2, 3, 4}));
  const HostTensor *s = in.evaluate(results[0]);
  ASSERT_TRUE(s) << in.error();
  EXPECT_EQ(s->data, (std::vector<double>{3, 4, 0, 0, 1, 2}));
  const HostTensor *g = in.evaluate(results[1]);
  ASSERT_TRUE(g) << in.error();
  EXPECT_EQ(g->data, (std::vector<double>{4, 1}));
}

TEST_F(Interp, ReshapeInfersItsDynamicDim) {
  auto results = parse(R"mlir(
    func.func @f(%x: tensor<?x1xf32>) -> tensor<?xf32> {
      %r = kiln.reshape %x : tensor<?x1xf32> -> tensor<?xf32>
      return %r : tensor<?xf32>
    })mlir");
  Interpreter in;
  in.bind(arg(0), tensor({3, 1}, {1, 2, 3}));
  const HostTensor *r = in.evaluate(results[0]);
  ASSERT_TRUE(r) << in.error();
  EXPECT_EQ(r->shape, (SmallVector<int64_t, 4>{3}));
}

TEST_F(Interp, FailuresNameTheOp) {
  auto results = parse(R"mlir(
    func.func @f(%x: tensor<2x2xf32>, %i: tensor<1xi64>, %y: tensor<2xf32>) -> (tensor<1x2xf32>, tensor<2xf32>) {
      %g = kiln.gather %x[%i] axis = 0 : tensor<2x2xf32>, tensor<1xi64>
      %e = kiln.unary exp %y : tensor<2xf32>
      return %g, %e : tensor<1x2xf32>, tensor<2xf32>
    })mlir");
  Interpreter in;
  in.bind(arg(0), tensor({2, 2}, {1, 2, 3, 4}));
  in.bind(arg(1), tensor({1}, {5}));
  EXPECT_FALSE(in.evaluate(results[0]));
  EXPECT_NE(in.error().find("'kiln.gather': an index is out of range"), std::string::npos)
      << in.error();
  // %y was never bound: a model input the subgraph would need.
  EXPECT_FALSE(in.evaluate(results[1]));
  EXPECT_NE(in.error().find("not known"), std::string::npos) << in.error();
}

TEST_F(Interp, ResolvedDimsOfAnotherInput) {
  // A reshape target read from another input's shape (torch.export's
  // [batch, seq, H] from input_ids): the dims the resolver names are used,
  // one it does not name may be moved along but not used.
  auto results = parse(R"mlir(
    func.func @f(%x: tensor<?x4xf32>, %ids: tensor<?x?xi64>) -> (tensor<?x?x4xf32>, tensor<?x4xf32>) {
      %s = kiln.shape %ids : tensor<?x?xi64>
      %w = arith.constant dense<4> : tensor<1xi64>
      %t = kiln.concat %s, %w axis = 0 : tensor<2xi64>, tensor<1xi64>
      %r = kiln.reshape %x shape %t : tensor<3xi64> : tensor<?x4xf32> -> tensor<?x?x4xf32>
      %first = kiln.slice %s starts = [0] ends = [1] steps = [1] : tensor<2xi64>
      %one = arith.constant dense<-1> : tensor<1xi64>
      %t2 = kiln.concat %first, %one axis = 0 : tensor<1xi64>, tensor<1xi64>
      %r2 = kiln.reshape %x shape %t2 : tensor<2xi64> : tensor<?x4xf32> -> tensor<?x4xf32>
      return %r, %r2 : tensor<?x?x4xf32>, tensor<?x4xf32>
    })mlir");
  Value ids = arg(1);
  Interpreter in;
  in.setDimResolver([&](Value v, int64_t d) -> std::optional<int64_t> {
    if (v == ids && d == 1)
      return 3;
    return std::nullopt;
  });
  in.bind(arg(0), HostTensor({6, 4}, 1.0));
  // Dim 0 of the ids is not named: the reshape reading it fails cleanly.
  EXPECT_FALSE(in.evaluate(results[0]));
  EXPECT_NE(in.error().find("do not decide"), std::string::npos) << in.error();
  Interpreter both;
  both.setDimResolver([&](Value v, int64_t d) -> std::optional<int64_t> {
    return v == ids ? std::optional<int64_t>(d == 0 ? 2 : 3) : std::nullopt;
  });
  both.bind(arg(0), HostTensor({6, 4}, 1.0));
  const HostTensor *r = both.evaluate(results[0]);
  ASSERT_TRUE(r) << both.error();
  EXPECT_EQ(r->shape, (SmallVector<int64_t, 4>{2, 3, 4}));
}

TEST_F(Interp, ElementIndicesWiderThanTheDataFail) {
  auto results = parse(R"mlir(
    func.func @f(%x: tensor<1x4xf32>, %i: tensor<3x2xi64>, %u: tensor<3x2xf32>) -> (tensor<3x2xf32>, tensor<1x4xf32>) {
      %g = kiln.gather_elements %x[%i] axis = 1 : tensor<1x4xf32>, tensor<3x2xi64>
      %s = kiln.scatter_elements %u into %x[%i] axis = 1 : tensor<1x4xf32>, tensor<3x2xi64>, tensor<3x2xf32>
      return %g, %s : tensor<3x2xf32>, tensor<1x4xf32>
    })mlir");
  Interpreter in;
  in.bind(arg(0), HostTensor({1, 4}, 1.0));
  in.bind(arg(1), HostTensor({3, 2}, 0.0));
  in.bind(arg(2), HostTensor({3, 2}, 2.0));
  EXPECT_FALSE(in.evaluate(results[0]));
  EXPECT_NE(in.error().find("out of range"), std::string::npos) << in.error();
  EXPECT_FALSE(in.evaluate(results[1]));
}

TEST_F(Interp, BudgetStopsLargeEvaluations) {
  auto results = parse(R"mlir(
    func.func @f(%x: tensor<64x64xf32>) -> tensor<64x64xf32> {
      %p = kiln.matmul %x, %x : tensor<64x64xf32>, tensor<64x64xf32>
      return %p : tensor<64x64xf32>
    })mlir");
  Interpreter in(/*budget=*/1000);
  in.bind(arg(0), HostTensor({64, 64}, 1.0));
  EXPECT_FALSE(in.evaluate(results[0]));
  EXPECT_NE(in.error().find("too large"), std::string::npos) << in.error();
}

TEST(MoeReference, OneTokenTopOneOfTwo) {
  // Router picks expert 1 (logit 1 vs 0); identity-like experts of width
  // 1: gate = up = 1, down = 2 -> silu(x) * x * 2 * weight (normalized: 1).
  HostTensor router = tensor({1, 2}, {0, 1});
  HostTensor gate = tensor({2, 1, 1}, {0, 1}), up = tensor({2, 1, 1}, {0, 1}),
             down = tensor({2, 1, 1}, {0, 2});
  kiln::fusion::MoeReference m;
  m.topK = 1;
  m.normalize = true;
  m.router = &router;
  m.gate = &gate;
  m.up = &up;
  m.down = &down;
  HostTensor out = kiln::fusion::evaluateMoe(m, tensor({1, 1}, {1.0}));
  double silu1 = 1.0 / (1.0 + std::exp(-1.0));
  EXPECT_NEAR(out.data[0], silu1 * 1.0 * 2.0, 1e-12);
}

} // namespace

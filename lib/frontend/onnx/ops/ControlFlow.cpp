//===- ControlFlow.cpp - ONNX If and Loop with compile-time control --------===//
//
// Exporters emit If on shape checks and Loop over fixed counts; once their
// condition or trip count folds to a constant, the taken branch is imported
// inline and a loop is unrolled (up to kMaxUnroll iterations). Control that
// depends on data needs region-carrying kiln ops and is reported as such.
//
//===----------------------------------------------------------------------===//

#include "lib/frontend/onnx/NodeImporter.h"

using namespace mlir;

namespace kiln::onnx_frontend {
namespace {
constexpr int64_t kMaxUnroll = 256;

LogicalResult convertIf(NodeImporter &n) {
  auto cond = n.constInts(n.input(0));
  if (!cond || cond->size() != 1)
    return n.unsupported("If with a condition computed at run time");
  FailureOr<SmallVector<Value>> outs =
      n.importSubgraph((*cond)[0] ? "then_branch" : "else_branch", {});
  if (failed(outs))
    return failure();
  if (outs->size() != n.numOutputs())
    return n.error("the branch returns " + std::to_string(outs->size()) +
                   " values for " + std::to_string(n.numOutputs()) + " outputs");
  for (auto [i, v] : llvm::enumerate(*outs))
    n.setOutput(i, v);
  return success();
}

LogicalResult convertLoop(NodeImporter &n) {
  std::optional<SmallVector<int64_t>> trips =
      n.input(0) ? n.constInts(n.input(0)) : std::nullopt;
  std::optional<SmallVector<int64_t>> cond =
      n.input(1) ? n.constInts(n.input(1)) : SmallVector<int64_t>{1};
  if (!trips || !cond)
    return n.unsupported("Loop with a trip count or condition computed at run "
                         "time");
  if (trips->empty() || cond->empty())
    return n.error("the trip count and condition must each hold one value");
  int64_t count = (*cond)[0] ? (*trips)[0] : 0;
  if (count > kMaxUnroll)
    return n.unsupported("unrolling a Loop of " + std::to_string(count) +
                         " iterations (at most " + std::to_string(kMaxUnroll) +
                         ")");
  SmallVector<Value> carried;
  for (size_t i = 2; i < n.numInputs(); ++i) {
    FailureOr<Value> v = n.required(i);
    if (failed(v))
      return failure();
    carried.push_back(*v);
  }
  if (n.numOutputs() < carried.size())
    return n.error("has fewer outputs than loop-carried values");
  size_t numScans = n.numOutputs() - carried.size();
  SmallVector<SmallVector<Value>> scans(numScans);
  Type i64 = n.b.getI64Type(), i1 = n.b.getI1Type();
  for (int64_t it = 0; it < count; ++it) {
    SmallVector<Value> inputs = {n.splat(i64, (double)it), n.splat(i1, 1)};
    inputs.append(carried);
    FailureOr<SmallVector<Value>> outs = n.importSubgraph("body", inputs);
    if (failed(outs))
      return failure();
    if (outs->size() != 1 + carried.size() + numScans)
      return n.error("the body returns " + std::to_string(outs->size()) +
                     " values, expected " +
                     std::to_string(1 + carried.size() + numScans));
    for (size_t k = 0; k < carried.size(); ++k)
      carried[k] = (*outs)[1 + k];
    for (size_t k = 0; k < numScans; ++k)
      scans[k].push_back((*outs)[1 + carried.size() + k]);
    auto keepGoing = n.constInts((*outs)[0]);
    if (!keepGoing)
      return n.unsupported("Loop whose condition is computed at run time");
    if (!(*keepGoing)[0])
      break;
  }
  for (auto [k, v] : llvm::enumerate(carried))
    n.setOutput(k, v);
  for (size_t k = 0; k < numScans; ++k) {
    if (scans[k].empty())
      return n.unsupported("a Loop of zero iterations with scan outputs");
    // Scan outputs stack the per-iteration values along a new axis 0.
    SmallVector<Value> rows;
    for (Value v : scans[k]) {
      auto t = dyn_cast<RankedTensorType>(v.getType());
      if (!t)
        return n.unsupported("scan outputs that are not tensors");
      SmallVector<int64_t> shape = {1};
      shape.append(t.getShape().begin(), t.getShape().end());
      if (!t.hasStaticShape())
        return n.unsupported("scan outputs of dynamic shape");
      rows.push_back(n.reshape(v, shape));
    }
    n.setOutput(carried.size() + k, n.create<ConcatOp>(rows, 0));
  }
  return success();
}

} // namespace

void registerControlFlowOps(OpRegistry &r) {
  r.add("If", 1, convertIf);
  r.add("Loop", 1, convertLoop);
}

} // namespace kiln::onnx_frontend

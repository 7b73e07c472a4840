//===- ExplicitBroadcasts.cpp - run-time broadcasting of dynamic dims -----===//
//
// See Passes.td. Which dims are equal comes from SymbolicShapes.h.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/Transforms/Passes.h"
#include "dialects/kiln/Transforms/SymbolicShapes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace kiln {
#define GEN_PASS_DEF_KILNEXPLICITBROADCASTS
#include "dialects/kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// Whether operand dims meeting at one result position may disagree at
/// run time in a way the maps cannot say: a dynamic dim beside a static one
/// larger than 1, or beside a dynamic one of another symbol.
bool mayBroadcast(ArrayRef<std::pair<Value, int64_t>> dims) {
  std::optional<SymbolicDim> symbol;
  bool bigStatic = false, dynamic = false, differ = false;
  for (auto [v, j] : dims) {
    auto t = cast<RankedTensorType>(v.getType());
    if (!t.isDynamicDim(j)) {
      bigStatic |= t.getDimSize(j) != 1;
      continue;
    }
    dynamic = true;
    SymbolicDim s = symbolicDim(v, j);
    if (s.unknown || (symbol && !(*symbol == s)))
      differ = true;
    symbol = s;
  }
  return dynamic && (bigStatic || differ);
}

struct KilnExplicitBroadcastsPass
    : kiln::impl::KilnExplicitBroadcastsBase<KilnExplicitBroadcastsPass> {
  void runOnOperation() override {
    SmallVector<Operation *> work;
    getOperation().walk([&](Operation *op) {
      if (isa<BinaryOp, CompareOp, WhereOp>(op))
        work.push_back(op);
    });
    for (Operation *op : work)
      rewrite(op);
  }

  void rewrite(Operation *op) {
    auto result = cast<RankedTensorType>(op->getResult(0).getType());
    int64_t rank = result.getRank();
    // Positions where some operand's dynamic dim may be a 1 to broadcast.
    SmallVector<bool> risky(rank, false);
    bool any = false;
    for (int64_t p = 0; p < rank; ++p) {
      SmallVector<std::pair<Value, int64_t>> dims;
      for (Value v : op->getOperands()) {
        auto t = cast<RankedTensorType>(v.getType());
        int64_t j = p - (rank - t.getRank());
        if (j >= 0)
          dims.push_back({v, j});
      }
      risky[p] = mayBroadcast(dims);
      any |= risky[p];
    }
    if (!any)
      return;
    // The broadcast shape per run: entry p is the largest of the operands'
    // dims there (a 1 is never larger than the size it meets).
    OpBuilder b(op);
    Location loc = op->getLoc();
    auto i64 = b.getI64Type();
    auto vec1 = RankedTensorType::get({1}, i64);
    auto scalar = RankedTensorType::get({}, i64);
    SmallVector<Value> entries;
    for (int64_t p = 0; p < rank; ++p) {
      Value entry;
      for (Value v : op->getOperands()) {
        auto t = cast<RankedTensorType>(v.getType());
        int64_t j = p - (rank - t.getRank());
        if (j < 0)
          continue;
        Value dim;
        if (!t.isDynamicDim(j)) {
          dim = arith::ConstantOp::create(b, loc, DenseIntElementsAttr::get(vec1, {t.getDimSize(j)}));
        } else {
          Value shape = ShapeOp::create(b, loc, v);
          Value at = arith::ConstantOp::create(b, loc, DenseIntElementsAttr::get(scalar, {j}));
          dim = GatherOp::create(b, loc, shape, at, b.getI64IntegerAttr(0));
          dim = ReshapeOp::create(b, loc, vec1, dim, Value(), false);
        }
        entry = entry ? BinaryOp::create(b, loc, BinaryKind::max, entry, dim).getResult() : dim;
      }
      entries.push_back(entry);
    }
    Value target = ConcatOp::create(b, loc, entries, b.getI64IntegerAttr(0));
    for (OpOperand &operand : op->getOpOperands()) {
      auto t = cast<RankedTensorType>(operand.get().getType());
      bool needs = false;
      SmallVector<int64_t> shape;
      for (int64_t p = 0; p < rank; ++p) {
        int64_t j = p - (rank - t.getRank());
        needs |= j >= 0 && risky[p] && t.isDynamicDim(j);
        shape.push_back(j >= 0 && !risky[p] ? t.getDimSize(j)
                        : !result.isDynamicDim(p) ? result.getDimSize(p)
                                                 : ShapedType::kDynamic);
      }
      if (!needs)
        continue;
      // Static dims that already match stay; the rest follow the target.
      for (int64_t p = 0; p < rank; ++p) {
        int64_t j = p - (rank - t.getRank());
        if (j < 0 || risky[p])
          continue;
        if (t.getDimSize(j) == 1 && result.getDimSize(p) != 1)
          shape[p] = result.getDimSize(p);
      }
      auto type = RankedTensorType::get(shape, t.getElementType());
      operand.set(ExpandOp::create(b, loc, type, operand.get(), target));
    }
  }
};

} // namespace

//===- ShapeChecks.cpp - assert the sizes ops relate, where they are dynamic ===//
//
// Dims the model leaves dynamic are only known per run, and the loops code
// generation writes take the sizes an op relates to agree. Buffers still
// say which sizes meet, so the relations are read here, op by op, and
// written as `cf.assert`s the CPU target hoists into its shape function.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Passes.h"
#include "dialects/kiln/IR/NodeLocation.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "llvm/ADT/MapVector.h"

namespace kiln {
#define GEN_PASS_DEF_KILNSHAPECHECKS
#include "passes/Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

struct Checker {
  OpBuilder &b;
  Operation *op;
  std::string what = kiln::describeNode(op);

  Value size(OpFoldResult v) {
    return getValueOrCreateConstantIndexOp(b, op->getLoc(), v);
  }
  /// The product of `sizes` (at least one), or -1 where it wraps (sizes
  /// from input values are not bounded as input dims are; -1 matches no
  /// count). Single-result ops only: the plan computes checks from them.
  Value product(ArrayRef<OpFoldResult> sizes) {
    Location loc = op->getLoc();
    Value p = size(sizes.front());
    if (sizes.size() == 1)
      return p;
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    Value wrapped = arith::ConstantOp::create(b, loc, b.getBoolAttr(false));
    for (OpFoldResult s : sizes.drop_front()) {
      Value x = size(s);
      Value q = arith::MulIOp::create(b, loc, p, x);
      Value nonzero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, x, zero);
      Value back = arith::DivUIOp::create(b, loc, q,
                                          arith::SelectOp::create(b, loc, nonzero, x, one));
      wrapped = arith::OrIOp::create(
          b, loc, wrapped,
          arith::AndIOp::create(
              b, loc, nonzero,
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, back, p)));
      p = q;
    }
    return arith::SelectOp::create(b, loc, wrapped,
                                   arith::ConstantIndexOp::create(b, loc, -1), p);
  }
  OpFoldResult dim(Value buffer, int64_t d) {
    auto t = cast<MemRefType>(buffer.getType());
    if (!t.isDynamicDim(d))
      return b.getIndexAttr(t.getDimSize(d));
    return memref::DimOp::create(b, op->getLoc(), buffer, d).getResult();
  }
  /// Asserts `lhs pred rhs` unless both are constants (the verifiers
  /// checked those).
  void check(arith::CmpIPredicate pred, OpFoldResult lhs, OpFoldResult rhs,
             llvm::StringRef phrase) {
    if (getConstantIntValue(lhs) && getConstantIntValue(rhs))
      return;
    Location loc = op->getLoc();
    Value cond = arith::CmpIOp::create(b, loc, pred, size(lhs), size(rhs));
    cf::AssertOp::create(b, loc, cond, what + " " + phrase.str());
  }
  void equal(OpFoldResult lhs, OpFoldResult rhs) {
    check(arith::CmpIPredicate::eq, lhs, rhs, "needs sizes {0} and {1} to be equal");
  }
};

/// A linalg op's operand dims that one loop dim indexes directly must be
/// one size.
void checkLinalg(linalg::LinalgOp op, Checker &c) {
  llvm::MapVector<unsigned, SmallVector<std::pair<Value, int64_t>>> loops;
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    AffineMap map = op.getMatchingIndexingMap(&operand);
    for (auto [r, e] : llvm::enumerate(map.getResults()))
      if (auto d = dyn_cast<AffineDimExpr>(e))
        loops[d.getPosition()].push_back({operand.get(), (int64_t)r});
  }
  for (auto &[loop, uses] : loops) {
    // Against a static one where there is one: a check of a constant.
    auto isStatic = [](const std::pair<Value, int64_t> &u) {
      return !cast<MemRefType>(u.first.getType()).isDynamicDim(u.second);
    };
    auto ref = llvm::find_if(uses, isStatic);
    if (ref == uses.end())
      ref = uses.begin();
    OpFoldResult refDim;
    for (auto &u : uses) {
      if (&u == &*ref || isStatic(u))
        continue;
      if (!refDim)
        refDim = c.dim(ref->first, ref->second);
      c.equal(refDim, c.dim(u.first, u.second));
    }
  }
}

/// Each group of an expand_shape multiplies to the dim it splits.
void checkExpand(memref::ExpandShapeOp op, Checker &c) {
  SmallVector<OpFoldResult> shape = op.getMixedOutputShape();
  for (auto [i, group] : llvm::enumerate(op.getReassociationIndices())) {
    bool dynamic = op.getSrcType().isDynamicDim(i);
    for (int64_t j : group)
      dynamic |= op.getResultType().isDynamicDim(j);
    if (!dynamic)
      continue;
    SmallVector<OpFoldResult> sizes;
    for (int64_t j : group)
      sizes.push_back(shape[j]);
    c.check(arith::CmpIPredicate::eq, c.product(sizes), c.dim(op.getSrc(), i),
            "reshapes {1} elements into {0}");
  }
}

/// A dynamic dim cast to a static one must have that size.
void checkCast(memref::CastOp op, Checker &c) {
  auto from = dyn_cast<MemRefType>(op.getSource().getType());
  auto to = dyn_cast<MemRefType>(op.getType());
  if (!from || !to)
    return;
  for (int64_t d = 0; d < from.getRank(); ++d)
    if (from.isDynamicDim(d) && !to.isDynamicDim(d))
      c.equal(c.dim(op.getSource(), d), c.b.getIndexAttr(to.getDimSize(d)));
}

/// A reshape to a static shape keeps the element count.
void checkReshape(memref::ReshapeOp op, Checker &c) {
  auto from = cast<MemRefType>(op.getSource().getType());
  auto to = cast<MemRefType>(op.getType());
  if (from.hasStaticShape() || !to.hasStaticShape())
    return;
  if (from.getRank() == 0)
    return;
  SmallVector<OpFoldResult> dims;
  for (int64_t d = 0; d < from.getRank(); ++d)
    dims.push_back(c.dim(op.getSource(), d));
  c.check(arith::CmpIPredicate::eq, c.product(dims), c.b.getIndexAttr(to.getNumElements()),
          "reshapes {0} elements into {1}");
}

/// A subview stays inside its source: the end it reaches (0 when empty)
/// is at most the source's dim.
void checkSubview(memref::SubViewOp op, Checker &c) {
  Location loc = op.getLoc();
  SmallVector<OpFoldResult> offsets = op.getMixedOffsets(), sizes = op.getMixedSizes(),
                            strides = op.getMixedStrides();
  for (int64_t d = 0; d < op.getSourceType().getRank(); ++d) {
    OpFoldResult dim = c.dim(op.getSource(), d);
    if (getConstantIntValue(offsets[d]) && getConstantIntValue(sizes[d]) &&
        getConstantIntValue(strides[d]) && getConstantIntValue(dim))
      continue;
    Value one = arith::ConstantIndexOp::create(c.b, loc, 1);
    Value zero = arith::ConstantIndexOp::create(c.b, loc, 0);
    Value size = c.size(sizes[d]);
    Value last = arith::AddIOp::create(
        c.b, loc, c.size(offsets[d]),
        arith::MulIOp::create(c.b, loc, arith::SubIOp::create(c.b, loc, size, one),
                              c.size(strides[d])));
    Value end = arith::SelectOp::create(
        c.b, loc, arith::CmpIOp::create(c.b, loc, arith::CmpIPredicate::eq, size, zero), zero,
        arith::AddIOp::create(c.b, loc, last, one));
    c.check(arith::CmpIPredicate::ule, end, dim, "reaches element {0} of a dim of {1}");
  }
}

struct KilnShapeChecksPass : kiln::impl::KilnShapeChecksBase<KilnShapeChecksPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (fn.getBody().empty())
      return;
    OpBuilder b(&getContext());
    for (Operation &op : llvm::make_early_inc_range(fn.getBody().front())) {
      b.setInsertionPoint(&op);
      Checker c{b, &op};
      if (auto l = dyn_cast<linalg::LinalgOp>(op); l && l.hasPureBufferSemantics())
        checkLinalg(l, c);
      else if (auto e = dyn_cast<memref::ExpandShapeOp>(op))
        checkExpand(e, c);
      else if (auto cast = dyn_cast<memref::CastOp>(op))
        checkCast(cast, c);
      else if (auto r = dyn_cast<memref::ReshapeOp>(op))
        checkReshape(r, c);
      else if (auto s = dyn_cast<memref::SubViewOp>(op))
        checkSubview(s, c);
    }
  }
};

} // namespace

//===- ResolveSequences.cpp - sequences known at compile time -> tensors ---===//
//
// See Passes.td. Sequences are tracked as lists of values in program order;
// anything not understood (a run-time position, an unknown producer) leaves
// that sequence, and everything built from it, alone.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

namespace kiln {
#define GEN_PASS_DEF_KILNRESOLVESEQUENCES
#include "dialects/kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The single integer a constant position operand holds.
std::optional<int64_t> constantPosition(Value v) {
  DenseIntElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)) || attr.getNumElements() != 1)
    return std::nullopt;
  return (*attr.begin()).getSExtValue();
}

/// Uses of `old` take `replacement`; kiln ops and returns accept a more
/// static type (shape inference runs next), anything else gets a cast.
void replaceValue(OpBuilder &b, Value old, Value replacement) {
  if (old.getType() != replacement.getType() &&
      llvm::any_of(old.getUsers(), [](Operation *user) {
        return !isa<KilnDialect>(user->getDialect()) && !isa<func::ReturnOp>(user);
      }))
    replacement = tensor::CastOp::create(b, old.getLoc(), old.getType(), replacement);
  old.replaceAllUsesWith(replacement);
}

struct ResolveSequencesPass : kiln::impl::KilnResolveSequencesBase<ResolveSequencesPass> {
  void runOnOperation() override {
    llvm::DenseMap<Value, SmallVector<Value>> lists;
    SmallVector<Operation *> sequenceOps;
    OpBuilder b(&getContext());
    getOperation().walk([&](Operation *op) {
      b.setInsertionPoint(op);
      auto known = [&](Value s) -> SmallVector<Value> * {
        auto it = lists.find(s);
        return it == lists.end() ? nullptr : &it->second;
      };
      if (isa<SeqEmptyOp, SeqConstructOp, SeqInsertOp, SeqEraseOp, SeqAtOp, SeqLengthOp,
              SplitToSeqOp, ConcatFromSeqOp>(op))
        sequenceOps.push_back(op);
      if (auto e = dyn_cast<SeqEmptyOp>(op)) {
        lists[e.getResult()] = {};
      } else if (auto c = dyn_cast<SeqConstructOp>(op)) {
        lists[c.getResult()] = SmallVector<Value>(c.getElements());
      } else if (auto ins = dyn_cast<SeqInsertOp>(op)) {
        SmallVector<Value> *l = known(ins.getSequence());
        std::optional<int64_t> pos =
            ins.getPosition() ? constantPosition(ins.getPosition()) : (int64_t)(l ? l->size() : 0);
        if (!l || !pos)
          return;
        int64_t n = l->size(), p = *pos < 0 ? *pos + n : *pos;
        if (p < 0 || p > n)
          return;
        SmallVector<Value> next(*l);
        next.insert(next.begin() + p, ins.getElement());
        lists[ins.getResult()] = next;
      } else if (auto er = dyn_cast<SeqEraseOp>(op)) {
        SmallVector<Value> *l = known(er.getSequence());
        std::optional<int64_t> pos = er.getPosition() ? constantPosition(er.getPosition())
                                                      : (int64_t)(l ? l->size() - 1 : 0);
        if (!l || !pos)
          return;
        int64_t n = l->size(), p = *pos < 0 ? *pos + n : *pos;
        if (p < 0 || p >= n)
          return;
        SmallVector<Value> next(*l);
        next.erase(next.begin() + p);
        lists[er.getResult()] = next;
      } else if (auto split = dyn_cast<SplitToSeqOp>(op)) {
        if (std::optional<SmallVector<Value>> pieces = splitPieces(b, split))
          lists[split.getResult()] = *pieces;
      } else if (auto at = dyn_cast<SeqAtOp>(op)) {
        SmallVector<Value> *l = known(at.getSequence());
        std::optional<int64_t> pos = constantPosition(at.getPosition());
        if (!l || !pos)
          return;
        int64_t n = l->size(), p = *pos < 0 ? *pos + n : *pos;
        if (p >= 0 && p < n)
          replaceValue(b, at.getResult(), (*l)[p]);
      } else if (auto len = dyn_cast<SeqLengthOp>(op)) {
        if (SmallVector<Value> *l = known(len.getSequence())) {
          auto type = cast<RankedTensorType>(len.getType());
          Value n = arith::ConstantOp::create(
              b, op->getLoc(),
              DenseElementsAttr::get(type, b.getIntegerAttr(type.getElementType(), l->size())));
          len.getResult().replaceAllUsesWith(n);
        }
      } else if (auto cat = dyn_cast<ConcatFromSeqOp>(op)) {
        SmallVector<Value> *l = known(cat.getSequence());
        if (l && !l->empty())
          if (Value v = concat(b, cat, *l))
            replaceValue(b, cat.getResult(), v);
      }
    });
    // Sequence ops nobody reads any more, last first.
    for (Operation *op : llvm::reverse(sequenceOps))
      if (op->use_empty())
        op->erase();
    // Returned values may now be more static than the declared results.
    func::FuncOp fn = getOperation();
    fn.walk([&](func::ReturnOp ret) {
      fn.setType(FunctionType::get(fn.getContext(), fn.getFunctionType().getInputs(),
                                   ret.getOperandTypes()));
    });
  }

  /// Static pieces of a split_to_seq: one slice per piece (reshaped without
  /// the axis when keepdims is false).
  static std::optional<SmallVector<Value>> splitPieces(OpBuilder &b, SplitToSeqOp split) {
    auto in = dyn_cast<RankedTensorType>(split.getInput().getType());
    if (!in)
      return std::nullopt;
    int64_t rank = in.getRank(), axis = static_cast<int64_t>(split.getAxis());
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis >= rank || in.isDynamicDim(axis))
      return std::nullopt;
    int64_t extent = in.getDimSize(axis);
    SmallVector<int64_t> sizes;
    if (Value s = split.getSplit()) {
      DenseIntElementsAttr attr;
      if (!matchPattern(s, m_Constant(&attr)))
        return std::nullopt;
      if (cast<ShapedType>(s.getType()).getRank() == 0) {
        int64_t chunk = (*attr.begin()).getSExtValue();
        if (chunk <= 0)
          return std::nullopt;
        for (int64_t at = 0; at < extent; at += chunk)
          sizes.push_back(std::min(chunk, extent - at));
      } else {
        for (APInt v : attr)
          sizes.push_back(v.getSExtValue());
      }
    } else {
      sizes.assign(extent, 1);
    }
    bool squeeze = !split.getKeepdims() && !split.getSplit();
    SmallVector<Value> pieces;
    int64_t begin = 0;
    for (int64_t size : sizes) {
      SmallVector<int64_t> starts(rank, 0), ends(in.getShape()), steps(rank, 1);
      for (int64_t d = 0; d < rank; ++d)
        if (in.isDynamicDim(d))
          ends[d] = std::numeric_limits<int64_t>::max();
      starts[axis] = begin;
      ends[axis] = begin + size;
      begin += size;
      Value piece = SliceOp::create(b, split.getLoc(), split.getInput(), Value(), Value(),
                                    Value(), Value(), starts, ends, steps);
      if (squeeze) {
        SmallVector<int64_t> shape(cast<RankedTensorType>(piece.getType()).getShape());
        shape.erase(shape.begin() + axis);
        piece = ReshapeOp::create(b, split.getLoc(),
                                  RankedTensorType::get(shape, in.getElementType()), piece,
                                  Value(), UnitAttr());
      }
      pieces.push_back(piece);
    }
    if (begin != extent)
      return std::nullopt;
    return pieces;
  }

  static Value concat(OpBuilder &b, ConcatFromSeqOp cat, ArrayRef<Value> elements) {
    auto first = dyn_cast<RankedTensorType>(elements.front().getType());
    if (!first)
      return {};
    int64_t rank = first.getRank() + (cat.getNewAxis() ? 1 : 0);
    int64_t axis = static_cast<int64_t>(cat.getAxis());
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis >= rank)
      return {};
    SmallVector<Value> parts;
    for (Value e : elements) {
      auto t = dyn_cast<RankedTensorType>(e.getType());
      if (!t)
        return {};
      if (cat.getNewAxis()) {
        SmallVector<int64_t> shape(t.getShape());
        shape.insert(shape.begin() + axis, 1);
        e = ReshapeOp::create(b, cat.getLoc(), RankedTensorType::get(shape, t.getElementType()),
                              e, Value(), UnitAttr());
      }
      parts.push_back(e);
    }
    return ConcatOp::create(b, cat.getLoc(), parts, axis);
  }
};

} // namespace

//===- KilnSequenceOps.cpp - sequence, optional and string op verifiers ---===//

#include "dialects/kiln/IR/OpHelpers.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::detail;

/// Whether a value of type `t` may be an element of a sequence whose
/// element type is `elem`: same element type, compatible shape.
static bool fitsElement(TensorType elem, Type t) {
  auto tt = dyn_cast<TensorType>(t);
  if (!tt || tt.getElementType() != elem.getElementType())
    return false;
  if (!elem.hasRank() || !tt.hasRank())
    return true;
  if (elem.getRank() != tt.getRank())
    return false;
  for (auto [a, b] : llvm::zip(elem.getShape(), tt.getShape()))
    if (!dimsCompatible(a, b))
      return false;
  return true;
}

static TensorType elementOf(Value seq) {
  return cast<SequenceType>(seq.getType()).getElementType();
}

static LogicalResult checkFits(Operation *op, TensorType elem, Type t,
                               StringRef what) {
  if (fitsElement(elem, t))
    return success();
  return op->emitOpError() << what << " of type " << t
                           << " cannot be an element of a sequence of " << elem;
}

static LogicalResult checkPosition(Operation *op, Value pos) {
  if (!pos)
    return success();
  auto t = cast<RankedTensorType>(pos.getType());
  if (t.getRank() > 1 || (t.getRank() == 1 && t.getDimSize(0) != 1))
    return op->emitOpError("position must be a scalar, got ") << t;
  return success();
}

LogicalResult SeqConstructOp::verify() {
  for (Value v : getElements())
    if (failed(checkFits(*this, elementOf(getResult()), v.getType(), "element")))
      return failure();
  return success();
}

LogicalResult SeqInsertOp::verify() {
  TensorType out = elementOf(getResult());
  if (failed(checkFits(*this, out, getElement().getType(), "inserted tensor")) ||
      failed(checkFits(*this, out, elementOf(getSequence()), "an element")))
    return failure();
  return checkPosition(*this, getPosition());
}

LogicalResult SeqEraseOp::verify() {
  if (failed(checkFits(*this, elementOf(getResult()), elementOf(getSequence()),
                       "an element")))
    return failure();
  return checkPosition(*this, getPosition());
}

LogicalResult SeqAtOp::verify() {
  if (failed(checkFits(*this, elementOf(getSequence()), getType(), "the result")))
    return failure();
  return checkPosition(*this, getPosition());
}

LogicalResult SeqLengthOp::verify() { return success(); }

LogicalResult SplitToSeqOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  TensorType elem = elementOf(getResult());
  if (elem.getElementType() != in.getElementType())
    return emitOpError("sequence elements must have the input's element type ")
           << in.getElementType();
  ShapeDiag diag{getLoc(), getOperationName()};
  if (failed(normalizeAxis(diag, getAxis(), in.getRank())))
    return failure();
  if (Value s = getSplit()) {
    auto st = cast<RankedTensorType>(s.getType());
    if (st.getRank() > 1)
      return emitOpError("split must be a scalar or 1-d, got ") << st;
  }
  bool dropsAxis = !getSplit() && !getKeepdims();
  if (elem.hasRank() && elem.getRank() != in.getRank() - (dropsAxis ? 1 : 0))
    return emitOpError("sequence elements have rank ")
           << elem.getRank() << ", expected " << in.getRank() - (dropsAxis ? 1 : 0);
  return success();
}

LogicalResult ConcatFromSeqOp::verify() {
  TensorType elem = elementOf(getSequence());
  auto out = cast<RankedTensorType>(getType());
  if (elem.getElementType() != out.getElementType())
    return emitOpError("result element type ")
           << out.getElementType() << " differs from the sequence's "
           << elem.getElementType();
  if (!elem.hasRank())
    return success();
  int64_t rank = elem.getRank() + (getNewAxis() ? 1 : 0);
  if (out.getRank() != rank)
    return emitOpError("result must have rank ") << rank << ", got " << out;
  ShapeDiag diag{getLoc(), getOperationName()};
  return normalizeAxis(diag, getAxis(), rank);
}

LogicalResult OptionalWrapOp::verify() {
  Type held = cast<OptionalType>(getType()).getValueType();
  if (Value v = getValue(); v && v.getType() != held)
    return emitOpError("wraps a value of type ")
           << v.getType() << " in an optional of " << held;
  return success();
}

LogicalResult OptionalHasOp::verify() { return success(); }

LogicalResult OptionalGetOp::verify() {
  Type held = cast<OptionalType>(getOptional().getType()).getValueType();
  if (getType() != held)
    return emitOpError("result type ") << getType() << " differs from the held "
                                       << held;
  return success();
}

LogicalResult StringNormalizeOp::verify() {
  StringRef mode = getCaseChange();
  if (mode != "LOWER" && mode != "UPPER" && mode != "NONE")
    return emitOpError("case_change must be LOWER, UPPER or NONE, got '")
           << mode << "'";
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getType());
  if (!(in.getRank() == 1 || (in.getRank() == 2 && dimsCompatible(in.getDimSize(0), 1))))
    return emitOpError("input must be [C] or [1, C], got ") << in;
  if (out.getRank() != in.getRank())
    return emitOpError("result must have the input's rank, got ") << out;
  return success();
}

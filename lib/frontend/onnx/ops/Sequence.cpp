//===- Sequence.cpp - ONNX Sequence*, Optional* and string ops ------------===//
//
// Sequences become `!kiln.seq<tensor<...>>` values whose element type is the
// join of what is put in; optionals become `!kiln.optional<T>`. Where a
// sequence element's rank is unknown, the ONNX-declared type of a
// SequenceAt / ConcatFromSequence result gives it.
//
//===----------------------------------------------------------------------===//

#include "lib/frontend/onnx/GraphImporter.h"

#include "onnx/onnx_pb.h"

using namespace mlir;

namespace kiln::onnx_frontend {
namespace {

/// The most precise tensor type both `a` and `b` are instances of.
TensorType join(TensorType a, TensorType b) {
  if (!a.hasRank() || !b.hasRank() || a.getRank() != b.getRank())
    return UnrankedTensorType::get(a.getElementType());
  SmallVector<int64_t> dims;
  for (auto [x, y] : llvm::zip(a.getShape(), b.getShape()))
    dims.push_back(x == y ? x : ShapedType::kDynamic);
  return RankedTensorType::get(dims, a.getElementType());
}

FailureOr<Value> sequenceInput(NodeImporter &n, size_t i) {
  FailureOr<Value> v = n.required(i);
  if (failed(v))
    return failure();
  if (!isa<SequenceType>(v->getType())) {
    (void)n.error("input " + std::to_string(i) + " must be a sequence");
    return failure();
  }
  return v;
}

TensorType elementOf(Value seq) {
  return cast<SequenceType>(seq.getType()).getElementType();
}

/// The declared result type when it refines `known` (used for elements of
/// unknown rank), else `known` if it is ranked, else null.
RankedTensorType resultType(NodeImporter &n, TensorType known) {
  RankedTensorType declared = n.declaredOutputType(0);
  if (declared && declared.getElementType() == known.getElementType() &&
      (!known.hasRank() || declared.getRank() == known.getRank()))
    return declared;
  return dyn_cast<RankedTensorType>(known);
}

LogicalResult convertSequenceEmpty(NodeImporter &n) {
  Type elt = convertElementType(n.b.getContext(), (int32_t)n.attrInt("dtype", 1));
  if (!elt)
    return n.unsupported("this dtype");
  n.setOutput(0, n.create<SeqEmptyOp>(
                     SequenceType::get(n.b.getContext(), UnrankedTensorType::get(elt))));
  return success();
}

LogicalResult convertSequenceConstruct(NodeImporter &n) {
  SmallVector<Value> elements;
  TensorType elem;
  for (size_t i = 0; i < n.numInputs(); ++i) {
    FailureOr<Value> v = n.required(i);
    if (failed(v))
      return failure();
    auto t = cast<TensorType>(v->getType());
    if (elem && t.getElementType() != elem.getElementType())
      return n.error("sequence elements must share one element type");
    elem = elem ? join(elem, t) : t;
    elements.push_back(*v);
  }
  if (!elem)
    return n.error("SequenceConstruct needs at least one input");
  n.setOutput(0, n.create<SeqConstructOp>(SequenceType::get(n.b.getContext(), elem),
                                          elements));
  return success();
}

LogicalResult convertSequenceInsert(NodeImporter &n) {
  FailureOr<Value> seq = sequenceInput(n, 0), t = n.required(1);
  if (failed(seq) || failed(t))
    return failure();
  auto tt = cast<TensorType>(t->getType());
  TensorType elem = elementOf(*seq);
  if (tt.getElementType() != elem.getElementType())
    return n.error("the inserted tensor's element type differs from the "
                   "sequence's");
  // Into a sequence known to be empty, the element type is the tensor's.
  if (!isa_and_nonnull<SeqEmptyOp>(seq->getDefiningOp()))
    tt = join(elem, tt);
  n.setOutput(0, n.create<SeqInsertOp>(SequenceType::get(n.b.getContext(), tt), *seq,
                                       *t, n.input(2)));
  return success();
}

LogicalResult convertSequenceErase(NodeImporter &n) {
  FailureOr<Value> seq = sequenceInput(n, 0);
  if (failed(seq))
    return failure();
  n.setOutput(0, n.create<SeqEraseOp>(seq->getType(), *seq, n.input(1)));
  return success();
}

LogicalResult convertSequenceAt(NodeImporter &n) {
  FailureOr<Value> seq = sequenceInput(n, 0), pos = n.required(1);
  if (failed(seq) || failed(pos))
    return failure();
  RankedTensorType t = resultType(n, elementOf(*seq));
  if (!t)
    return n.unsupported("an element of unknown rank");
  n.setOutput(0, n.create<SeqAtOp>(t, *seq, *pos));
  return success();
}

LogicalResult convertSequenceLength(NodeImporter &n) {
  FailureOr<Value> seq = sequenceInput(n, 0);
  if (failed(seq))
    return failure();
  n.setOutput(0, n.create<SeqLengthOp>(RankedTensorType::get({}, n.b.getI64Type()), *seq));
  return success();
}

LogicalResult convertSplitToSequence(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto t = n.inputType(0);
  int64_t axis = n.attrInt("axis", 0);
  if (axis < -t.getRank() || axis >= t.getRank())
    return n.error("axis " + std::to_string(axis) + " is out of range");
  if (axis < 0)
    axis += t.getRank();
  bool keepdims = n.attrInt("keepdims", 1) != 0;
  SmallVector<int64_t> shape(t.getShape());
  Value split = n.input(1);
  if (!split) {
    if (keepdims)
      shape[axis] = 1;
    else
      shape.erase(shape.begin() + axis);
  } else {
    // Equal pieces keep a static extent; anything else is dynamic.
    auto sizes = n.constInts(split);
    int64_t d = shape[axis];
    bool equal = sizes && !sizes->empty() && llvm::all_equal(*sizes);
    bool scalar = n.inputType(1).getRank() == 0;
    shape[axis] = equal && (!scalar || (!ShapedType::isDynamic(d) && d % (*sizes)[0] == 0))
                      ? (*sizes)[0]
                      : ShapedType::kDynamic;
  }
  auto elem = RankedTensorType::get(shape, t.getElementType());
  n.setOutput(0, n.create<SplitToSeqOp>(SequenceType::get(n.b.getContext(), elem), *x,
                                        split, axis, keepdims));
  return success();
}

LogicalResult convertConcatFromSequence(NodeImporter &n) {
  FailureOr<Value> seq = sequenceInput(n, 0);
  if (failed(seq))
    return failure();
  bool newAxis = n.attrInt("new_axis", 0) != 0;
  TensorType elem = elementOf(*seq);
  RankedTensorType t = n.declaredOutputType(0);
  int64_t axis = n.attrInt("axis", 0);
  if (!t || t.getElementType() != elem.getElementType() ||
      (elem.hasRank() && t.getRank() != elem.getRank() + (newAxis ? 1 : 0))) {
    if (!elem.hasRank())
      return n.unsupported("concatenating elements of unknown rank");
    int64_t rank = elem.getRank() + (newAxis ? 1 : 0);
    if (axis < -rank || axis >= rank)
      return n.error("axis " + std::to_string(axis) + " is out of range");
    if (axis < 0)
      axis += rank;
    SmallVector<int64_t> shape(elem.getShape());
    if (newAxis)
      shape.insert(shape.begin() + axis, ShapedType::kDynamic);
    else
      shape[axis] = ShapedType::kDynamic;
    t = RankedTensorType::get(shape, elem.getElementType());
  }
  n.setOutput(0, n.create<ConcatFromSeqOp>(t, *seq, axis, newAxis));
  return success();
}

//===--- optionals ---------------------------------------------------------===//

LogicalResult convertOptional(NodeImporter &n) {
  if (Value v = n.input(0)) {
    n.setOutput(0, n.create<OptionalWrapOp>(OptionalType::get(n.b.getContext(), v.getType()), v));
    return success();
  }
  const onnx::AttributeProto *typeAttr = n.attr("type");
  if (!typeAttr || !typeAttr->has_tp())
    return n.error("an empty Optional needs the type attribute");
  auto &graph = n.graphImporter();
  FailureOr<Type> t = graph.convertType(typeAttr->tp(), "the optional's type", n.loc, true);
  if (failed(t))
    return failure();
  n.setOutput(0, n.create<OptionalWrapOp>(OptionalType::get(n.b.getContext(), *t), Value()));
  return success();
}

LogicalResult convertOptionalHasElement(NodeImporter &n) {
  Value v = n.input(0);
  if (v && isa<OptionalType>(v.getType())) {
    n.setOutput(0, n.create<OptionalHasOp>(v));
    return success();
  }
  // An absent input is an empty optional; a tensor or sequence is present.
  n.setOutput(0, n.splat(n.b.getI1Type(), v ? 1 : 0));
  return success();
}

LogicalResult convertOptionalGetElement(NodeImporter &n) {
  FailureOr<Value> v = n.required(0);
  if (failed(v))
    return failure();
  if (auto opt = dyn_cast<OptionalType>(v->getType()))
    n.setOutput(0, n.create<OptionalGetOp>(opt.getValueType(), *v));
  else
    n.setOutput(0, *v);
  return success();
}

//===--- strings -----------------------------------------------------------===//

LogicalResult convertStringNormalizer(NodeImporter &n) {
  FailureOr<Value> x = n.required(0);
  if (failed(x))
    return failure();
  auto t = n.inputType(0);
  if (!isa<StringType>(t.getElementType()))
    return n.error("StringNormalizer needs a string tensor");
  SmallVector<Attribute> stopwords;
  for (const std::string &w : n.attrStrings("stopwords").value_or(SmallVector<std::string>{}))
    stopwords.push_back(n.b.getStringAttr(w));
  SmallVector<int64_t> shape(t.getShape());
  if (!stopwords.empty()) // how many survive is known at run time
    shape.back() = ShapedType::kDynamic;
  n.setOutput(0, n.create<StringNormalizeOp>(
                     RankedTensorType::get(shape, t.getElementType()), *x,
                     n.attrString("case_change_action", "NONE"),
                     n.attrInt("is_case_sensitive", 0) != 0,
                     n.b.getArrayAttr(stopwords), n.attrString("locale", "")));
  return success();
}

} // namespace

void registerSequenceOps(OpRegistry &r) {
  r.add("SequenceEmpty", 11, convertSequenceEmpty);
  r.add("SequenceConstruct", 11, convertSequenceConstruct);
  r.add("SequenceInsert", 11, convertSequenceInsert);
  r.add("SequenceErase", 11, convertSequenceErase);
  r.add("SequenceAt", 11, convertSequenceAt);
  r.add("SequenceLength", 11, convertSequenceLength);
  r.add("SplitToSequence", 11, convertSplitToSequence);
  r.add("ConcatFromSequence", 11, convertConcatFromSequence);
  r.add("Optional", 15, convertOptional);
  r.add("OptionalHasElement", 15, convertOptionalHasElement);
  r.add("OptionalGetElement", 15, convertOptionalGetElement);
  r.add("StringNormalizer", 10, convertStringNormalizer);
}

} // namespace kiln::onnx_frontend

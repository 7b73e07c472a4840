//===- KilnOps.cpp - kiln op verifiers and type inference ----------------===//
//
// Each op's inferReturnTypes / verify is a thin wrapper over the shape rules
// in TypeInference.cpp, plus the dtype rules that belong to one op only.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/IR/TypeInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/TypeSwitch.h"
#include <cmath>

using namespace mlir;
using namespace kiln;

#include "dialects/kiln/IR/KilnDialect.cpp.inc"
#include "dialects/kiln/IR/KilnEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "dialects/kiln/IR/KilnAttrs.cpp.inc"
#define GET_TYPEDEF_CLASSES
#include "dialects/kiln/IR/KilnTypes.cpp.inc"

void KilnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/kiln/IR/KilnOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/kiln/IR/KilnAttrs.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/kiln/IR/KilnTypes.cpp.inc"
      >();
}

Operation *KilnDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  if (arith::ConstantOp::isBuildableWith(value, type))
    return arith::ConstantOp::create(builder, loc, type, cast<TypedAttr>(value));
  return nullptr;
}

#include "dialects/kiln/IR/OpHelpers.h"

using namespace kiln::detail;

KILN_INFER_VIA_ADAPTOR(UnaryOp)
KILN_INFER_VIA_ADAPTOR(BinaryOp)
KILN_INFER_VIA_ADAPTOR(CompareOp)
KILN_INFER_VIA_ADAPTOR(WhereOp)
KILN_INFER_VIA_ADAPTOR(MatmulOp)
KILN_INFER_VIA_ADAPTOR(GemmOp)
KILN_INFER_VIA_ADAPTOR(SoftmaxOp)
KILN_INFER_VIA_ADAPTOR(ReduceOp)
KILN_INFER_VIA_ADAPTOR(ArgReduceOp)
KILN_INFER_VIA_ADAPTOR(TopKOp)
KILN_INFER_VIA_ADAPTOR(TransposeOp)
KILN_INFER_VIA_ADAPTOR(GatherOp)
KILN_INFER_VIA_ADAPTOR(SliceOp)
KILN_INFER_VIA_ADAPTOR(ConcatOp)
KILN_INFER_VIA_ADAPTOR(ShapeOp)
KILN_INFER_VIA_ADAPTOR(LayerNormOp)
KILN_INFER_VIA_ADAPTOR(RmsNormOp)
KILN_INFER_VIA_ADAPTOR(RopeOp)
KILN_INFER_VIA_ADAPTOR(MoeOp)
KILN_INFER_VIA_ADAPTOR(GatedMlpOp)

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  RankedTensorType t = getType();
  if (!t.hasStaticShape())
    return emitOpError("weight '") << getName() << "' must have a static shape, got "
                                   << t;
  Type e = t.getElementType();
  if (!e.isIntOrFloat())
    return emitOpError("weight '") << getName()
                                   << "' has unsupported element type " << e;
  if (getFile().empty())
    return emitOpError("weight '") << getName() << "' names no file";
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult UnaryOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(UnaryOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  Type e = in.getElementType();
  UnaryKind k = adaptor.getKind();
  StringRef kind = stringifyUnaryKind(k);
  switch (k) {
  case UnaryKind::abs:
  case UnaryKind::neg:
  case UnaryKind::relu:
  case UnaryKind::sign:
    if (!isFloat(e) && !isInt(e))
      return diag.error("'", kind, "' needs a numeric element type, got ", e);
    break;
  case UnaryKind::Not:
    if (!isBool(e))
      return diag.error("'not' needs an i1 tensor, got element type ", e);
    break;
  case UnaryKind::bitwise_not:
    if (!isInt(e))
      return diag.error("'bitwise_not' needs an integer tensor, got element type ", e);
    break;
  default:
    if (!isFloat(e))
      return diag.error("'", kind, "' needs a floating-point tensor, got element type ", e);
  }
  Type resultElt = (k == UnaryKind::is_nan || k == UnaryKind::is_inf)
                       ? IntegerType::get(e.getContext(), 1)
                       : e;
  return pushTensor(inferred, in.getShape(), resultElt);
}

/// The dtype rule shared by binary ops: equal element types suitable for kind.
static LogicalResult checkBinaryDtypes(const ShapeDiag &diag, BinaryKind k,
                                       Type lhs, Type rhs) {
  if (lhs != rhs)
    return diag.error("operands have different element types: ", lhs, " and ",
                      rhs, " (insert kiln.cast)");
  StringRef kind = stringifyBinaryKind(k);
  switch (k) {
  case BinaryKind::And:
  case BinaryKind::Or:
  case BinaryKind::Xor:
    if (!isBool(lhs))
      return diag.error("'", kind, "' needs i1 operands, got ", lhs);
    return success();
  case BinaryKind::shl:
  case BinaryKind::shr:
  case BinaryKind::bitwise_and:
  case BinaryKind::bitwise_or:
  case BinaryKind::bitwise_xor:
    if (!isInt(lhs))
      return diag.error("'", kind, "' needs integer operands, got ", lhs);
    return success();
  default:
    if (!isFloat(lhs) && !isInt(lhs))
      return diag.error("'", kind, "' needs numeric operands, got ", lhs);
    return success();
  }
}

LogicalResult BinaryOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(BinaryOp);
  KILN_RANKED(lhs, adaptor.getLhs(), "lhs");
  KILN_RANKED(rhs, adaptor.getRhs(), "rhs");
  if (failed(checkBinaryDtypes(diag, adaptor.getKind(), lhs.getElementType(),
                               rhs.getElementType())))
    return failure();
  SmallVector<int64_t> shape;
  if (failed(broadcastShapes(diag, {lhs.getShape(), rhs.getShape()}, shape)))
    return failure();
  return pushTensor(inferred, shape, lhs.getElementType());
}

LogicalResult CompareOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> location,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(CompareOp);
  KILN_RANKED(lhs, adaptor.getLhs(), "lhs");
  KILN_RANKED(rhs, adaptor.getRhs(), "rhs");
  if (lhs.getElementType() != rhs.getElementType())
    return diag.error("operands have different element types: ",
                      lhs.getElementType(), " and ", rhs.getElementType());
  SmallVector<int64_t> shape;
  if (failed(broadcastShapes(diag, {lhs.getShape(), rhs.getShape()}, shape)))
    return failure();
  return pushTensor(inferred, shape, IntegerType::get(ctx, 1));
}

LogicalResult WhereOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(WhereOp);
  KILN_RANKED(c, adaptor.getCondition(), "condition");
  KILN_RANKED(t, adaptor.getTrueValue(), "true_value");
  KILN_RANKED(f, adaptor.getFalseValue(), "false_value");
  if (!isBool(c.getElementType()))
    return diag.error("condition must be an i1 tensor, got element type ",
                      c.getElementType());
  if (t.getElementType() != f.getElementType())
    return diag.error("true_value and false_value have different element "
                      "types: ",
                      t.getElementType(), " and ", f.getElementType());
  SmallVector<int64_t> shape;
  if (failed(broadcastShapes(
          diag, {c.getShape(), t.getShape(), f.getShape()}, shape)))
    return failure();
  return pushTensor(inferred, shape, t.getElementType());
}

LogicalResult CastOp::verify() {
  ShapeDiag diag{getLoc(), getOperationName()};
  auto in = getInput().getType(), out = getType();
  if (in.getRank() != out.getRank())
    return diag.error("result rank ", out.getRank(), " differs from input rank ",
                      in.getRank());
  for (int64_t i = 0; i < in.getRank(); ++i)
    if (!dimsCompatible(in.getDimSize(i), out.getDimSize(i)))
      return diag.error("result shape ", shapeToString(out.getShape()),
                        " differs from input shape ",
                        shapeToString(in.getShape()));
  // Strings convert to and from numbers (printed / parsed as ONNX does).
  auto castable = [](Type t) { return t.isIntOrFloat() || isa<StringType>(t); };
  if (!castable(in.getElementType()) || !castable(out.getElementType()))
    return diag.error("can only cast between integer, floating-point and "
                      "string element types, got ",
                      in.getElementType(), " to ", out.getElementType());
  return success();
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(MatmulOp);
  KILN_RANKED(lhs, adaptor.getLhs(), "lhs");
  KILN_RANKED(rhs, adaptor.getRhs(), "rhs");
  if (!lhs.getElementType().isIntOrFloat() || isBool(lhs.getElementType()))
    return diag.error("needs numeric operands, got ", lhs.getElementType());
  SmallVector<int64_t> shape;
  if (failed(inferMatmulShape(diag, lhs, rhs, shape)))
    return failure();
  return pushTensor(inferred, shape, lhs.getElementType());
}

LogicalResult GemmOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(GemmOp);
  KILN_RANKED(a, adaptor.getA(), "A");
  KILN_RANKED(b, adaptor.getB(), "B");
  KILN_RANKED(c, adaptor.getC(), "C");
  SmallVector<int64_t> shape;
  if (failed(inferGemmShape(diag, a, b, c, adaptor.getTransA(),
                            adaptor.getTransB(), shape)))
    return failure();
  return pushTensor(inferred, shape, a.getElementType());
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(SoftmaxOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  if (failed(normalizeAxis(diag, adaptor.getAxis(), in.getRank())))
    return failure();
  inferred.push_back(in);
  return success();
}

LogicalResult ReduceOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(ReduceOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  Type e = in.getElementType();
  if (!isFloat(e) && !isInt(e))
    return diag.error("needs a numeric tensor, got element type ", e);
  ReduceKind k = adaptor.getKind();
  if (!isFloat(e) && k != ReduceKind::sum && k != ReduceKind::max &&
      k != ReduceKind::min && k != ReduceKind::prod &&
      k != ReduceKind::sum_square && k != ReduceKind::l1)
    return diag.error("'", stringifyReduceKind(k),
                      "' needs a floating-point tensor, got element type ", e);
  SmallVector<int64_t> shape;
  if (Value axes = adaptor.getRuntimeAxes()) {
    if (!adaptor.getAxes().empty())
      return diag.error("give axes as an attribute or an operand, not both");
    FailureOr<int64_t> nOrErr = vectorLength(diag, axes, "runtime axes");
    if (failed(nOrErr))
      return failure();
    int64_t n = *nOrErr;
    int64_t rank = adaptor.getKeepdims() ? in.getRank()
                   : ShapedType::isDynamic(n) ? -1
                                              : in.getRank() - n;
    if (rank < 0)
      return diag.error("without keepdims the number of run-time axes must "
                        "be static and at most the rank");
    // An empty axes tensor keeps (noop) or removes every dimension.
    if (!adaptor.getKeepdims() && n == 0 && !adaptor.getNoopWithEmptyAxes())
      rank = 0;
    return pushTensor(inferred, SmallVector<int64_t>(rank, ShapedType::kDynamic), e);
  }
  if (failed(inferReduceShape(diag, in.getShape(), adaptor.getAxes(),
                              adaptor.getKeepdims(), shape)))
    return failure();
  return pushTensor(inferred, shape, e);
}

LogicalResult ArgReduceOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(ArgReduceOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  if (in.getRank() == 0)
    return diag.error("input must have rank >= 1");
  SmallVector<int64_t> shape;
  if (failed(inferReduceShape(diag, in.getShape(), {(int64_t)adaptor.getAxis()},
                              adaptor.getKeepdims(), shape)))
    return failure();
  return pushTensor(inferred, shape, IntegerType::get(ctx, 64));
}

LogicalResult TopKOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> location,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(TopKOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  if (in.getRank() == 0)
    return diag.error("input must have rank >= 1");
  FailureOr<int64_t> axis = normalizeAxis(diag, adaptor.getAxis(), in.getRank());
  if (failed(axis))
    return failure();
  int64_t k = adaptor.getK(), dim = in.getDimSize(*axis);
  if (k < 1)
    return diag.error("k must be positive, got ", k);
  if (!adaptor.getRuntimeK() && !ShapedType::isDynamic(dim) && k > dim)
    return diag.error("k = ", k, " exceeds the size ", dim, " of axis ", *axis);
  SmallVector<int64_t> shape(in.getShape());
  shape[*axis] = adaptor.getRuntimeK() ? ShapedType::kDynamic : k;
  (void)pushTensor(inferred, shape, in.getElementType());
  return pushTensor(inferred, shape, IntegerType::get(ctx, 64));
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(TransposeOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  SmallVector<int64_t> shape;
  if (failed(inferTransposeShape(diag, in.getShape(), adaptor.getPerm(), shape)))
    return failure();
  return pushTensor(inferred, shape, in.getElementType());
}

/// Shared by reshape and expand: a shape operand has one entry per result
/// dimension (expand's may have fewer: it broadcasts with the input shape).
static LogicalResult checkShapeOperand(const ShapeDiag &diag, Value shape,
                                       RankedTensorType result,
                                       bool allowShorter = false) {
  if (!shape)
    return success();
  int64_t n = cast<RankedTensorType>(shape.getType()).getDimSize(0);
  if (!ShapedType::isDynamic(n) && n != result.getRank() &&
      !(allowShorter && n < result.getRank()))
    return diag.error("shape operand has ", n, " entries but the result has rank ",
                      result.getRank());
  return success();
}

LogicalResult ReshapeOp::verify() {
  ShapeDiag diag{getLoc(), getOperationName()};
  RankedTensorType in = getInput().getType(), out = getType();
  if (in.getElementType() != out.getElementType())
    return diag.error("result element type ", out.getElementType(),
                      " differs from input element type ", in.getElementType());
  if (failed(checkShapeOperand(diag, getShape(), out)))
    return failure();
  if (!getShape() && out.getNumDynamicDims() > 1)
    return diag.error("result ", out, " has ", out.getNumDynamicDims(),
                      " dynamic dimensions; without a shape operand at most "
                      "one can be implied");
  if (in.hasStaticShape() && out.hasStaticShape() &&
      in.getNumElements() != out.getNumElements())
    return diag.error("cannot reshape ", in.getNumElements(), " elements (",
                      shapeToString(in.getShape()), ") into ",
                      out.getNumElements(), " (",
                      shapeToString(out.getShape()), ")");
  return success();
}

LogicalResult ExpandOp::verify() {
  ShapeDiag diag{getLoc(), getOperationName()};
  RankedTensorType in = getInput().getType(), out = getType();
  if (in.getElementType() != out.getElementType())
    return diag.error("result element type ", out.getElementType(),
                      " differs from input element type ", in.getElementType());
  if (failed(checkShapeOperand(diag, getShape(), out, /*allowShorter=*/true)))
    return failure();
  return checkBroadcastsTo(diag, in.getShape(), out.getShape(), "input",
                           "the result");
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(GatherOp);
  KILN_RANKED(data, adaptor.getData(), "data");
  KILN_RANKED(idx, adaptor.getIndices(), "indices");
  SmallVector<int64_t> shape;
  if (failed(inferGatherShape(diag, data.getShape(), idx.getShape(),
                              adaptor.getAxis(), shape)))
    return failure();
  return pushTensor(inferred, shape, data.getElementType());
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(SliceOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  if (adaptor.getRuntimeStarts()) {
    if (!adaptor.getStarts().empty() || !adaptor.getEnds().empty() ||
        !adaptor.getSteps().empty())
      return diag.error("give starts/ends/steps as attributes or as operands, "
                        "not both");
    return pushTensor(inferred,
                      SmallVector<int64_t>(in.getRank(), ShapedType::kDynamic),
                      in.getElementType());
  }
  if (adaptor.getRuntimeAxes() || adaptor.getRuntimeSteps())
    return diag.error("runtime axes or steps need runtime starts and ends");
  SmallVector<int64_t> shape;
  if (failed(inferSliceShape(diag, in.getShape(), adaptor.getStarts(),
                             adaptor.getEnds(), adaptor.getSteps(), shape)))
    return failure();
  return pushTensor(inferred, shape, in.getElementType());
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(ConcatOp);
  for (auto [i, v] : llvm::enumerate(adaptor.getInputs()))
    if (failed(ranked(diag, v, "input " + std::to_string(i))))
      return failure();
  SmallVector<int64_t> shape;
  if (failed(inferConcatShape(diag, adaptor.getInputs().getTypes(),
                              adaptor.getAxis(), shape)))
    return failure();
  return pushTensor(inferred, shape,
                    cast<ShapedType>(adaptor.getInputs()[0].getType())
                        .getElementType());
}

LogicalResult ShapeOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> location,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(ShapeOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  return pushTensor(inferred, {in.getRank()}, IntegerType::get(ctx, 64));
}

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(LayerNormOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  KILN_RANKED(scale, adaptor.getScale(), "scale");
  KILN_RANKED(bias, adaptor.getBias(), "bias");
  if (failed(checkNormParam(diag, in, adaptor.getAxis(), scale, "scale")) ||
      (bias && failed(checkNormParam(diag, in, adaptor.getAxis(), bias, "bias"))))
    return failure();
  inferred.push_back(in);
  return success();
}

LogicalResult RmsNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(RmsNormOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  KILN_RANKED(w, adaptor.getWeight(), "weight");
  if (in.getRank() == 0)
    return diag.error("input must have rank >= 1");
  if (failed(checkNormParam(diag, in, adaptor.getAxis(), w, "weight")))
    return failure();
  inferred.push_back(in);
  return success();
}

//===----------------------------------------------------------------------===//
// Fused ops
//===----------------------------------------------------------------------===//

LogicalResult RopeOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(RopeOp);
  KILN_RANKED(in, adaptor.getInput(), "input");
  KILN_RANKED(cos, adaptor.getCos(), "cos");
  KILN_RANKED(sin, adaptor.getSin(), "sin");
  if (cos != sin)
    return diag.error("cos and sin must have the same type, got ", cos,
                      " and ", sin);
  if (failed(checkSameElementType(diag, {in, cos}, {"input", "cos"})))
    return failure();
  if (in.getRank() < 1 || cos.getRank() < 1)
    return diag.error("input and cos/sin must have rank >= 1");
  int64_t rot = cos.getShape().back(), feat = in.getShape().back();
  if (!ShapedType::isDynamic(rot)) {
    if (rot % 2)
      return diag.error("rotary dimension (last dimension of cos/sin) must be "
                        "even, got ",
                        rot);
    if (!ShapedType::isDynamic(feat) && rot > feat)
      return diag.error("rotary dimension ", rot,
                        " exceeds the input's feature size ", feat);
  }
  if (failed(checkBroadcastsTo(diag, cos.getShape().drop_back(),
                               in.getShape().drop_back(),
                               "cos/sin (without the rotary dimension)",
                               "the input (without the feature dimension)")))
    return failure();
  inferred.push_back(in);
  return success();
}

float AttentionOp::getEffectiveScale() {
  if (std::optional<APFloat> s = getScale())
    return s->convertToFloat();
  int64_t d = getQuery().getType().getDimSize(3);
  return ShapedType::isDynamic(d) ? 1.0f : 1.0f / std::sqrt((float)d);
}

SmallVector<RankedTensorType> AttentionOp::inferResultTypes() {
  return resultTypesFor(getQuery().getType(), getKey().getType(), getValue().getType(),
                        getPastKey() ? getPastKey().getType() : RankedTensorType());
}

void AttentionOp::build(OpBuilder &b, OperationState &state, Value query, Value key,
                        Value value, Value mask, Value pastKey, Value pastValue, bool causal,
                        FloatAttr scale, FloatAttr softcap) {
  auto type = [](Value v) { return v ? cast<RankedTensorType>(v.getType()) : RankedTensorType(); };
  SmallVector<RankedTensorType> types =
      resultTypesFor(type(query), type(key), type(value), type(pastKey));
  SmallVector<Type> present(types.begin() + 1, types.end());
  build(b, state, types.front(), present, query, key, value, mask, pastKey, pastValue, causal,
        scale, softcap);
}

SmallVector<RankedTensorType> AttentionOp::resultTypesFor(RankedTensorType q,
                                                          RankedTensorType k,
                                                          RankedTensorType v,
                                                          RankedTensorType pastKey) {
  SmallVector<RankedTensorType> types = {RankedTensorType::get(
      {q.getDimSize(0), q.getDimSize(1), q.getDimSize(2), v.getDimSize(3)},
      q.getElementType())};
  if (!pastKey)
    return types;
  auto add = [](int64_t a, int64_t b) {
    return ShapedType::isDynamic(a) || ShapedType::isDynamic(b)
               ? ShapedType::kDynamic
               : a + b;
  };
  int64_t len = add(pastKey.getDimSize(2), k.getDimSize(2));
  types.push_back(RankedTensorType::get(
      {k.getDimSize(0), k.getDimSize(1), len, k.getDimSize(3)},
      k.getElementType()));
  types.push_back(RankedTensorType::get(
      {v.getDimSize(0), v.getDimSize(1), len, v.getDimSize(3)},
      v.getElementType()));
  return types;
}

LogicalResult AttentionOp::verify() {
  ShapeDiag diag{getLoc(), getOperationName()};
  RankedTensorType q = getQuery().getType(), k = getKey().getType(),
                   v = getValue().getType();
  for (auto [t, name] : {std::pair{q, "query"}, {k, "key"}, {v, "value"}})
    if (t.getRank() != 4)
      return diag.error(name, " must be [batch, heads, seq, head_dim], got rank ",
                        t.getRank(), " (", t, ")");
  if (failed(checkSameElementType(diag, {q, k, v}, {"query", "key", "value"})))
    return failure();
  auto dim = [](RankedTensorType t, int i) { return t.getDimSize(i); };
  if (!dimsCompatible(dim(q, 0), dim(k, 0)) || !dimsCompatible(dim(k, 0), dim(v, 0)))
    return diag.error("batch sizes differ: query ", dim(q, 0), ", key ",
                      dim(k, 0), ", value ", dim(v, 0));
  if (!dimsCompatible(dim(k, 1), dim(v, 1)))
    return diag.error("key has ", dim(k, 1), " heads but value has ", dim(v, 1));
  int64_t hq = dim(q, 1), hkv = dim(k, 1);
  if (!ShapedType::isDynamic(hq) && !ShapedType::isDynamic(hkv) && hq % hkv)
    return diag.error("query heads (", hq,
                      ") must be a multiple of key/value heads (", hkv, ")");
  if (!dimsCompatible(dim(q, 3), dim(k, 3)))
    return diag.error("query head_dim ", dim(q, 3), " differs from key head_dim ",
                      dim(k, 3));
  if (!dimsCompatible(dim(k, 2), dim(v, 2)))
    return diag.error("key has ", dim(k, 2), " positions but value has ",
                      dim(v, 2));
  if (std::optional<APFloat> s = getScale(); s && !(s->convertToFloat() > 0.0f))
    return diag.error("scale must be positive, got ", s->convertToFloat());
  if (std::optional<APFloat> c = getSoftcap(); c && !(c->convertToFloat() > 0.0f))
    return diag.error("softcap must be positive (leave it out for none), got ",
                      c->convertToFloat());

  // Keys attended to: the cache (if any) followed by the new keys.
  int64_t kvLen = dim(k, 2);
  bool hasPast = (bool)getPastKey();
  if (hasPast != (bool)getPastValue())
    return diag.error("past_key and past_value must be given together");
  if (hasPast) {
    RankedTensorType pk = getPastKey().getType(), pv = getPastValue().getType();
    if (pk.getRank() != 4 || pv.getRank() != 4)
      return diag.error("past_key/past_value must be [batch, kv_heads, past, "
                        "head_dim]");
    if (failed(checkSameElementType(diag, {q, pk, pv},
                                    {"query", "past_key", "past_value"})))
      return failure();
    for (int i : {0, 1, 3}) {
      if (!dimsCompatible(dim(pk, i), dim(k, i)))
        return diag.error("past_key ", pk, " does not match key ", k,
                          " outside the sequence dimension");
      if (!dimsCompatible(dim(pv, i), dim(v, i)))
        return diag.error("past_value ", pv, " does not match value ", v,
                          " outside the sequence dimension");
    }
    if (!dimsCompatible(dim(pk, 2), dim(pv, 2)))
      return diag.error("past_key has ", dim(pk, 2), " positions but past_value has ",
                        dim(pv, 2));
    kvLen = (ShapedType::isDynamic(kvLen) || ShapedType::isDynamic(dim(pk, 2)))
                ? ShapedType::kDynamic
                : kvLen + dim(pk, 2);
  }

  if (Value mask = getMask()) {
    auto m = cast<RankedTensorType>(mask.getType());
    if (!isFloat(m.getElementType()) && !isBool(m.getElementType()))
      return diag.error("mask must be a float (additive) or i1 (keep) tensor, "
                        "got element type ",
                        m.getElementType());
    SmallVector<int64_t> scores = {dim(q, 0), hq, dim(q, 2), kvLen};
    if (failed(checkBroadcastsTo(diag, m.getShape(), scores, "mask",
                                 "the scores [batch, q_heads, q_len, kv_len]")))
      return failure();
  }

  // Results: [B, Hq, Sq, Dv], then the present cache when a past was given.
  size_t want = hasPast ? 2 : 0;
  if (getPresent().size() != want)
    return diag.error("expected ", want, " present results (", hasPast ? "with" : "without",
                      " a past cache), got ", getPresent().size());
  SmallVector<RankedTensorType> expected = inferResultTypes();
  for (auto [i, r] : llvm::enumerate(getResults())) {
    auto got = cast<RankedTensorType>(r.getType());
    bool ok = got.getRank() == expected[i].getRank() &&
              got.getElementType() == expected[i].getElementType();
    for (int64_t d = 0; ok && d < got.getRank(); ++d)
      ok = dimsCompatible(got.getDimSize(d), expected[i].getDimSize(d));
    if (!ok)
      return diag.error("result ", i, " has type ", got, ", expected ",
                        expected[i]);
  }
  return success();
}

LogicalResult MoeOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(MoeOp);
  KILN_RANKED(x, adaptor.getHidden(), "hidden");
  KILN_RANKED(router, adaptor.getRouterWeight(), "router_weight");
  KILN_RANKED(gate, adaptor.getGateWeight(), "gate_weight");
  KILN_RANKED(up, adaptor.getUpWeight(), "up_weight");
  KILN_RANKED(down, adaptor.getDownWeight(), "down_weight");
  KILN_RANKED(bias, adaptor.getScoreBias(), "score_bias");
  KILN_RANKED(sg, adaptor.getSharedGate(), "shared_gate");
  KILN_RANKED(su, adaptor.getSharedUp(), "shared_up");
  KILN_RANKED(sd, adaptor.getSharedDown(), "shared_down");
  KILN_RANKED(seg, adaptor.getSharedExpertGate(), "shared_expert_gate");

  if (x.getRank() < 2)
    return diag.error("hidden must be [tokens..., hidden_size], got ", x);
  int64_t h = x.getShape().back();
  if (router.getRank() != 2)
    return diag.error("router_weight must be [hidden_size, num_experts], got ", router);
  int64_t e = router.getDimSize(1);
  if (!dimsCompatible(router.getDimSize(0), h))
    return diag.error("router_weight has ", router.getDimSize(0),
                      " input features, hidden has ", h);
  auto check3 = [&](RankedTensorType t, StringRef name, int64_t d1,
                    int64_t d2) -> LogicalResult {
    if (t.getRank() != 3)
      return diag.error(name, " must be stacked [num_experts, ., .], got ", t);
    if (!dimsCompatible(t.getDimSize(0), e))
      return diag.error(name, " has ", t.getDimSize(0),
                        " experts, router_weight has ", e);
    if (!dimsCompatible(t.getDimSize(1), d1) || !dimsCompatible(t.getDimSize(2), d2))
      return diag.error(name, " has shape ", shapeToString(t.getShape()),
                        ", expected [", e, ", ", d1, ", ", d2, "]");
    return success();
  };
  int64_t inter = gate.getRank() == 3 ? gate.getDimSize(2) : ShapedType::kDynamic;
  if (failed(check3(gate, "gate_weight", h, inter)) ||
      failed(check3(up, "up_weight", h, inter)) ||
      failed(check3(down, "down_weight", inter, h)))
    return failure();
  // The experts share one element type: the hidden state's, or f16/bf16
  // under an f32 hidden state (half weights widened as they are read).
  if (failed(checkSameElementType(diag, {x, router}, {"hidden", "router_weight"})) ||
      failed(checkSameElementType(diag, {gate, up, down},
                                  {"gate_weight", "up_weight", "down_weight"})))
    return failure();
  Type xe = x.getElementType(), we = gate.getElementType();
  if (we != xe && !(xe.isF32() && (we.isF16() || we.isBF16())))
    return diag.error("expert weights have element type ", we, ", expected ", xe,
                      " (the hidden state's) or f16/bf16 under an f32 hidden state");
  if (bias && (bias.getRank() != 1 || !dimsCompatible(bias.getDimSize(0), e)))
    return diag.error("score_bias must be [num_experts] = [", e, "], got ", bias);

  int64_t topK = adaptor.getTopK(), nGroup = adaptor.getNGroup(),
          topkGroup = adaptor.getTopkGroup();
  if (!ShapedType::isDynamic(e)) {
    if (topK > e)
      return diag.error("top_k = ", topK, " exceeds the number of experts ", e);
    if (e % nGroup)
      return diag.error("n_group = ", nGroup, " does not divide the number of "
                        "experts ", e);
    if (topkGroup > nGroup)
      return diag.error("topk_group = ", topkGroup, " exceeds n_group = ", nGroup);
    if (topK > topkGroup * (e / nGroup))
      return diag.error("top_k = ", topK, " exceeds the ", topkGroup * (e / nGroup),
                        " experts in the ", topkGroup, " selected groups");
  }
  if (sg || su || sd) {
    if (!sg || !su || !sd)
      return diag.error("shared experts need shared_gate, shared_up and shared_down");
    if (sg.getRank() != 2 || su.getRank() != 2 || sd.getRank() != 2)
      return diag.error("shared expert weights must be 2-D");
    int64_t is = sg.getDimSize(1);
    if (!dimsCompatible(sg.getDimSize(0), h) || !dimsCompatible(su.getDimSize(0), h) ||
        !dimsCompatible(su.getDimSize(1), is) || !dimsCompatible(sd.getDimSize(0), is) ||
        !dimsCompatible(sd.getDimSize(1), h))
      return diag.error("shared expert weights ", sg, ", ", su, ", ", sd,
                        " do not form [H, I], [H, I], [I, H] with H = ", h);
  }
  if (seg) {
    if (!sg)
      return diag.error("shared_expert_gate needs shared experts");
    if (seg.getRank() != 2 || !dimsCompatible(seg.getDimSize(0), h) ||
        !dimsCompatible(seg.getDimSize(1), 1))
      return diag.error("shared_expert_gate must be [", h, ", 1], got ", seg);
  }
  inferred.push_back(x);
  return success();
}

Value GatedMlpOp::buildDecomposition(OpBuilder &b) {
  Location loc = getLoc();
  UnaryKind kind = UnaryKind::silu;
  switch (getActivation()) {
  case Activation::silu:
    kind = UnaryKind::silu;
    break;
  case Activation::gelu:
    kind = UnaryKind::gelu;
    break;
  case Activation::gelu_tanh:
    kind = UnaryKind::gelu_tanh;
    break;
  case Activation::relu:
    kind = UnaryKind::relu;
    break;
  }
  Value x = getInput();
  Value g = UnaryOp::create(b, loc, kind, MatmulOp::create(b, loc, x, getGateWeight()));
  Value h = BinaryOp::create(b, loc, BinaryKind::mul, g, MatmulOp::create(b, loc, x, getUpWeight()));
  return MatmulOp::create(b, loc, h, getDownWeight());
}

LogicalResult GatedMlpOp::inferReturnTypes(MLIRContext *, std::optional<Location> location,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &inferred) {
  KILN_DIAG(GatedMlpOp);
  KILN_RANKED(x, adaptor.getInput(), "input");
  KILN_RANKED(g, adaptor.getGateWeight(), "gate_weight");
  KILN_RANKED(u, adaptor.getUpWeight(), "up_weight");
  KILN_RANKED(d, adaptor.getDownWeight(), "down_weight");
  if (x.getRank() < 1 || g.getRank() != 2 || u.getRank() != 2 || d.getRank() != 2)
    return diag.error("expects input [..., H] and 2-D weights");
  if (failed(checkSameElementType(
          diag, {x, g, u, d},
          {"input", "gate_weight", "up_weight", "down_weight"})))
    return failure();
  int64_t h = x.getShape().back();
  if (!dimsCompatible(g.getDimSize(0), h) || !dimsCompatible(u.getDimSize(0), h))
    return diag.error("gate_weight ", g, " and up_weight ", u,
                      " must have ", h, " rows (the input features)");
  if (!dimsCompatible(g.getDimSize(1), u.getDimSize(1)) ||
      !dimsCompatible(d.getDimSize(0), g.getDimSize(1)))
    return diag.error("intermediate sizes differ: gate ", g.getDimSize(1), ", up ",
                      u.getDimSize(1), ", down ", d.getDimSize(0));
  SmallVector<int64_t> shape(x.getShape());
  shape.back() = d.getDimSize(1);
  return pushTensor(inferred, shape, x.getElementType());
}

#define GET_OP_CLASSES
#include "dialects/kiln/IR/KilnOps.cpp.inc"

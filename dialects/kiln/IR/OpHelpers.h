//===- OpHelpers.h - shared pieces of the kiln op implementations -*- C++ -*-===//
//
// Internal to dialects/kiln/IR: helpers the op files share to write
// inferReturnTypes and verifiers.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_IR_OPHELPERS_H
#define KILN_DIALECTS_KILN_IR_OPHELPERS_H

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/IR/TypeInference.h"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace kiln::detail {
using namespace mlir;

/// The ranked tensor type of `v`, or an error naming the operand.
inline FailureOr<RankedTensorType> ranked(const ShapeDiag &diag, Value v,
                                   StringRef name) {
  if (!v)
    return RankedTensorType();
  if (auto t = dyn_cast<RankedTensorType>(v.getType()))
    return t;
  return diag.error(name, " must be a ranked tensor, got ", v.getType());
}

/// The length of a 1-d operand (dynamic or static), or an error naming it:
/// inference runs before the verifier checks operand constraints.
inline FailureOr<int64_t> vectorLength(const ShapeDiag &diag, Value v,
                                       StringRef name) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || t.getRank() != 1)
    return diag.error(name, " must be a 1-d tensor, got ", v.getType());
  return t.getDimSize(0);
}

inline bool isFloat(Type t) { return isa<FloatType>(t); }
inline bool isBool(Type t) { return t.isInteger(1); }
inline bool isInt(Type t) { return isa<IntegerType>(t) && !t.isInteger(1); }

inline LogicalResult pushTensor(SmallVectorImpl<Type> &out, ArrayRef<int64_t> shape,
                         Type elt) {
  out.push_back(RankedTensorType::get(shape, elt));
  return success();
}
/// The interface's inferReturnTypes, forwarded to the op's adaptor overload.
/// While parsing, inherent attributes still sit in `attrs` rather than in
/// the properties (which may hold only operand segment sizes), and default
/// values are not filled in yet: do both here.
template <typename OpT>
LogicalResult inferFromParts(MLIRContext *ctx,
                                    std::optional<Location> loc,
                                    ValueRange operands, DictionaryAttr attrs,
                                    OpaqueProperties props, RegionRange regions,
                                    SmallVectorImpl<Type> &out) {
  typename OpT::Properties merged;
  if (props)
    merged = *props.as<typename OpT::Properties *>();
  if (attrs)
    for (NamedAttribute a : attrs)
      OpT::setInherentAttr(merged, a.getName().getValue(), a.getValue());
  OpT::populateDefaultProperties(OperationName(OpT::getOperationName(), ctx),
                                 merged);
  typename OpT::Adaptor adaptor(operands, attrs, OpaqueProperties(&merged),
                                regions);
  return OpT::inferReturnTypes(ctx, loc, adaptor, out);
}

} // namespace kiln::detail

/// Defines OP's InferTypeOpInterface method on top of its adaptor overload.
#define KILN_INFER_VIA_ADAPTOR(OP)                                             \
  LogicalResult OP::inferReturnTypes(                                          \
      MLIRContext *ctx, std::optional<Location> loc, ValueRange operands,      \
      DictionaryAttr attrs, OpaqueProperties props, RegionRange regions,       \
      SmallVectorImpl<Type> &out) {                                            \
    return ::kiln::detail::inferFromParts<OP>(ctx, loc, operands, attrs, props, regions, out); \
  }

#define KILN_DIAG(OP) ShapeDiag diag{location, OP::getOperationName()}
#define KILN_RANKED(VAR, VALUE, NAME)                                          \
  FailureOr<RankedTensorType> VAR##OrErr = ranked(diag, VALUE, NAME);          \
  if (failed(VAR##OrErr))                                                      \
    return failure();                                                          \
  RankedTensorType VAR = *VAR##OrErr;


#endif // KILN_DIALECTS_KILN_IR_OPHELPERS_H

//===- KilnTypes.td - kiln dialect types -------------------*- tablegen -*-===//
//
// Value kinds besides tensors that ONNX models carry: sequences of tensors,
// optional values, and string tensor elements.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TYPES_TD
#define KILN_TYPES_TD

include "dialects/kiln/IR/KilnBase.td"

class Kiln_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Kiln_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def Kiln_SequenceType : Kiln_Type<"Sequence", "seq"> {
  let summary = "an ordered list of tensors";
  let description = [{
    All elements share `elementType`'s element type; their shapes are
    compatible with it (a dynamic or unranked `elementType` admits tensors
    of different extents or ranks).
  }];
  let parameters = (ins "::mlir::TensorType":$elementType);
  let assemblyFormat = "`<` $elementType `>`";
}

def Kiln_OptionalType : Kiln_Type<"Optional", "optional"> {
  let summary = "a value (tensor or sequence) that may be absent";
  let parameters = (ins "::mlir::Type":$valueType);
  let assemblyFormat = "`<` $valueType `>`";
}

def Kiln_StringType : Kiln_Type<"String", "string"> {
  let summary = "a byte string, the element type of ONNX STRING tensors";
}

#endif // KILN_TYPES_TD

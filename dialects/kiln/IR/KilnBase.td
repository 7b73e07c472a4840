//===- KilnBase.td - kiln dialect definition ---------------*- tablegen -*-===//
//
// The dialect itself and the base class every kiln op derives from.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_BASE_TD
#define KILN_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Kiln_Dialect : Dialect {
  let name = "kiln";
  let cppNamespace = "::kiln";
  let summary = "Value-semantics tensor ops for whole-model compilation";
  let description = [{
    The `kiln` dialect holds models as frontends import them: tensor ops at
    ONNX granularity (matmul, elementwise math, softmax, reductions, shape
    manipulation, norms) plus the fused ops Kiln exists to generate good code
    for: `kiln.attention`, `kiln.moe`, `kiln.rms_norm`, `kiln.rope` and
    `kiln.gated_mlp`.

    All ops have value semantics on ranked tensors. Dynamic dimensions (`?`)
    are allowed everywhere unless an op says otherwise; result types are
    inferred from operand types so that specializing an input shape and
    re-running inference propagates static shapes through the graph.

    Elementwise math is grouped by category (`kiln.unary`, `kiln.binary`,
    `kiln.compare`) with an enum naming the function: a frontend maps ops to
    kinds with a table, and a lowering handles a category in one pattern.

    Weights are never copied into IR: `kiln.weight` names a file, a byte offset
    and a tensor type, and the compiler memory-maps the file when it needs the
    data. Small constants use `arith.constant`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

class Kiln_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kiln_Dialect, mnemonic, traits>;

#endif // KILN_BASE_TD

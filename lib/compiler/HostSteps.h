//===- HostSteps.h - string ops taken out of @main for the runtime -*- C++ -*-===//
//
// Generated kernels work on numbers. Ops on strings (ONNX StringNormalizer,
// Cast to and from STRING) become host steps the runtime carries out itself
// before the plan; they are removed from @main together with the string
// inputs and the outputs they write, so code generation never sees a
// string.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_COMPILER_HOSTSTEPS_H
#define KILN_LIB_COMPILER_HOSTSTEPS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <string>
#include <vector>

namespace kiln::compiler {

struct HostStep {
  /// A model input or output, or a host value the runtime keeps.
  struct Ref {
    enum Kind { Input, Output, Value } kind;
    uint32_t index;
  };
  std::string op;                  // the kiln op's name ("kiln.string_normalize")
  mlir::DictionaryAttr attributes; // its attributes
  std::vector<mlir::Type> resultElementTypes;
  std::string name;                // the node it came from, for messages
  std::vector<Ref> inputs, outputs;
};

struct HostPlan {
  std::vector<HostStep> steps;
  uint32_t values = 0;
  /// For each argument / result @main keeps: the model input / output it is.
  std::vector<uint32_t> kernelInputs, kernelOutputs;
};

/// Moves every string op (kiln.string_normalize, kiln.cast to or from
/// strings) of `main` into `plan` (model inputs and outputs
/// numbered as `main`'s arguments and results were). Errors at an op on
/// strings the runtime cannot carry out, or one that mixes strings and
/// numbers.
mlir::LogicalResult extractHostSteps(mlir::func::FuncOp main, HostPlan &plan);

} // namespace kiln::compiler

#endif // KILN_LIB_COMPILER_HOSTSTEPS_H

//===- Passes.h - CPU code-generation passes ----------------------*- C++ -*-===//

#ifndef KILN_TARGETS_CPU_PASSES_H
#define KILN_TARGETS_CPU_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace kiln {

#define GEN_PASS_DECL
#include "targets/cpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "targets/cpu/Passes.h.inc"

} // namespace kiln

#endif // KILN_TARGETS_CPU_PASSES_H

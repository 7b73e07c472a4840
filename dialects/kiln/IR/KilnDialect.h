//===- KilnDialect.h - kiln dialect -------------------------------*- C++ -*-===//

#ifndef KILN_DIALECTS_KILN_IR_KILNDIALECT_H
#define KILN_DIALECTS_KILN_IR_KILNDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"

#include "dialects/kiln/IR/KilnDialect.h.inc"
#include "dialects/kiln/IR/KilnEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/kiln/IR/KilnAttrs.h.inc"
#define GET_TYPEDEF_CLASSES
#include "dialects/kiln/IR/KilnTypes.h.inc"

#endif // KILN_DIALECTS_KILN_IR_KILNDIALECT_H

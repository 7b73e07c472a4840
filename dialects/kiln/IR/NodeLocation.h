//===- NodeLocation.h - the ONNX node an op came from, for messages -*- C++ -*-===//
//
// The importer gives each op the location NameLoc(node name, NameLoc(op
// type)); fusion joins such locations in a FusedLoc, the node it ends at
// last.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_IR_NODELOCATION_H
#define KILN_DIALECTS_KILN_IR_NODELOCATION_H

#include "mlir/IR/Location.h"
#include "mlir/IR/Operation.h"

#include <string>

namespace kiln {

/// "node 'name' (Op)" for an imported node, "'name'" for another named
/// location, "" for any other.
inline std::string describeNode(mlir::Location loc) {
  if (auto fused = mlir::dyn_cast<mlir::FusedLoc>(loc)) {
    for (mlir::Location part : llvm::reverse(fused.getLocations()))
      if (std::string s = describeNode(part); !s.empty())
        return s;
    return "";
  }
  auto name = mlir::dyn_cast<mlir::NameLoc>(loc);
  if (!name)
    return "";
  if (auto kind = mlir::dyn_cast<mlir::NameLoc>(name.getChildLoc()))
    return "node '" + name.getName().str() + "' (" + kind.getName().str() + ")";
  return "'" + name.getName().str() + "'";
}

/// The node `op` came from, or the op's own name.
inline std::string describeNode(mlir::Operation *op) {
  std::string s = describeNode(op->getLoc());
  return s.empty() ? "'" + op->getName().getStringRef().str() + "'" : s;
}

} // namespace kiln

#endif // KILN_DIALECTS_KILN_IR_NODELOCATION_H

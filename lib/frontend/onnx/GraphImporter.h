//===- GraphImporter.h - state of one graph import ----------------*- C++ -*-===//

#ifndef KILN_LIB_FRONTEND_ONNX_GRAPHIMPORTER_H
#define KILN_LIB_FRONTEND_ONNX_GRAPHIMPORTER_H

#include "lib/frontend/onnx/Importer.h"
#include "lib/frontend/onnx/NodeImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "lib/support/DataFile.h"

namespace onnx {
class GraphProto;
class TypeProto;
} // namespace onnx

namespace kiln::onnx_frontend {

/// Converts ONNX element type codes to MLIR types (null when unsupported).
mlir::Type convertElementType(mlir::MLIRContext *ctx, int32_t onnxType);
/// The ONNX name of an element type code, for messages.
llvm::StringRef onnxTypeName(int32_t onnxType);

class GraphImporter {
public:
  GraphImporter(mlir::MLIRContext &ctx, const LoadedModel &model,
                const ImportOptions &options);

  mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>> run();

  //===--- used by NodeImporter --------------------------------------------===//
  mlir::MLIRContext &ctx;
  const LoadedModel &model;
  const ImportOptions &options;
  mlir::OpBuilder builder;
  llvm::StringMap<mlir::Value> values;
  llvm::StringMap<const onnx::TypeProto *> declaredTypes;

  /// A tensor (initializer or attribute) as a constant or weight reference.
  mlir::FailureOr<mlir::Value> importTensor(const onnx::TensorProto &tensor,
                                            mlir::Location loc);
  /// Imports a subgraph (an If branch, a Loop body) in place: binds its
  /// inputs to `inputs`, imports its initializers and nodes into the
  /// current block, and returns the values of its outputs. Outer values
  /// stay visible, as ONNX scoping requires.
  mlir::FailureOr<llvm::SmallVector<mlir::Value>>
  importSubgraph(const onnx::GraphProto &graph, mlir::ValueRange inputs,
                 mlir::Location loc);

  /// ONNX TypeProto -> ranked tensor, !kiln.seq or !kiln.optional type, or
  /// an error naming `what`. Tensors without a shape are an error unless
  /// `allowUnranked` (sequence elements, optional values).
  mlir::FailureOr<mlir::Type> convertType(const onnx::TypeProto &type,
                                          const llvm::Twine &what,
                                          mlir::Location loc,
                                          bool allowUnranked = false);

private:
  /// Bytes [offset, offset + length) of `file` (relative to the model dir,
  /// confined to it); `resolved` is the file's real path.
  mlir::FailureOr<llvm::StringRef> readExternal(llvm::StringRef file,
                                                uint64_t offset,
                                                uint64_t length,
                                                mlir::Location loc,
                                                std::string *resolved = nullptr);
  mlir::LogicalResult importNodes(const onnx::GraphProto &graph);
  int subgraphDepth = 0;

  llvm::StringMap<DataFile> files;
};

} // namespace kiln::onnx_frontend

#endif // KILN_LIB_FRONTEND_ONNX_GRAPHIMPORTER_H

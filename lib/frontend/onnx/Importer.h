//===- Importer.h - ONNX graph to kiln IR -------------------------*- C++ -*-===//

#ifndef KILN_LIB_FRONTEND_ONNX_IMPORTER_H
#define KILN_LIB_FRONTEND_ONNX_IMPORTER_H

#include "lib/frontend/onnx/ModelLoader.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace kiln::onnx_frontend {

struct ImportOptions {
  /// Tensors with at most this many elements become arith.constant (so shape
  /// computations fold); larger ones are kiln.weight references.
  int64_t inlineConstantElements = 64;
  /// Folders besides the model's own that external data may be read from
  /// (`--allow-data-dir`); anything else outside the model's folder is
  /// refused.
  std::vector<std::string> allowedDataDirs;
};

/// Imports a loaded model as a module with one function `@main`, whose
/// arguments carry the ONNX input names as `kiln.name`. Every op's location
/// names the ONNX node and op type. On failure the diagnostics have been
/// emitted (all unsupported ops at once, or the first invalid node).
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
importModel(mlir::MLIRContext &context, const LoadedModel &model,
            const ImportOptions &options = {});

/// Decodes a serialized ONNX TensorProto (a test case's input_0.pb, say);
/// errors are reported at `loc`, which should name the file. STRING
/// tensors come back as a DenseStringElementsAttr.
mlir::FailureOr<mlir::DenseElementsAttr>
readTensorProto(mlir::MLIRContext &context, llvm::StringRef bytes, mlir::Location loc);

/// Load options that expand exactly the function ops the importer lacks.
LoadOptions importerLoadOptions();

/// Registers the dialects the importer produces.
void registerImporterDialects(mlir::DialectRegistry &registry);

} // namespace kiln::onnx_frontend

#endif // KILN_LIB_FRONTEND_ONNX_IMPORTER_H

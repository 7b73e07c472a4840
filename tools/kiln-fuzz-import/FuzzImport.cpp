//===- FuzzImport.cpp - libFuzzer target for the ONNX frontend ------------===//
//
// Feeds arbitrary bytes through the loader (wire-format rewrite, protobuf
// parse, ONNX checker and shape inference) and the importer. Any crash,
// hang or sanitizer report is a bug; a clean error is the expected outcome
// for almost every input. Built by scripts/fuzz.sh (KILN_ENABLE_FUZZERS).
//
//===----------------------------------------------------------------------===//

#include "lib/frontend/onnx/Importer.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace kiln::onnx_frontend;
  static mlir::DialectRegistry registry = [] {
    mlir::DialectRegistry r;
    registerImporterDialects(r);
    return r;
  }();
  // External data lookups go to a folder that does not exist.
  llvm::Expected<LoadedModel> model = loadModelFromBuffer(
      llvm::StringRef(reinterpret_cast<const char *>(data), size),
      "/nonexistent-kiln-fuzz/model.onnx", importerLoadOptions());
  if (!model) {
    llvm::consumeError(model.takeError());
    return 0;
  }
  mlir::MLIRContext ctx(registry);
  mlir::ScopedDiagnosticHandler quiet(&ctx, [](mlir::Diagnostic &) {
    return mlir::success();
  });
  auto module = importModel(ctx, *model);
  // What the importer accepts must be valid IR.
  if (mlir::succeeded(module) && mlir::failed(mlir::verify(**module)))
    __builtin_trap();
  return 0;
}

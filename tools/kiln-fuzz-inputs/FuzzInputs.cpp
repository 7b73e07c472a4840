//===- FuzzInputs.cpp - libFuzzer target for kiln run's input readers -----===//
//
// Feeds arbitrary bytes to the two readers of user input files: the .npy
// reader (as a file, as kiln run reads it) and the ONNX TensorProto (.pb)
// decoder. A clean error is the expected outcome; a crash, a sanitizer
// report or an allocation past -rss_limit_mb is a bug. Built by
// scripts/fuzz.sh (KILN_ENABLE_FUZZERS).
//
//===----------------------------------------------------------------------===//

#include "lib/frontend/onnx/Importer.h"
#include "tools/FuzzInputFile.h"
#include "tools/kiln/Npy.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string path = kiln::writeFuzzInput("inputs", data, size);
  if (path.empty())
    return 0;
  kiln::cli::NpyArray array;
  std::string error;
  if (kiln::cli::readNpy(path, array, error))
    array.pointAtStrings();

  static mlir::MLIRContext *ctx = [] {
    auto *c = new mlir::MLIRContext();
    c->getDiagEngine().registerHandler([](mlir::Diagnostic &) { return mlir::success(); });
    return c;
  }();
  (void)kiln::onnx_frontend::readTensorProto(
      *ctx, llvm::StringRef(reinterpret_cast<const char *>(data), size),
      mlir::UnknownLoc::get(ctx));
  return 0;
}

//===- Commands.h - kiln subcommands ------------------------------*- C++ -*-===//

#ifndef KILN_TOOLS_KILN_COMMANDS_H
#define KILN_TOOLS_KILN_COMMANDS_H

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/CommandLine.h"

namespace kiln::onnx_frontend {
struct LoadOptions;
} // namespace kiln::onnx_frontend

namespace kiln::cli {

/// Exit codes (all below 124, as the CLI contract requires).
enum ExitCode : int {
  kOk = 0,
  kUsage = 1,        // bad command line
  kBadInput = 2,     // unreadable, malformed or inconsistent input file
  kUnsupported = 3,  // valid input kiln cannot handle (yet)
  kCompileError = 4, // the model failed a compiler check (shapes, types)
  kIOError = 5,      // cannot write the output
};

extern llvm::cl::SubCommand importCommand, compileCommand, runCommand, benchCommand,
    inspectCommand;
int runImport();
int runCompile();
int runRun();
int runBench();
int runInspect();

/// Adds `--input-shape` entries (NAME=DIMS) and `--dim` entries (NAME=N)
/// to `load`, so the ONNX loader fixes those input types before shape
/// inference; false (after printing the error) when an entry is malformed.
bool addShapeOptions(llvm::ArrayRef<std::string> inputShapes, llvm::ArrayRef<std::string> dims,
                     onnx_frontend::LoadOptions &load);

/// Prints MLIR diagnostics as "kiln: error: node 'n' (Op): message".
class CliDiagnostics {
public:
  explicit CliDiagnostics(mlir::MLIRContext &ctx);
  ~CliDiagnostics();

private:
  mlir::MLIRContext &ctx;
  mlir::DiagnosticEngine::HandlerID id;
};

} // namespace kiln::cli

#endif // KILN_TOOLS_KILN_COMMANDS_H

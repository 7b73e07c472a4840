//===- kiln.cpp - the kiln command-line driver ----------------------------===//
//
// kiln import|compile|run|bench|inspect; each subcommand lives in its own
// file and returns an ExitCode.
//
//===----------------------------------------------------------------------===//

#include "tools/kiln/Commands.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <csignal>

using namespace mlir;

namespace kiln::cli {

/// "node 'name' (Op)" for importer locations, the file for others.
static void describe(Location loc, llvm::raw_ostream &os) {
  // A fused op: the node it ends at (fusion lists it last).
  if (auto fused = dyn_cast<FusedLoc>(loc)) {
    for (Location part : llvm::reverse(fused.getLocations()))
      if (isa<NameLoc>(part))
        return describe(part, os);
    return;
  }
  if (auto name = dyn_cast<NameLoc>(loc)) {
    if (auto op = dyn_cast<NameLoc>(name.getChildLoc())) {
      os << "node '" << name.getName().getValue() << "' ("
         << op.getName().getValue() << "): ";
      return;
    }
    os << "'" << name.getName().getValue() << "': ";
    return;
  }
  if (auto file = dyn_cast<FileLineColLoc>(loc)) {
    os << file.getFilename().getValue();
    if (file.getLine())
      os << ":" << file.getLine() << ":" << file.getColumn();
    os << ": ";
  }
}

CliDiagnostics::CliDiagnostics(MLIRContext &ctx) : ctx(ctx) {
  id = ctx.getDiagEngine().registerHandler([](Diagnostic &d) {
    auto &os = llvm::errs();
    os << "kiln: ";
    switch (d.getSeverity()) {
    case DiagnosticSeverity::Error: os << "error: "; break;
    case DiagnosticSeverity::Warning: os << "warning: "; break;
    case DiagnosticSeverity::Note: os << "note: "; break;
    case DiagnosticSeverity::Remark: os << "remark: "; break;
    }
    // The importer's own messages already name the node.
    std::string msg = d.str();
    if (!StringRef(msg).starts_with("node '"))
      describe(d.getLocation(), os);
    os << msg << "\n";
    for (Diagnostic &note : d.getNotes()) {
      os << "kiln: note: ";
      describe(note.getLocation(), os);
      os << note.str() << "\n";
    }
    return success();
  });
}

CliDiagnostics::~CliDiagnostics() { ctx.getDiagEngine().eraseHandler(id); }

} // namespace kiln::cli

/// `kiln --help` lists Kiln's commands, not the ~370 options every LLVM
/// library registers (still accepted, and listed by --help-hidden).
static void hideLibraryOptions() {
  for (auto &entry : llvm::cl::getRegisteredOptions(llvm::cl::SubCommand::getTopLevel())) {
    llvm::StringRef name = entry.first;
    if (name != "help" && name != "help-list" && name != "version")
      entry.second->setHiddenFlag(llvm::cl::Hidden);
  }
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Over a file-size limit, write() reports EFBIG (a clean "File too large"
  // error, the temporary removed) instead of the signal killing kiln.
  ::signal(SIGXFSZ, SIG_IGN);
  hideLibraryOptions();
  llvm::cl::ParseCommandLineOptions(
      argc, argv,
      "Kiln: an ahead-of-time compiler for neural-network models\n\n"
      "  kiln import MODEL.onnx [-o OUT.mlir] [--input-shape NAME=2x32x128]\n"
      "              [--dim NAME=N] [--allow-data-dir DIR]\n"
      "  kiln compile MODEL.onnx|MODEL.mlir -o OUT.kiln [--target=cpu|cuda:sm_XX]\n"
      "               [--emit=graph|llvm|asm|ptx [-o FILE]] [--input-shape NAME=DIMS] "
      "[--verbose]\n"
      "               [--dim NAME=N] [--allow-data-dir DIR]\n"
      "  kiln run OUT.kiln --input [NAME=]FILE.npy|FILE.pb ... [--output-dir DIR] "
      "[--device cpu|cuda]\n"
      "  kiln bench OUT.kiln [--input ...] [--warmup 3] [--iterations 20] [--json]\n"
      "  kiln inspect OUT.kiln\n\n"
      "  Threads: KILN_NUM_THREADS (default: the CPUs this process may use).\n"
      "  Files: external data is read only from the model's folder (and each\n"
      "  --allow-data-dir); outputs are written through a temporary renamed into\n"
      "  place, and never over something that is not a regular file.\n");
  if (kiln::cli::importCommand)
    return kiln::cli::runImport();
  if (kiln::cli::compileCommand)
    return kiln::cli::runCompile();
  if (kiln::cli::runCommand)
    return kiln::cli::runRun();
  if (kiln::cli::benchCommand)
    return kiln::cli::runBench();
  if (kiln::cli::inspectCommand)
    return kiln::cli::runInspect();
  llvm::errs() << "kiln: error: no subcommand given (try 'kiln --help')\n";
  return kiln::cli::kUsage;
}

//===- ImportCommand.cpp - kiln import ------------------------------------===//

#include "tools/kiln/Commands.h"
#include "tools/kiln/Outputs.h"

#include "dialects/kiln/Transforms/Passes.h"
#include "lib/frontend/onnx/Importer.h"
#include "lib/frontend/onnx/ModelLoader.h"
#include "lib/support/ShapeSpec.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace kiln::cli {

cl::SubCommand importCommand("import", "Import an ONNX model as kiln IR");

bool addShapeOptions(llvm::ArrayRef<std::string> inputShapes, llvm::ArrayRef<std::string> dims,
                     onnx_frontend::LoadOptions &load) {
  for (const std::string &spec : inputShapes) {
    std::string name, error;
    llvm::SmallVector<int64_t> shape;
    if (!parseShapeSpec(spec, name, shape, error)) {
      llvm::errs() << "kiln: error: " << error << "\n";
      return false;
    }
    load.inputShapes[name].assign(shape.begin(), shape.end());
  }
  for (const std::string &spec : dims) {
    std::string name, error;
    llvm::SmallVector<int64_t> size;
    if (!parseShapeSpec(spec, name, size, error) || size.size() != 1) {
      llvm::errs() << "kiln: error: --dim '" << spec << "' is not NAME=N (a named dim and "
                   << "its size)\n";
      return false;
    }
    load.dimValues[name] = size[0];
  }
  return true;
}

static cl::opt<std::string> inputPath(cl::Positional, cl::desc("MODEL.onnx"),
                                      cl::Required, cl::sub(importCommand));
static cl::opt<std::string> outputPath("o", cl::desc("Output file (default: stdout)"),
                                       cl::value_desc("OUT.mlir"), cl::init("-"),
                                       cl::sub(importCommand));
static cl::opt<bool> debugInfo("debug-info",
                               cl::desc("Print locations (ONNX node name and op type)"),
                               cl::sub(importCommand));
static cl::list<std::string>
    inputShapes("input-shape",
                cl::desc("Fix the dynamic dims of an input: NAME=2x32x128 (repeatable)"),
                cl::value_desc("NAME=DIMS"), cl::sub(importCommand));
static cl::list<std::string>
    dimValues("dim",
              cl::desc("Fix a named dynamic dim (an ONNX dim_param such as batch or seq) in "
                       "every input that uses it: NAME=N (repeatable)"),
              cl::value_desc("NAME=N"), cl::sub(importCommand));

static cl::list<std::string>
    allowDataDirs("allow-data-dir",
                  cl::desc("Also read external data from DIR (by default only files inside "
                           "the model's folder are read) (repeatable)"),
                  cl::value_desc("DIR"), cl::sub(importCommand));

int runImport() {
  if (!checkOutputPath(outputPath))
    return kIOError;
  DialectRegistry registry;
  onnx_frontend::registerImporterDialects(registry);
  MLIRContext ctx(registry);
  CliDiagnostics diagnostics(ctx);

  onnx_frontend::LoadOptions load = onnx_frontend::importerLoadOptions();
  if (!addShapeOptions(inputShapes, dimValues, load))
    return kUsage;
  llvm::Expected<onnx_frontend::LoadedModel> model = onnx_frontend::loadModel(inputPath, load);
  if (!model) {
    llvm::errs() << "kiln: error: " << llvm::toString(model.takeError()) << "\n";
    return kBadInput;
  }
  onnx_frontend::ImportOptions importOptions;
  importOptions.allowedDataDirs.assign(allowDataDirs.begin(), allowDataDirs.end());
  FailureOr<OwningOpRef<ModuleOp>> module =
      onnx_frontend::importModel(ctx, *model, importOptions);
  if (failed(module))
    return kUnsupported;
  if (!inputShapes.empty()) {
    PassManager pm(&ctx);
    KilnSpecializeShapesOptions options;
    options.inputShapes.assign(inputShapes.begin(), inputShapes.end());
    pm.addPass(createKilnSpecializeShapes(options));
    if (failed(pm.run(**module)))
      return kCompileError;
  }
  if (failed(verify(**module)))
    return kCompileError;

  OpPrintingFlags flags;
  if (debugInfo)
    flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  return writeText(outputPath, [&](llvm::raw_ostream &os) {
    (*module)->print(os, flags);
    os << "\n";
  });
}

} // namespace kiln::cli

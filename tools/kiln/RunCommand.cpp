//===- RunCommand.cpp - kiln run ------------------------------------------===//
//
// Loads an artifact through the public C API (the same path an application
// takes), binds .npy or ONNX .pb inputs by name (NAME=FILE) or position,
// runs on the device and writes DIR/<output name>.npy.
//
//===----------------------------------------------------------------------===//

#include "tools/kiln/Commands.h"
#include "tools/kiln/Inputs.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace kiln::cli {

cl::SubCommand runCommand("run", "Run a compiled .kiln artifact");

static cl::opt<std::string> artifactPath(cl::Positional, cl::desc("ART.kiln"),
                                         cl::Required, cl::sub(runCommand));
static cl::list<std::string> inputFiles("input",
                                        cl::desc("[NAME=]FILE.npy|FILE.pb (repeatable)"),
                                        cl::sub(runCommand));
static cl::opt<std::string> outputDir("output-dir", cl::desc("Where outputs are written"),
                                      cl::init("."), cl::sub(runCommand));
static cl::opt<std::string> device("device", cl::desc("cpu or cuda"), cl::init("cpu"),
                                   cl::sub(runCommand));

int runRun() {
  HostSession host;
  if (int code = host.open(artifactPath, inputFiles, device, /*synthesize=*/false))
    return code;
  if (host.run() != KILN_OK) {
    llvm::errs() << "kiln: error: " << kiln_last_error() << "\n";
    return kBadInput;
  }
  HostTensors &outputs = host.outputs;
  std::string error;
  if (std::error_code ec = llvm::sys::fs::create_directories(outputDir)) {
    llvm::errs() << "kiln: error: cannot create '" << outputDir << "': " << ec.message() << "\n";
    return kIOError;
  }
  for (size_t i = 0; i < outputs.arrays.size(); ++i) {
    llvm::SmallString<256> path(outputDir.getValue());
    llvm::sys::path::append(path, outputs.names[i] + ".npy");
    if (!writeNpy(path.str().str(), outputs.arrays[i], error)) {
      llvm::errs() << "kiln: error: " << error << "\n";
      return kIOError;
    }
  }
  return kOk;
}

} // namespace kiln::cli

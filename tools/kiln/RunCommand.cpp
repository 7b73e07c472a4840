//===- RunCommand.cpp - kiln run ------------------------------------------===//
//
// Loads an artifact through the public C API (the same path an application
// takes), binds .npy or ONNX .pb inputs by name (NAME=FILE) or position,
// runs on the device and writes DIR/<output name>.npy (names made safe by
// outputFileNames: an output cannot name a file outside DIR).
//
//===----------------------------------------------------------------------===//

#include "tools/kiln/Commands.h"
#include "tools/kiln/Inputs.h"
#include "tools/kiln/Outputs.h"

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
static cl::opt<std::string>
    outputDir("output-dir",
              cl::desc("Where outputs are written, as DIR/NAME.npy: in NAME every character "
                       "but letters, digits, '_', '-' and '.' (and a leading '.') becomes '_', "
                       "and a repeated name gets _2, _3, ..."),
              cl::value_desc("DIR"), cl::init("."), cl::sub(runCommand));
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
  std::vector<std::string> files = outputFileNames(outputs.names);
  for (size_t i = 0; i < outputs.arrays.size(); ++i) {
    llvm::SmallString<256> path(outputDir.getValue());
    llvm::sys::path::append(path, files[i] + ".npy");
    if (!writeNpy(path.str().str(), outputs.arrays[i], error)) {
      llvm::errs() << "kiln: error: " << error << "\n";
      return kIOError;
    }
  }
  return kOk;
}

} // namespace kiln::cli

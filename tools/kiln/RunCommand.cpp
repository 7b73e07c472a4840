//===- RunCommand.cpp - kiln run ------------------------------------------===//
//
// Loads an artifact through the public C API (the same path an application
// takes), binds .npy inputs by name (NAME=FILE) or position, runs on the
// device and writes DIR/<output name>.npy.
//
//===----------------------------------------------------------------------===//

#include "tools/kiln/Commands.h"
#include "tools/kiln/Npy.h"

#include "llvm/ADT/ScopeExit.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace kiln::cli {

cl::SubCommand runCommand("run", "Run a compiled .kiln artifact");

static cl::opt<std::string> artifactPath(cl::Positional, cl::desc("ART.kiln"),
                                         cl::Required, cl::sub(runCommand));
static cl::list<std::string> inputFiles("input", cl::desc("[NAME=]FILE.npy (repeatable)"),
                                        cl::sub(runCommand));
static cl::opt<std::string> outputDir("output-dir", cl::desc("Where outputs are written"),
                                      cl::init("."), cl::sub(runCommand));
static cl::opt<std::string> device("device", cl::desc("cpu"), cl::init("cpu"),
                                   cl::sub(runCommand));

int runRun() {
  kiln_model *model = nullptr;
  if (kiln_status st = kiln_model_open(artifactPath.c_str(), &model)) {
    llvm::errs() << "kiln: error: " << kiln_last_error() << "\n";
    return st == KILN_ERROR_IO ? kBadInput : kBadInput;
  }
  auto closeModel = llvm::scope_exit([&] { kiln_model_close(model); });
  std::vector<NpyArray> arrays(inputFiles.size());
  std::vector<std::string> names(inputFiles.size());
  std::vector<kiln_tensor> inputs;
  for (size_t i = 0; i < inputFiles.size(); ++i) {
    llvm::StringRef spec = inputFiles[i];
    std::string file = spec.str();
    if (size_t eq = spec.find('='); eq != llvm::StringRef::npos) {
      names[i] = spec.take_front(eq).str();
      file = spec.drop_front(eq + 1).str();
    }
    std::string error;
    if (!readNpy(file, arrays[i], error)) {
      llvm::errs() << "kiln: error: " << error << "\n";
      return kBadInput;
    }
    inputs.push_back({names[i].empty() ? nullptr : names[i].c_str(), arrays[i].dtype,
                      (int32_t)arrays[i].shape.size(), arrays[i].shape.data(),
                      arrays[i].data.data()});
  }
  size_t nout = kiln_model_num_outputs(model);
  std::vector<NpyArray> results(nout);
  std::vector<kiln_tensor> outputs(nout);
  for (size_t i = 0; i < nout; ++i) {
    kiln_model_output(model, i, &outputs[i]);
    results[i].dtype = outputs[i].dtype;
    results[i].shape.assign(outputs[i].shape, outputs[i].shape + outputs[i].rank);
    size_t n = kiln_dtype_size(outputs[i].dtype);
    for (int64_t d : results[i].shape)
      n *= (size_t)d;
    results[i].data.resize(n);
    outputs[i].data = results[i].data.data();
  }
  kiln_session *session = nullptr;
  if (kiln_session_create(model, device.c_str(), &session) != KILN_OK) {
    llvm::errs() << "kiln: error: " << kiln_last_error() << "\n";
    return kUnsupported;
  }
  auto destroy = llvm::scope_exit([&] { kiln_session_destroy(session); });
  if (kiln_session_run(session, inputs.data(), inputs.size(), outputs.data(), nout) !=
      KILN_OK) {
    llvm::errs() << "kiln: error: " << kiln_last_error() << "\n";
    return kBadInput;
  }
  if (std::error_code ec = llvm::sys::fs::create_directories(outputDir)) {
    llvm::errs() << "kiln: error: cannot create '" << outputDir << "': " << ec.message() << "\n";
    return kIOError;
  }
  for (size_t i = 0; i < nout; ++i) {
    llvm::SmallString<256> path(outputDir.getValue());
    llvm::sys::path::append(path, std::string(outputs[i].name) + ".npy");
    std::string error;
    if (!writeNpy(path.str().str(), results[i], error)) {
      llvm::errs() << "kiln: error: " << error << "\n";
      return kIOError;
    }
  }
  return kOk;
}

} // namespace kiln::cli

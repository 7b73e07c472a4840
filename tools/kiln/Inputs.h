//===- Inputs.h - tensors for kiln run and kiln bench -------------*- C++ -*-===//

#ifndef KILN_TOOLS_KILN_INPUTS_H
#define KILN_TOOLS_KILN_INPUTS_H

#include "tools/kiln/Npy.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <map>
#include <string>
#include <vector>

namespace kiln::cli {

/// Host tensors and the kiln_tensor views the runtime binds.
struct HostTensors {
  std::vector<NpyArray> arrays;
  std::vector<std::string> names;
  std::vector<kiln_tensor> views;
};

/// Reads `[NAME=]FILE` specs; FILE is a .npy array or an ONNX TensorProto
/// (.pb). Inputs without a name bind by position.
bool readInputs(const std::vector<std::string> &specs, HostTensors &inputs,
                std::string &error);

/// `array` as a constant of its dtype and shape (for --input-value).
mlir::DenseElementsAttr toElementsAttr(mlir::MLIRContext &ctx, const NpyArray &array);

/// One input per model input with its dtype and shape, filled with values
/// from a fixed seed (small integers for integer types, false for bool).
bool syntheticInputs(const kiln_model *model, const std::map<std::string, int64_t> &dims,
                     HostTensors &inputs, std::string &error);

/// Caller-owned storage for every model output.

/// The common prologue of kiln run and kiln bench: the model opened, its
/// inputs read (or synthesized when there are no specs and `synthesize`),
/// output storage, and a session on `device`. Closes everything on
/// destruction.
class HostSession {
public:
  ~HostSession();
  /// 0, or the exit code after printing the error.
  /// Synthesized inputs take their dynamic dims from `dims` (by name).
  int open(const std::string &artifact, const std::vector<std::string> &inputSpecs,
           const std::string &device, bool synthesize,
           const std::map<std::string, int64_t> &dims = {});
  kiln_status run();

  kiln_model *model = nullptr;
  kiln_session *session = nullptr;
  HostTensors inputs, outputs;
  /// The outputs' shapes as allocated (for a size the data decides, its
  /// bound); after a run `outputs` has the shapes the run gave.
  std::vector<std::vector<int64_t>> boundShapes;
};

} // namespace kiln::cli

#endif // KILN_TOOLS_KILN_INPUTS_H

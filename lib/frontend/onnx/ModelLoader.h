//===- ModelLoader.h - read, check and shape-infer an ONNX model --*- C++ -*-===//
//
// Loads an ONNX file without copying its weights: the file is memory-mapped,
// every large tensor payload (`raw_data` of initializers and Constant nodes)
// is replaced by an ONNX external-data reference back into the same file, and
// only the remaining skeleton is parsed into ModelProto. Then ONNX's checker
// and shape inference run on the skeleton, node by node where the library
// (ONNX 1.12, opsets <= 17) knows the op's schema at the model's opset.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_FRONTEND_ONNX_MODELLOADER_H
#define KILN_LIB_FRONTEND_ONNX_MODELLOADER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
} // namespace onnx

namespace kiln::onnx_frontend {

struct LoadOptions {
  /// Payloads at least this large are referenced, not parsed.
  size_t externalizeThreshold = 256;
  /// Run ONNX's shape inference (with data propagation).
  bool inferShapes = true;
  /// Whether the importer converts (domain, op, opset) itself. Other ops
  /// that ONNX defines as functions of simpler ops are expanded into their
  /// function bodies (the library's own definitions).
  std::function<bool(const std::string &domain, const std::string &op,
                     int64_t opset)>
      hasConverter;
  /// Inputs frozen to values (name -> serialized TensorProto): each becomes
  /// an initializer before checking and shape inference, so everything
  /// computed from it (shapes, axes, counts) is static.
  std::map<std::string, std::string> frozenInputs;
  /// Inputs whose dims are fixed (`--input-shape`; name -> dims): written
  /// into the graph's input types before checking and shape inference, so
  /// shapes the graph computes from them (`view(b, s, h, d)` from x.shape)
  /// are constants for the importer.
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// Named dims fixed (`--dim`; dim_param -> size) in every graph input
  /// that uses the name, as onnxruntime's free-dimension overrides do: one
  /// `--dim seq=128` for input_ids, attention_mask and position_ids.
  std::map<std::string, int64_t> dimValues;
};

struct LoadedModel {
  std::unique_ptr<onnx::ModelProto> model;
  /// The model file and its directory (external data is relative to it).
  std::string path, dir;
  /// Default-domain opset, and every imported domain's version.
  int64_t opset = 0;
  std::map<std::string, int64_t> opsets;
  /// Bytes of tensor payload left in the file rather than parsed.
  uint64_t externalizedBytes = 0;
  /// Whether ONNX shape inference ran to completion.
  bool shapesInferred = false;
  LoadedModel();
  ~LoadedModel();
  LoadedModel(LoadedModel &&);
};

/// A serialized TensorProto named `name` of ONNX element type `onnxType`
/// holding `bytes` (little-endian, dense) in `raw_data`.
std::string serializeTensor(const std::string &name, int32_t onnxType,
                            const std::vector<int64_t> &dims, const std::string &bytes);

/// The highest default-domain opset whose schemas the ONNX library knows.
int64_t libraryMaxOpset();

/// Whether the library's schema for `opType` is the one that applies at
/// `opset` (false when a newer version of the op exists that it lacks).
bool libraryKnowsOp(llvm::StringRef opType, llvm::StringRef domain,
                    int64_t opset);

/// Loads `path`. Errors name the file and what is wrong with it.
llvm::Expected<LoadedModel> loadModel(llvm::StringRef path,
                                      const LoadOptions &options = {});

/// Loads a model held in memory; `path` names it in messages and its
/// directory is where external data files are looked up.
llvm::Expected<LoadedModel> loadModelFromBuffer(llvm::StringRef bytes,
                                                llvm::StringRef path,
                                                const LoadOptions &options = {});

/// The wire-format rewrite on its own (for tests and the fuzzer): rewrites
/// the serialized ModelProto `bytes` so that tensor payloads of at least
/// `threshold` bytes become external data at their offset in `fileName`.
llvm::Expected<std::string> externalizeTensors(llvm::StringRef bytes,
                                               llvm::StringRef fileName,
                                               size_t threshold,
                                               uint64_t *externalized = nullptr);

} // namespace kiln::onnx_frontend

#endif // KILN_LIB_FRONTEND_ONNX_MODELLOADER_H

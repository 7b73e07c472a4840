//===- FuzzArtifact.cpp - libFuzzer target for the .kiln reader -----------===//
//
// Feeds arbitrary bytes to the runtime as an artifact file: header,
// manifest verification and every range check (bindings, host steps, GPU
// launches). An artifact that opens is described through the C API as an
// application would, and one without kernels (host steps only: no code is
// loaded) is run on empty strings and zeros. A clean error is the expected
// outcome; any crash or sanitizer report is a bug. Built by scripts/fuzz.sh
// (KILN_ENABLE_FUZZERS). Every mutation has its checksums resealed (the
// custom mutator below): otherwise nearly every input would stop at the
// checksum and the manifest checks behind it would go unexplored.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime.h"
#include "lib/artifact/ArtifactFormat.h"
#include "tools/FuzzInputFile.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t maxSize);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t maxSize,
                                          unsigned int /*seed*/) {
  size = LLVMFuzzerMutate(data, size, maxSize);
  // One input in 16 keeps its (now wrong) checksums: the check itself.
  if (size >= kiln::artifact::kHeaderSize && data[size / 2 % size] % 16 != 0)
    kiln::artifact::sealChecksums(data, size);
  return size;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string path = kiln::writeFuzzInput("artifact", data, size);
  if (path.empty())
    return 0;

  std::string error;
  auto artifact = kiln::artifact::Artifact::open(path, error);
  kiln_model *model = nullptr;
  if (kiln_model_open(path.c_str(), &model) != KILN_OK) {
    if (artifact) // the two readers must agree
      __builtin_trap();
    return 0;
  }
  std::vector<kiln_tensor> in(kiln_model_num_inputs(model)), out(kiln_model_num_outputs(model));
  std::vector<std::vector<char>> storage;
  bool small = true;
  auto bind = [&](kiln_tensor &t) {
    size_t n = 1;
    for (int32_t d = 0; d < t.rank; ++d)
      n = t.shape[d] < 0 || t.shape[d] > (1 << 16) ? (1 << 20) : n * (size_t)t.shape[d];
    small &= n < (1 << 16);
    if (!small)
      return;
    storage.emplace_back(n * kiln_dtype_size(t.dtype) + 1, 0);
    t.data = storage.back().data();
    if (t.dtype == KILN_STRING) // every element the empty string
      for (size_t i = 0; i < n; ++i)
        reinterpret_cast<const char **>(t.data)[i] = storage.back().data() + n * sizeof(char *);
  };
  for (size_t i = 0; i < in.size(); ++i) {
    kiln_model_input(model, i, &in[i]);
    bind(in[i]);
  }
  for (size_t i = 0; i < out.size(); ++i) {
    kiln_model_output(model, i, &out[i]);
    bind(out[i]);
  }
  kiln_session *session = nullptr;
  // An arena up to physical memory is legitimate (the runtime refuses more)
  // but past the fuzzer's RSS limit under ASan: sessions here stay small.
  small &= artifact->manifest().arena_bytes() < (1u << 26);
  if (small && artifact->manifest().kernels()->size() == 0 &&
      kiln_session_create(model, "cpu", &session) == KILN_OK) {
    kiln_session_run(session, in.data(), in.size(), out.data(), out.size());
    kiln_session_destroy(session);
  }
  kiln_model_close(model);
  return 0;
}

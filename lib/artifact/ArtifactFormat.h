//===- ArtifactFormat.h - the .kiln file: header, reader, writer -*- C++ -*-===//
//
// Layout: a 64-byte header {magic "KILNART\0", u32 version, u32 reserved,
// u64 manifest offset, u64 manifest size, u64 body checksum, 16 zero bytes,
// u64 header checksum}, then 64-byte aligned sections (kernel blobs,
// weights), then the FlatBuffers manifest (manifest.fbs). The checksums are
// XXH3-64 (xxHash) of bytes [64, end) and of the header's first 56 bytes:
// any changed byte is a clean error on load, before anything is used.
// They detect damage, not tampering: an artifact is native code, to be
// loaded only from a trusted source, as a shared library is.
// Plain C++ with no LLVM dependency: the runtime uses the reader.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_ARTIFACT_ARTIFACTFORMAT_H
#define KILN_LIB_ARTIFACT_ARTIFACTFORMAT_H

// flatc's union verifier has a default label in a covered switch.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wcovered-switch-default"
#include "lib/artifact/manifest_generated.h"
#pragma GCC diagnostic pop

#include "lib/support/OutputFile.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kiln::artifact {

constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'A', 'R', 'T', '\0'};
// 2: dispatch entries, workgroups, arena; 3: host steps, strings; 4: checksums;
// 5: shape checks, session states, max shapes (an older runtime would ignore them);
// 6: input values
constexpr uint32_t kFormatVersion = 6;
constexpr uint64_t kAlignment = 64;
constexpr size_t kHeaderSize = 64;

/// A mapped, verified artifact. Every section the manifest names lies
/// inside the file.
class Artifact {
public:
  /// Maps and verifies `path`; null with `error` set on any problem.
  static std::unique_ptr<Artifact> open(const std::string &path, std::string &error);
  ~Artifact();
  Artifact(const Artifact &) = delete;
  Artifact &operator=(const Artifact &) = delete;

  const fb::Manifest &manifest() const { return *manifest_; }
  const uint8_t *bytes(const fb::Section &s) const { return base_ + s.offset(); }
  uint64_t fileSize() const { return size_; }

private:
  Artifact() = default;
  const uint8_t *base_ = nullptr;
  uint64_t size_ = 0;
  const fb::Manifest *manifest_ = nullptr;
};

/// Rewrites the checksums in the header of the artifact bytes `data` (at
/// least kHeaderSize of them) to match their content: for fuzzers and tests
/// that reach the manifest checks behind the checksums.
void sealChecksums(uint8_t *data, uint64_t size);

/// Bytes [offset, offset + size) of a file.
struct FileSlice {
  std::string file;
  uint64_t offset = 0, size = 0;
};

/// Reads the slices back to back into `out` (a weight the compiler
/// rearranges before writing it).
bool readFileSlices(const std::vector<FileSlice> &slices, std::vector<char> &out,
                    std::string &error);

/// Builds an artifact in memory-light steps: sections are appended to a
/// temporary file next to the destination, which is renamed over it only
/// when everything was written (a failed compile leaves nothing).
class ArtifactWriter {
public:
  explicit ArtifactWriter(std::string path);
  ~ArtifactWriter();

  bool begin(std::string &error);
  /// Appends `size` bytes (aligned to 64) and returns their section.
  bool append(const void *data, uint64_t size, fb::Section &out, std::string &error);
  /// Appends `size` bytes copied from `file` at `offset`.
  bool appendFromFile(const std::string &file, uint64_t offset, uint64_t size,
                      fb::Section &out, std::string &error);
  /// Appends the slices back to back as one section (a packed weight).
  bool appendFromFiles(const std::vector<FileSlice> &slices, fb::Section &out,
                       std::string &error);
  /// Writes the manifest and header, then renames into place.
  bool commit(const uint8_t *manifest, uint64_t size, std::string &error);

private:
  bool pad(std::string &error);
  /// Appends to the file and to the body checksum.
  bool put(const void *data, uint64_t size, std::string &error);
  struct Checksum;
  OutputFile out_;
  std::unique_ptr<Checksum> checksum_;
};

} // namespace kiln::artifact

#endif // KILN_LIB_ARTIFACT_ARTIFACTFORMAT_H

//===- ArtifactTest.cpp - .kiln reader and writer ---------------------------===//
//
// Round trip through ArtifactWriter / Artifact::open, and every way a file
// can be damaged: each is rejected with a message, never read out of bounds.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime.h"
#include "lib/artifact/ArtifactFormat.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <unistd.h>

using namespace kiln::artifact;

namespace {

std::string tempPath(const char *name) {
  return ::testing::TempDir() + "/" + name + std::to_string(getpid());
}

/// Writes an artifact with one weight, one kernel blob and a plan.
std::string writeSample(const char *name, uint64_t arenaBytes = 0,
                        std::vector<int64_t> outShape = {2, 3}, bool shapeCheck = false,
                        bool inputValues = false, bool dataDims = false) {
  std::string path = tempPath(name), error;
  ArtifactWriter w(path);
  EXPECT_TRUE(w.begin(error)) << error;
  const char weight[] = "0123456789abcdef";
  const char kernel[] = "\x7f" "ELF-not-really";
  fb::Section ws, ks;
  EXPECT_TRUE(w.append(weight, sizeof(weight), ws, error)) << error;
  EXPECT_TRUE(w.append(kernel, sizeof(kernel), ks, error)) << error;
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<int64_t> shape = {2, 3};
  auto in = fb::CreateTensorInfo(fbb, fbb.CreateString("x"), fb::DType::F32,
                                 fbb.CreateVector(shape));
  auto out = fb::CreateTensorInfo(fbb, fbb.CreateString("y"), fb::DType::F32,
                                  fbb.CreateVector(outShape));
  auto wt = fb::CreateWeight(fbb, fbb.CreateString("w"), &ws);
  auto k = fb::CreateKernel(fbb, fbb.CreateString("cpu:x"), fbb.CreateString("elf-shared-object"),
                            fbb.CreateString("kiln_entry"), &ks);
  std::vector<fb::Binding> b = {{fb::BufferKind::Input, 0, 0, 24},
                                {fb::BufferKind::Weight, 0, 0, 17},
                                {fb::BufferKind::Output, 0, 0, 24}};
  auto d = fb::CreateDispatch(fbb, 0, fbb.CreateString("kiln_entry"), 1,
                              fbb.CreateVectorOfStructs(b));
  auto m = fb::CreateManifest(fbb, fbb.CreateString("test"),
                              fbb.CreateVector(std::vector{in}), fbb.CreateVector(std::vector{out}),
                              fbb.CreateVector(std::vector{wt}), fbb.CreateVector(std::vector{k}),
                              fbb.CreateVector(std::vector{d}), /*flops=*/0, arenaBytes, 0, 0,
                              0, 0, 0, 0, 0,
                              shapeCheck ? fbb.CreateVector(std::vector{fb::CreateShapeCheck(
                                               fbb, 0, -1, -1, fbb.CreateString("check"))})
                                         : 0,
                              0,
                              inputValues ? fbb.CreateVectorOfStructs(
                                                std::vector{fb::InputValues(0, 6, 0)})
                                          : 0,
                              dataDims ? fbb.CreateVectorOfStructs(std::vector{fb::DataDim(0, 0)})
                                       : 0);
  fb::FinishManifestBuffer(fbb, m);
  EXPECT_TRUE(w.commit(fbb.GetBufferPointer(), fbb.GetSize(), error)) << error;
  return path;
}

std::vector<char> readAll(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

void writeAll(const std::string &path, const std::vector<char> &bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), (std::streamsize)bytes.size());
}

TEST(Artifact, RoundTrip) {
  std::string path = writeSample("roundtrip"), error;
  auto a = Artifact::open(path, error);
  ASSERT_TRUE(a) << error;
  const fb::Manifest &m = a->manifest();
  ASSERT_EQ(m.inputs()->size(), 1u);
  EXPECT_EQ(m.inputs()->Get(0)->name()->str(), "x");
  const fb::Weight *w = m.weights()->Get(0);
  EXPECT_EQ(w->data()->offset() % kAlignment, 0u) << "sections are 64-byte aligned";
  EXPECT_EQ(std::string(reinterpret_cast<const char *>(a->bytes(*w->data()))),
            "0123456789abcdef");
  EXPECT_EQ(m.kernels()->Get(0)->entry()->str(), "kiln_entry");
  std::remove(path.c_str());
}

TEST(Artifact, EveryTruncationIsRejected) {
  std::string path = writeSample("trunc"), cut = path + ".cut", error;
  std::vector<char> bytes = readAll(path);
  for (size_t n = 0; n < bytes.size(); n += 7) {
    writeAll(cut, std::vector<char>(bytes.begin(), bytes.begin() + n));
    EXPECT_FALSE(Artifact::open(cut, error)) << "accepted a " << n << "-byte prefix";
    EXPECT_FALSE(error.empty());
  }
  std::remove(path.c_str());
  std::remove(cut.c_str());
}

TEST(Artifact, CorruptionIsRejected) {
  std::string path = writeSample("corrupt"), bad = path + ".bad", error;
  std::vector<char> bytes = readAll(path);
  // Wrong magic, wrong version, manifest offset past the end.
  for (auto [pos, value] : {std::pair<size_t, char>{0, 'X'}, {8, 9}, {23, 0x7f}}) {
    std::vector<char> b = bytes;
    b[pos] = value;
    writeAll(bad, b);
    EXPECT_FALSE(Artifact::open(bad, error)) << "byte " << pos;
  }
  // Every byte, changed in every bit position (header, sections, padding,
  // manifest): the checksums reject each one with a message.
  for (size_t i = 0; i < bytes.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<char> b = bytes;
      b[i] = (char)(b[i] ^ (1 << bit));
      writeAll(bad, b);
      error.clear();
      ASSERT_FALSE(Artifact::open(bad, error)) << "flipped bit " << bit << " of byte " << i;
      ASSERT_FALSE(error.empty());
    }
  // Bytes appended: rejected too.
  std::vector<char> longer = bytes;
  longer.push_back(0);
  writeAll(bad, longer);
  EXPECT_FALSE(Artifact::open(bad, error));
  EXPECT_NE(error.find("is damaged"), std::string::npos) << error;
  std::remove(path.c_str());
  std::remove(bad.c_str());
}

TEST(Artifact, HugeArenaIsRejected) {
  // Checksums match (a forged or miscompiled artifact): the arena size is
  // still checked before a session tries to allocate it.
  std::string path = writeSample("arena", (uint64_t)9 << 48), error;
  EXPECT_FALSE(Artifact::open(path, error));
  EXPECT_NE(error.find("larger than kiln ever plans"), std::string::npos) << error;
  std::remove(path.c_str());
  path = writeSample("arena_ok", 4096);
  EXPECT_TRUE(Artifact::open(path, error)) << error;
  std::remove(path.c_str());
}

TEST(Artifact, BadShapesAreRejected) {
  // A negative or overflowing output shape sized nothing, so any binding
  // size passed the check against it: now the artifact is refused.
  for (std::vector<int64_t> shape : std::vector<std::vector<int64_t>>{
           {-1, 3}, {int64_t(1) << 40, int64_t(1) << 40}, std::vector<int64_t>(65, 1)}) {
    std::string path = writeSample("shape", 0, shape), error;
    EXPECT_FALSE(Artifact::open(path, error)) << shape.size();
    EXPECT_NE(error.find("output 'y' has a negative dim or is larger"), std::string::npos)
        << error;
    std::remove(path.c_str());
  }
}

TEST(Artifact, StrayShapeCheckIsRejected) {
  // A check reads the dims vector a static artifact does not have.
  std::string path = writeSample("check", 0, {2, 3}, true), error;
  EXPECT_FALSE(Artifact::open(path, error));
  EXPECT_NE(error.find("shape checks without a dims vector"), std::string::npos) << error;
  std::remove(path.c_str());
}

TEST(Artifact, StrayInputValuesAreRejected) {
  // Input values go into a dims vector, which a static artifact lacks.
  std::string path = writeSample("values", 0, {2, 3}, false, true), error;
  EXPECT_FALSE(Artifact::open(path, error));
  EXPECT_NE(error.find("its dims vector is malformed"), std::string::npos) << error;
  std::remove(path.c_str());
}

TEST(Artifact, StrayDataDimsAreRejected) {
  // A size the data decides is stored in a dims vector a static artifact
  // does not have (a runtime reading it would write out of bounds).
  std::string path = writeSample("datadims", 0, {2, 3}, false, false, true), error;
  EXPECT_FALSE(Artifact::open(path, error));
  EXPECT_NE(error.find("a data-dependent size is malformed"), std::string::npos) << error;
  std::remove(path.c_str());
}

/// A dynamic plan: x [n] (dims entry 0) -> y [m], m a data dim (entry 2)
/// dispatch 0 stores; entry 1 is y's dim, entry 3 a slot's bytes. `flaw`
/// damages it: 1 = the data dim is the slot's bytes entry, 2 = a check
/// waits for an entry that is no data dim, 3 = the data dim's dispatch is
/// past the plan.
std::string writeDataSized(const char *name, int flaw) {
  std::string path = tempPath(name), error;
  ArtifactWriter w(path);
  EXPECT_TRUE(w.begin(error)) << error;
  const char kernel[] = "\x7f" "ELF-not-really";
  fb::Section ks;
  EXPECT_TRUE(w.append(kernel, sizeof(kernel), ks, error)) << error;
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<int64_t> shape = {-1};
  auto in = fb::CreateTensorInfo(fbb, fbb.CreateString("x"), fb::DType::F32,
                                 fbb.CreateVector(shape), fbb.CreateVector(std::vector<int64_t>{0}));
  auto out = fb::CreateTensorInfo(fbb, fbb.CreateString("y"), fb::DType::I64,
                                  fbb.CreateVector(shape), fbb.CreateVector(std::vector<int64_t>{1}));
  auto k = fb::CreateKernel(fbb, fbb.CreateString("cpu:x"), fbb.CreateString("elf-shared-object"),
                            fbb.CreateString("kiln_entry"), &ks);
  std::vector<fb::Binding> b = {{fb::BufferKind::Input, 0, 0, 0},
                                {fb::BufferKind::Output, 0, 0, 0},
                                {fb::BufferKind::Dims, 0, 0, 0}};
  auto d = fb::CreateDispatch(fbb, 0, fbb.CreateString("kiln_entry"), 1,
                              fbb.CreateVectorOfStructs(b));
  std::vector<fb::ArenaSlot> slots = {fb::ArenaSlot(flaw == 1 ? 2 : 3, 0, 0)};
  auto check = fb::CreateShapeCheck(fbb, 1, -1, -1, fbb.CreateString("check"),
                                    fbb.CreateVector(std::vector<int64_t>{flaw == 2 ? 3 : 2}));
  std::vector<fb::DataDim> data = {fb::DataDim(2, flaw == 3 ? 1 : 0)};
  auto m = fb::CreateManifest(fbb, fbb.CreateString("test"), fbb.CreateVector(std::vector{in}),
                              fbb.CreateVector(std::vector{out}), 0,
                              fbb.CreateVector(std::vector{k}), fbb.CreateVector(std::vector{d}),
                              /*flops=*/0, /*arena_bytes=*/0, 0, 0, 0,
                              fbb.CreateString("kiln_shapes"), /*symbols=*/1, /*dims_length=*/4,
                              fbb.CreateVectorOfStructs(slots),
                              fbb.CreateVector(std::vector{check}), 0, 0,
                              fbb.CreateVectorOfStructs(data));
  fb::FinishManifestBuffer(fbb, m);
  EXPECT_TRUE(w.commit(fbb.GetBufferPointer(), fbb.GetSize(), error)) << error;
  return path;
}

TEST(Artifact, DataDimsAreChecked) {
  std::string error;
  std::string good = writeDataSized("datasized", 0);
  EXPECT_TRUE(Artifact::open(good, error)) << error;
  std::remove(good.c_str());
  // The runtime would skip the -1 of an overflowing slot size, wait for a
  // check forever, or never refresh the sizes: each refused on load.
  for (int flaw : {1, 2, 3}) {
    std::string bad = writeDataSized("datasized_bad", flaw);
    error.clear();
    EXPECT_FALSE(Artifact::open(bad, error)) << "flaw " << flaw;
    EXPECT_NE(error.find(flaw == 2 ? "a shape check is malformed"
                                   : "a data-dependent size is malformed"),
              std::string::npos)
        << "flaw " << flaw << ": " << error;
    std::remove(bad.c_str());
  }
}

TEST(Artifact, FailedWriteLeavesNothing) {
  std::string path = tempPath("abandoned"), error;
  {
    ArtifactWriter w(path);
    ASSERT_TRUE(w.begin(error));
    fb::Section s;
    ASSERT_TRUE(w.append("abc", 3, s, error));
  } // destroyed without commit
  EXPECT_NE(access(path.c_str(), F_OK), 0);
}

TEST(Runtime, OpenErrorsAreReported) {
  kiln_model *m = nullptr;
  EXPECT_EQ(kiln_model_open("/nonexistent/model.kiln", &m), KILN_ERROR_IO);
  EXPECT_NE(std::string(kiln_last_error()).find("No such file"), std::string::npos);
  std::string path = writeSample("runtime");
  ASSERT_EQ(kiln_model_open(path.c_str(), &m), KILN_OK) << kiln_last_error();
  EXPECT_EQ(kiln_model_num_inputs(m), 1u);
  kiln_tensor info;
  ASSERT_EQ(kiln_model_input(m, 0, &info), KILN_OK);
  EXPECT_STREQ(info.name, "x");
  EXPECT_EQ(info.rank, 2);
  kiln_session *s = nullptr;
  EXPECT_EQ(kiln_session_create(m, "cuda", &s), KILN_ERROR_DEVICE);
  // The sample's kernel is not a real shared object: loading fails cleanly.
  EXPECT_EQ(kiln_session_create(m, "cpu", &s), KILN_ERROR_DEVICE);
  EXPECT_NE(std::string(kiln_last_error()).find("cannot load"), std::string::npos);
  kiln_model_close(m);
  std::remove(path.c_str());
}

TEST(Runtime, DtypeNames) {
  EXPECT_STREQ(kiln_dtype_name(KILN_F32), "f32");
  EXPECT_STREQ(kiln_dtype_name(KILN_BF16), "bf16");
  EXPECT_STREQ(kiln_dtype_name(KILN_U16), "u16");
  EXPECT_STREQ(kiln_dtype_name(KILN_BOOL), "bool");
  EXPECT_STREQ(kiln_dtype_name(KILN_STRING), "string");
  EXPECT_STREQ(kiln_dtype_name((kiln_dtype)99), "unknown");
  for (int t = KILN_F32; t <= KILN_STRING; ++t)
    EXPECT_STRNE(kiln_dtype_name((kiln_dtype)t), "unknown") << t;
}

} // namespace

namespace {

/// An artifact whose one kernel is a GPU kernel with one launch, binding
/// `buffer` with `grid` dimensions.
std::string writeLaunch(const char *name, fb::Binding buffer, std::vector<uint32_t> grid) {
  std::string path = tempPath(name), error;
  ArtifactWriter w(path);
  EXPECT_TRUE(w.begin(error)) << error;
  const char ptx[] = "// not really ptx";
  fb::Section ks;
  EXPECT_TRUE(w.append(ptx, sizeof(ptx), ks, error)) << error;
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<int64_t> shape = {4};
  auto in = fb::CreateTensorInfo(fbb, fbb.CreateString("x"), fb::DType::F32,
                                 fbb.CreateVector(shape));
  auto arg = fb::CreateLaunchArg(fbb, fb::LaunchArgKind::Buffer, 0, 0, &buffer,
                                 fbb.CreateVector(shape));
  std::vector<uint32_t> block = {256, 1, 1};
  auto launch = fb::CreateLaunch(fbb, fbb.CreateString("k"), fbb.CreateVector(grid),
                                 fbb.CreateVector(block), fbb.CreateVector(std::vector{arg}));
  auto k = fb::CreateKernel(fbb, fbb.CreateString("cuda:sm_90"), fbb.CreateString("ptx"),
                            fbb.CreateString("k"), &ks, fbb.CreateVector(std::vector{launch}),
                            64);
  auto m = fb::CreateManifest(fbb, fbb.CreateString("test"), fbb.CreateVector(std::vector{in}),
                              fbb.CreateVector(std::vector{in}), 0,
                              fbb.CreateVector(std::vector{k}),
                              fbb.CreateVector(std::vector<flatbuffers::Offset<fb::Dispatch>>{}));
  fb::FinishManifestBuffer(fbb, m);
  EXPECT_TRUE(w.commit(fbb.GetBufferPointer(), fbb.GetSize(), error)) << error;
  return path;
}

} // namespace

TEST(Artifact, GpuLaunchesAreChecked) {
  std::string error;
  std::string good = writeLaunch("launch-ok", {fb::BufferKind::Arena, 0, 0, 64}, {1, 1, 1});
  EXPECT_TRUE(Artifact::open(good, error)) << error;
  std::remove(good.c_str());
  struct Bad {
    fb::Binding buffer;
    std::vector<uint32_t> grid;
  } bads[] = {{{fb::BufferKind::Input, 1, 0, 0}, {1, 1, 1}},   // no input 1
              {{fb::BufferKind::Arena, 0, 64, 0}, {1, 1, 1}},  // past the arena
              {{fb::BufferKind::Arena, 0, 32, 64}, {1, 1, 1}}, // runs past the arena
              {{fb::BufferKind::Arena, 0, 8, UINT64_MAX}, {1, 1, 1}}, // size overflows
              {{fb::BufferKind::Input, 0, 0, 17}, {1, 1, 1}},  // larger than the input
              {{fb::BufferKind::Input, 0, 0, 0}, {1, 1}},      // grid of two dims
              {{fb::BufferKind::Input, 0, 0, 0}, {0, 1, 1}}};  // empty grid
  for (const Bad &b : bads) {
    std::string path = writeLaunch("launch-bad", b.buffer, b.grid);
    EXPECT_FALSE(Artifact::open(path, error));
    EXPECT_NE(error.find("malformed GPU launch"), std::string::npos) << error;
    std::remove(path.c_str());
  }
}

//===- HostStepsTest.cpp - strings through the runtime ----------------------===//
//
// An artifact of host steps only (no kernels): StringNormalize run through
// the public C API, the artifact checks on host-step references, and the
// case mapping by itself.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime.h"
#include "lib/artifact/ArtifactFormat.h"
#include "lib/runtime/HostSteps.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <atomic>
#include <string>
#include <thread>
#include <vector>
#include <unistd.h>

using namespace kiln::artifact;

namespace {

struct Ref {
  fb::HostValueKind kind;
  uint32_t index;
};

/// x: String[4] -> normalize (UPPER, stop word "monday" ignoring case) ->
/// `mid` -> normalize (LOWER, stop word "B" case-sensitively) -> y:
/// String[outCount]. `midRef` / `values` let a test damage the references.
std::string writeStrings(const char *name, int64_t outCount, Ref midRef = {fb::HostValueKind::Value, 0},
                         uint32_t values = 1) {
  std::string path = ::testing::TempDir() + "/" + name + std::to_string(getpid()), error;
  ArtifactWriter w(path);
  EXPECT_TRUE(w.begin(error)) << error;
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<int64_t> inShape = {4}, outShape = {outCount};
  auto in = fb::CreateTensorInfo(fbb, fbb.CreateString("x"), fb::DType::String,
                                 fbb.CreateVector(inShape));
  auto out = fb::CreateTensorInfo(fbb, fbb.CreateString("y"), fb::DType::String,
                                  fbb.CreateVector(outShape));
  auto step = [&](fb::CaseChange mode, bool sensitive, const char *stop, fb::HostRef from,
                  fb::HostRef to) {
    auto op = fb::CreateStringNormalize(
        fbb, mode, sensitive, fbb.CreateVector(std::vector{fbb.CreateString(stop)}),
        fbb.CreateString(""));
    std::vector<fb::HostRef> ins = {from}, outs = {to};
    return fb::CreateHostStep(fbb, fb::HostOp::StringNormalize, op.Union(),
                              fbb.CreateString("norm"), fbb.CreateVectorOfStructs(ins),
                              fbb.CreateVectorOfStructs(outs));
  };
  fb::HostRef mid(midRef.kind, midRef.index);
  std::vector<flatbuffers::Offset<fb::HostStep>> steps = {
      step(fb::CaseChange::Upper, false, "monday", {fb::HostValueKind::Input, 0}, mid),
      step(fb::CaseChange::Lower, true, "B", mid, {fb::HostValueKind::Output, 0})};
  auto m = fb::CreateManifest(
      fbb, fbb.CreateString("test"), fbb.CreateVector(std::vector{in}),
      fbb.CreateVector(std::vector{out}), 0, fbb.CreateVector(std::vector<flatbuffers::Offset<fb::Kernel>>{}),
      fbb.CreateVector(std::vector<flatbuffers::Offset<fb::Dispatch>>{}), 0, 0, 0,
      fbb.CreateVector(steps), values);
  fb::FinishManifestBuffer(fbb, m);
  EXPECT_TRUE(w.commit(fbb.GetBufferPointer(), fbb.GetSize(), error)) << error;
  return path;
}

/// A CPU session on the artifact at `path`, closed (and the file removed)
/// when it goes out of scope; `session` is null when opening failed.
struct Session {
  explicit Session(std::string path) : path(std::move(path)) {
    if (kiln_model_open(this->path.c_str(), &model) == KILN_OK &&
        kiln_session_create(model, "cpu", &session) != KILN_OK)
      session = nullptr;
  }
  ~Session() {
    if (session)
      kiln_session_destroy(session);
    if (model)
      kiln_model_close(model);
    std::remove(path.c_str());
  }
  std::string path;
  kiln_model *model = nullptr;
  kiln_session *session = nullptr;
};

TEST(HostSteps, StringsThroughTheCApi) {
  Session s(writeStrings("strings", 1));
  ASSERT_TRUE(s.session) << kiln_last_error();
  kiln_session *session = s.session;
  const char *words[] = {"Monday", "a", "b", "MONDAY"};
  const char *result[1] = {nullptr};
  int64_t inShape[] = {4}, outShape[] = {1};
  kiln_tensor in = {"x", KILN_STRING, 1, inShape, words};
  kiln_tensor out = {"y", KILN_STRING, 1, outShape, result};
  ASSERT_EQ(kiln_session_run(session, &in, 1, &out, 1), KILN_OK) << kiln_last_error();
  // Upper-cased "A", "B" pass the first step; the second drops "B".
  ASSERT_NE(result[0], nullptr);
  EXPECT_STREQ(result[0], "a");
  // Everything dropped leaves one empty string.
  words[1] = "B";
  ASSERT_EQ(kiln_session_run(session, &in, 1, &out, 1), KILN_OK) << kiln_last_error();
  EXPECT_STREQ(result[0], "");
  // A null string is an error naming the input.
  words[1] = nullptr;
  EXPECT_EQ(kiln_session_run(session, &in, 1, &out, 1), KILN_ERROR_BAD_ARGUMENT);
  EXPECT_NE(std::string(kiln_last_error()).find("input 'x' has a null string at element 1"),
            std::string::npos)
      << kiln_last_error();
}

// The thread contract (runtime.h): sessions of one model on many threads
// stay exact; one session run from many threads refuses the overlapping
// calls with KILN_ERROR_BUSY instead of sharing its arena.
TEST(HostSteps, ThreadContract) {
  Session s(writeStrings("strings-threads", 1));
  ASSERT_TRUE(s.session) << kiln_last_error();
  constexpr int kThreads = 8, kRuns = 200;
  // `got` is null where other threads share the session: its string
  // outputs are valid only until the session's next run, which another
  // thread may start as soon as this one returns (runtime.h).
  auto runOnce = [](kiln_session *session, const char *word, std::string *got) {
    const char *words[] = {"Monday", word, "b", "MONDAY"};
    const char *result[1] = {nullptr};
    int64_t inShape[] = {4}, outShape[] = {1};
    kiln_tensor in = {"x", KILN_STRING, 1, inShape, words};
    kiln_tensor out = {"y", KILN_STRING, 1, outShape, result};
    kiln_status status = kiln_session_run(session, &in, 1, &out, 1);
    if (got)
      *got = status == KILN_OK && result[0] ? result[0] : "";
    return status;
  };
  // A session per thread: every run exact.
  std::atomic<int> exact{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      kiln_session *mine = nullptr;
      if (kiln_session_create(s.model, "cpu", &mine) != KILN_OK)
        return;
      std::string word = "w" + std::to_string(t), got;
      for (int i = 0; i < kRuns; ++i)
        exact += runOnce(mine, word.c_str(), &got) == KILN_OK && got == word;
      kiln_session_destroy(mine);
    });
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(exact.load(), kThreads * kRuns);
  // One session, many threads: each call runs whole or is refused.
  std::atomic<int> ok{0}, busy{0}, other{0};
  threads.clear();
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kRuns; ++i) {
        kiln_status status = runOnce(s.session, "q", nullptr);
        (status == KILN_OK ? ok : status == KILN_ERROR_BUSY ? busy : other)++;
      }
    });
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ok.load() + busy.load(), kThreads * kRuns);
  std::string got;
  EXPECT_EQ(runOnce(s.session, "q", &got), KILN_OK);
  EXPECT_EQ(got, "q");
}

TEST(HostSteps, LengthMustMatchTheDeclaredShape) {
  Session s(writeStrings("strings-len", 3));
  ASSERT_TRUE(s.session) << kiln_last_error();
  kiln_session *session = s.session;
  const char *words[] = {"x", "y", "monday", "z"};
  const char *result[3] = {};
  int64_t inShape[] = {4}, outShape[] = {3};
  kiln_tensor in = {"x", KILN_STRING, 1, inShape, words};
  kiln_tensor out = {"y", KILN_STRING, 1, outShape, result};
  EXPECT_EQ(kiln_session_run(session, &in, 1, &out, 1), KILN_OK) << kiln_last_error();
  words[0] = "MONDAY";
  EXPECT_EQ(kiln_session_run(session, &in, 1, &out, 1), KILN_ERROR_BAD_ARGUMENT);
  EXPECT_NE(std::string(kiln_last_error()).find("produced 2 strings"), std::string::npos)
      << kiln_last_error();
}

TEST(HostSteps, ReferencesAreChecked) {
  std::string error;
  for (Ref bad : {Ref{fb::HostValueKind::Value, 1}, Ref{fb::HostValueKind::Input, 3},
                  Ref{(fb::HostValueKind)7, 0}}) {
    std::string path = writeStrings("strings-bad", 2, bad);
    EXPECT_FALSE(Artifact::open(path, error));
    EXPECT_NE(error.find("host step naming a missing value"), std::string::npos) << error;
    std::remove(path.c_str());
  }
}

TEST(HostSteps, CaseMapping) {
  using kiln::runtime::changeCase;
  EXPECT_EQ(changeCase("été Ωmega", true, "en_US"), "ÉTÉ ΩMEGA");
  EXPECT_EQ(changeCase("ÉTÉ", false, ""), "été");
  EXPECT_EQ(changeCase("abc", true, "no_SUCH_locale"), "ABC");
  // Bytes that are not UTF-8 pass through; the rest is still mapped.
  EXPECT_EQ(changeCase(std::string("a\xff" "b\xc3", 4), true, ""), std::string("A\xff" "B\xc3", 4));
}

} // namespace

namespace {

TEST(HostSteps, NumbersToStrings) {
  using kiln::runtime::formatNumber;
  std::string s;
  float f[] = {0.1f, 1e-5f, 0.9767611f, -3.0f, 1e20f, NAN, -INFINITY};
  const char *want[] = {"0.1", "1e-05", "0.9767611", "-3", "1e+20", "NaN", "-INF"};
  for (size_t i = 0; i < 7; ++i) {
    ASSERT_TRUE(formatNumber(fb::DType::F32, f, i, s));
    EXPECT_EQ(s, want[i]);
  }
  double d[] = {0.1};
  ASSERT_TRUE(formatNumber(fb::DType::F64, d, 0, s));
  EXPECT_EQ(s, "0.1");
  int64_t big[] = {-9223372036854775807LL - 1};
  ASSERT_TRUE(formatNumber(fb::DType::I64, big, 0, s));
  EXPECT_EQ(s, "-9223372036854775808");
  uint8_t u[] = {255};
  ASSERT_TRUE(formatNumber(fb::DType::U8, u, 0, s));
  EXPECT_EQ(s, "255");
  bool b[] = {true};
  EXPECT_FALSE(formatNumber(fb::DType::Bool, b, 0, s));
}

TEST(HostSteps, StringsToNumbers) {
  using kiln::runtime::parseNumber;
  float f[4];
  EXPECT_TRUE(parseNumber("0.47892547", fb::DType::F32, f, 0));
  EXPECT_EQ(f[0], 0.47892547f);
  EXPECT_TRUE(parseNumber("+INF", fb::DType::F32, f, 1));
  EXPECT_TRUE(std::isinf(f[1]) && f[1] > 0);
  EXPECT_TRUE(parseNumber("NaN", fb::DType::F32, f, 2));
  EXPECT_TRUE(std::isnan(f[2]));
  EXPECT_FALSE(parseNumber("1.5x", fb::DType::F32, f, 3));
  EXPECT_FALSE(parseNumber("", fb::DType::F32, f, 3));
  int8_t i8[1];
  EXPECT_TRUE(parseNumber("-128", fb::DType::I8, i8, 0));
  EXPECT_EQ(i8[0], -128);
  EXPECT_FALSE(parseNumber("128", fb::DType::I8, i8, 0)) << "out of range";
  EXPECT_FALSE(parseNumber("1.5", fb::DType::I8, i8, 0));
  uint32_t u32[1];
  EXPECT_FALSE(parseNumber("-1", fb::DType::U32, u32, 0));
  EXPECT_TRUE(parseNumber("4294967295", fb::DType::U32, u32, 0));
  EXPECT_EQ(u32[0], 4294967295u);
  uint64_t u64[1];
  EXPECT_TRUE(parseNumber("18446744073709551615", fb::DType::U64, u64, 0));
  EXPECT_EQ(u64[0], 18446744073709551615ull);
}

} // namespace

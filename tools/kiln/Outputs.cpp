//===- Outputs.cpp - where kiln's commands write ---------------------------===//

#include "tools/kiln/Outputs.h"
#include "tools/kiln/Commands.h"

#include "lib/support/OutputFile.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

namespace kiln::cli {

bool checkOutputPath(llvm::StringRef path) {
  std::string error;
  if (path.empty() || path == "-" || checkOutputTarget(path.str(), error))
    return true;
  llvm::errs() << "kiln: error: " << error << "\n";
  return false;
}

int writeText(llvm::StringRef path, llvm::function_ref<void(llvm::raw_ostream &)> print) {
  if (path.empty() || path == "-") {
    print(llvm::outs());
    llvm::outs().flush();
    return kOk;
  }
  std::string text, error;
  llvm::raw_string_ostream os(text);
  print(os);
  if (!writeFileAtomically(path.str(), text, error)) {
    llvm::errs() << "kiln: error: " << error << "\n";
    return kIOError;
  }
  return kOk;
}

std::vector<std::string> outputFileNames(const std::vector<std::string> &names) {
  constexpr size_t kMaxBytes = 200;
  std::vector<std::string> out;
  llvm::StringSet<> taken;
  for (const std::string &name : names) {
    std::string safe;
    for (char c : name.substr(0, kMaxBytes)) {
      bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
      safe += keep ? c : '_';
    }
    if (safe.empty())
      safe = "output";
    if (safe[0] == '.')
      safe[0] = '_';
    std::string unique = safe;
    for (int i = 2; taken.contains(unique); ++i)
      unique = safe + "_" + std::to_string(i);
    taken.insert(unique);
    out.push_back(unique);
  }
  return out;
}

} // namespace kiln::cli

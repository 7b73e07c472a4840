//===- TargetRegistry.cpp - --target specs to targets ---------------------===//

#include "targets/Target.h"
#include "targets/cpu/CpuTarget.h"
#include "targets/nvptx/NvptxTarget.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"

namespace kiln::target {

static llvm::StringMap<TargetFactory> &registry() {
  static llvm::StringMap<TargetFactory> r;
  return r;
}

void registerTarget(llvm::StringRef kind, TargetFactory factory) {
  registry()[kind] = std::move(factory);
}

std::unique_ptr<Target> createTarget(llvm::StringRef spec, std::string &error) {
  auto [kind, variant] = spec.split(':');
  auto it = registry().find(kind);
  if (it == registry().end()) {
    std::vector<std::string> known;
    for (auto &e : registry())
      known.push_back(e.getKey().str());
    llvm::sort(known);
    error = "unknown target '" + spec.str() + "'; known:";
    for (const std::string &k : known)
      error += " " + k;
    return nullptr;
  }
  return it->second(variant, error);
}

void registerBuiltinTargets() {
  static bool done = [] {
    registerTarget("cpu", createCpuTarget);
    registerTarget("cuda", createNvptxTarget);
    return true;
  }();
  (void)done;
}

} // namespace kiln::target

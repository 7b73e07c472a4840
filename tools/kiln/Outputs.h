//===- Outputs.h - where kiln's commands write --------------------*- C++ -*-===//

#ifndef KILN_TOOLS_KILN_OUTPUTS_H
#define KILN_TOOLS_KILN_OUTPUTS_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
}

namespace kiln::cli {

/// False (after printing why) when -o names something that exists and is
/// not a regular file; "-" and empty (stdout) pass.
bool checkOutputPath(llvm::StringRef path);

/// Text to `path` (stdout when empty or "-") through a temporary renamed
/// into place: a failure leaves no half-written file. An exit code.
int writeText(llvm::StringRef path, llvm::function_ref<void(llvm::raw_ostream &)> print);

/// File names (without the .npy) for outputs named `names`: every character
/// but letters, digits, '_', '-' and '.' becomes '_', as does a leading
/// '.'; an empty name becomes "output"; names longer than 200 bytes are cut;
/// a name taken already gets "_2", "_3", ... So no output name can reach
/// outside the output folder or overwrite another output.
std::vector<std::string> outputFileNames(const std::vector<std::string> &names);

} // namespace kiln::cli

#endif // KILN_TOOLS_KILN_OUTPUTS_H

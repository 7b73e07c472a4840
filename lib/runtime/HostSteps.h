//===- HostSteps.h - ops the runtime carries out itself -----------*- C++ -*-===//
//
// Host steps (manifest.fbs) run before the plan on the session's host
// values: string processing, which generated kernels never see. Each op is
// plain C++ here, checked against the artifact's description of it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_RUNTIME_HOSTSTEPS_H
#define KILN_LIB_RUNTIME_HOSTSTEPS_H

#include "lib/artifact/ArtifactFormat.h"

#include <string>
#include <string_view>
#include <vector>

namespace kiln::runtime {

/// A host value: the strings of one tensor, row-major.
using Strings = std::vector<std::string>;

/// ONNX StringNormalizer over `input` (`[C]` or `[1, C]` flattened): the
/// strings left after dropping stop words, case-mapped; one empty string
/// when every string was dropped.
Strings stringNormalize(const artifact::fb::StringNormalize &op,
                        const std::vector<std::string_view> &input);

/// Element `i` of a `dtype` array as ONNX Cast writes it: the shortest
/// decimal that reads back exactly for floats ("0.1", "1e-05"), "NaN",
/// "INF", "-INF"; integers in decimal. False for a dtype it cannot write.
bool formatNumber(artifact::fb::DType dtype, const void *data, size_t i, std::string &out);

/// Parses `s` (strtod / strtoll: "NaN", "INF", "+INF", "-INF" included)
/// into element `i` of a `dtype` array. False when `s` is not a number of
/// that kind or the dtype is not supported.
bool parseNumber(const std::string &s, artifact::fb::DType dtype, void *data, size_t i);

/// `s` with every character mapped to upper (or lower) case under the
/// locale named `locale` (en_US, de_DE.UTF-8, ...; empty or unknown: the C
/// library's UTF-8 locale). Bytes that are not UTF-8 pass through.
std::string changeCase(std::string_view s, bool upper, const std::string &locale);

} // namespace kiln::runtime

#endif // KILN_LIB_RUNTIME_HOSTSTEPS_H

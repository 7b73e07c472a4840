//===- HostSteps.cpp - ops the runtime carries out itself -----------------===//

#include "lib/runtime/HostSteps.h"
#include "lib/runtime/Utf8.h"

#include <cerrno>
#include <charconv>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <type_traits>
#include <cwctype>
#include <locale.h>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace fb = kiln::artifact::fb;

namespace kiln::runtime {
namespace {

/// A POSIX locale for case mapping by name, made once per name: the name
/// as given with ".UTF-8" first (ONNX writes "en_US"), then as given, then
/// the C library's C.UTF-8. Null when none exists (ASCII mapping then).
locale_t caseLocale(const std::string &name) {
  // Kept for the process; freed at exit (so leak checkers stay quiet).
  static struct Cache : std::unordered_map<std::string, locale_t> {
    ~Cache() {
      for (auto &entry : *this)
        if (entry.second)
          freelocale(entry.second);
    }
  } cache;
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(name);
  if (it != cache.end())
    return it->second;
  locale_t loc = nullptr;
  std::vector<std::string> tries;
  if (!name.empty() && name.find('.') == std::string::npos)
    tries.push_back(name + ".UTF-8");
  if (!name.empty())
    tries.push_back(name);
  tries.push_back("C.UTF-8");
  for (const std::string &t : tries)
    if ((loc = newlocale(LC_CTYPE_MASK, t.c_str(), (locale_t)0)))
      break;
  cache[name] = loc;
  return loc;
}

} // namespace

/// `s` case-mapped under `loc` (null: ASCII only).
static std::string mapCase(std::string_view s, bool upper, locale_t loc) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    int32_t cp = decodeUtf8(s, i);
    if (cp < 0) {
      out += s[start]; // not UTF-8: kept as it is
      continue;
    }
    wint_t w = (wint_t)cp;
    if (loc)
      w = upper ? towupper_l(w, loc) : towlower_l(w, loc);
    else if (cp < 0x80)
      w = upper ? (wint_t)std::toupper(cp) : (wint_t)std::tolower(cp);
    appendUtf8((uint32_t)w, out);
  }
  return out;
}

std::string changeCase(std::string_view s, bool upper, const std::string &locale) {
  return mapCase(s, upper, caseLocale(locale));
}

bool formatNumber(fb::DType dtype, const void *data, size_t i, std::string &out) {
  char buffer[64];
  auto floating = [&](auto v) {
    if (std::isnan(v))
      out = "NaN";
    else if (std::isinf(v))
      out = v < 0 ? "-INF" : "INF";
    else
      out.assign(buffer, std::to_chars(buffer, buffer + sizeof(buffer), v).ptr);
  };
  auto integer = [&](auto v) { out.assign(buffer, std::to_chars(buffer, buffer + sizeof(buffer), v).ptr); };
  switch (dtype) {
  case fb::DType::F32: floating(static_cast<const float *>(data)[i]); return true;
  case fb::DType::F64: floating(static_cast<const double *>(data)[i]); return true;
  case fb::DType::I8: integer(static_cast<const int8_t *>(data)[i]); return true;
  case fb::DType::I16: integer(static_cast<const int16_t *>(data)[i]); return true;
  case fb::DType::I32: integer(static_cast<const int32_t *>(data)[i]); return true;
  case fb::DType::I64: integer(static_cast<const int64_t *>(data)[i]); return true;
  case fb::DType::U8: integer(static_cast<const uint8_t *>(data)[i]); return true;
  case fb::DType::U16: integer(static_cast<const uint16_t *>(data)[i]); return true;
  case fb::DType::U32: integer(static_cast<const uint32_t *>(data)[i]); return true;
  case fb::DType::U64: integer(static_cast<const uint64_t *>(data)[i]); return true;
  default: return false;
  }
}

bool parseNumber(const std::string &s, fb::DType dtype, void *data, size_t i) {
  const char *begin = s.c_str();
  char *end = nullptr;
  errno = 0;
  auto whole = [&] { return end != begin && *end == '\0'; };
  switch (dtype) {
  case fb::DType::F32: static_cast<float *>(data)[i] = std::strtof(begin, &end); return whole();
  case fb::DType::F64: static_cast<double *>(data)[i] = std::strtod(begin, &end); return whole();
  default: break;
  }
  bool isUnsigned = dtype == fb::DType::U8 || dtype == fb::DType::U16 ||
                    dtype == fb::DType::U32 || dtype == fb::DType::U64;
  if (isUnsigned && s.find('-') != std::string::npos)
    return false;
  long long v = 0;
  unsigned long long u = 0;
  if (isUnsigned)
    u = std::strtoull(begin, &end, 10);
  else
    v = std::strtoll(begin, &end, 10);
  if (!whole() || errno == ERANGE)
    return false;
  auto store = [&](auto *p) {
    using T = std::remove_pointer_t<decltype(p)>;
    if (isUnsigned ? u > (unsigned long long)std::numeric_limits<T>::max()
                   : v < (long long)std::numeric_limits<T>::min() ||
                         v > (long long)std::numeric_limits<T>::max())
      return false;
    p[i] = isUnsigned ? (T)u : (T)v;
    return true;
  };
  switch (dtype) {
  case fb::DType::I8: return store(static_cast<int8_t *>(data));
  case fb::DType::I16: return store(static_cast<int16_t *>(data));
  case fb::DType::I32: return store(static_cast<int32_t *>(data));
  case fb::DType::I64: return store(static_cast<int64_t *>(data));
  case fb::DType::U8: return store(static_cast<uint8_t *>(data));
  case fb::DType::U16: return store(static_cast<uint16_t *>(data));
  case fb::DType::U32: return store(static_cast<uint32_t *>(data));
  case fb::DType::U64: return store(static_cast<uint64_t *>(data));
  default: return false;
  }
}

Strings stringNormalize(const fb::StringNormalize &op,
                        const std::vector<std::string_view> &input) {
  // The locale once per step, not per string (its lookup takes a lock).
  locale_t locale = caseLocale(op.locale() ? op.locale()->str() : "");
  bool sensitive = op.case_sensitive();
  std::unordered_set<std::string> stop;
  if (op.stopwords())
    for (const flatbuffers::String *w : *op.stopwords())
      stop.insert(sensitive ? w->str() : mapCase(w->string_view(), true, locale));
  Strings out;
  for (std::string_view s : input) {
    if (!stop.empty() &&
        stop.count(sensitive ? std::string(s) : mapCase(s, true, locale)))
      continue;
    switch (op.case_change()) {
    case fb::CaseChange::Upper: out.push_back(mapCase(s, true, locale)); break;
    case fb::CaseChange::Lower: out.push_back(mapCase(s, false, locale)); break;
    default: out.emplace_back(s); break;
    }
  }
  if (out.empty())
    out.emplace_back(); // ONNX: everything dropped leaves one empty string
  return out;
}

} // namespace kiln::runtime

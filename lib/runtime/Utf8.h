//===- Utf8.h - UTF-8 decoding and encoding, one code point at a time ----*- C++ -*-===//
//
// Strings in Kiln are UTF-8. The runtime maps case per code point (host
// steps) and `kiln run` converts to NumPy's UTF-32 arrays; both use these.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_RUNTIME_UTF8_H
#define KILN_LIB_RUNTIME_UTF8_H

#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::runtime {

/// Decodes one UTF-8 character at `s[i]` and advances `i` past it. Returns
/// -1 (and advances one byte) for a byte that does not start a complete,
/// valid sequence.
inline int32_t decodeUtf8(std::string_view s, size_t &i) {
  unsigned char c = s[i];
  int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
  if (n < 0 || i + n >= s.size()) {
    ++i;
    return -1;
  }
  int32_t cp = n == 0 ? c : c & (0x3f >> n);
  for (int k = 1; k <= n; ++k) {
    unsigned char t = s[i + k];
    if ((t >> 6) != 2) {
      ++i;
      return -1;
    }
    cp = cp << 6 | (t & 0x3f);
  }
  i += n + 1;
  return cp;
}

/// Appends code point `cp` to `out` as UTF-8.
inline void appendUtf8(uint32_t cp, std::string &out) {
  if (cp < 0x80) {
    out += (char)cp;
  } else if (cp < 0x800) {
    out += (char)(0xc0 | cp >> 6);
    out += (char)(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += (char)(0xe0 | cp >> 12);
    out += (char)(0x80 | (cp >> 6 & 0x3f));
    out += (char)(0x80 | (cp & 0x3f));
  } else {
    out += (char)(0xf0 | cp >> 18);
    out += (char)(0x80 | (cp >> 12 & 0x3f));
    out += (char)(0x80 | (cp >> 6 & 0x3f));
    out += (char)(0x80 | (cp & 0x3f));
  }
}

} // namespace kiln::runtime

#endif // KILN_LIB_RUNTIME_UTF8_H

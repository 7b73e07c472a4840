//===- Npy.cpp - NumPy .npy reading and writing ----------------------------===//
//
// The header is a Python dict literal: {'descr': '<f4', 'fortran_order':
// False, 'shape': (2, 3), }. Only the three keys are read; anything else
// (big-endian, Fortran order, object arrays) is a clear error.
//
//===----------------------------------------------------------------------===//

#include "tools/kiln/Npy.h"

#include "lib/runtime/Utf8.h"
#include "lib/support/CheckedSize.h"
#include "lib/support/OutputFile.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace kiln::cli {
namespace {

struct Descr {
  const char *code;
  kiln_dtype dtype;
};
constexpr Descr kDescrs[] = {
    {"<f4", KILN_F32}, {"<f2", KILN_F16}, {"<f8", KILN_F64}, {"|i1", KILN_I8},
    {"<i2", KILN_I16}, {"<i4", KILN_I32}, {"<i8", KILN_I64}, {"|u1", KILN_U8},
    {"<u2", KILN_U16}, {"<u4", KILN_U32}, {"<u8", KILN_U64}, {"|b1", KILN_BOOL},
};

/// The value of 'key' in the header dict (up to the next top-level comma;
/// a tuple whole); empty when absent or cut off.
std::string field(const std::string &header, const std::string &key) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos)
    return "";
  size_t colon = header.find(':', k);
  if (colon == std::string::npos)
    return "";
  size_t start = header.find_first_not_of(' ', colon + 1);
  if (start == std::string::npos)
    return "";
  size_t end = header[start] == '(' ? header.find(')', start)
                                    : header.find_first_of(",}", start);
  if (end == std::string::npos)
    return "";
  if (header[start] == '(')
    ++end;
  return header.substr(start, end - start);
}

/// A non-negative decimal integer of at most 18 digits (no sign, no
/// spaces inside); nullopt otherwise.
std::optional<uint64_t> parseCount(std::string text) {
  size_t a = text.find_first_not_of(' '), b = text.find_last_not_of(' ');
  if (a == std::string::npos)
    return std::nullopt;
  text = text.substr(a, b - a + 1);
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::strtoull(text.c_str(), nullptr, 10);
}

/// The code points of UTF-8 `s` (a byte that does not decode stands for
/// itself).
std::vector<uint32_t> utf32(const std::string &s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    int32_t cp = runtime::decodeUtf8(s, i);
    out.push_back(cp < 0 ? (unsigned char)s[start] : (uint32_t)cp);
  }
  return out;
}

} // namespace

void NpyArray::pointAtStrings() {
  if (dtype != KILN_STRING)
    return;
  data.resize(strings.size() * sizeof(const char *));
  for (size_t i = 0; i < strings.size(); ++i) {
    const char *p = strings[i].c_str();
    std::memcpy(data.data() + i * sizeof(p), &p, sizeof(p));
  }
}

bool readNpy(const std::string &path, NpyArray &out, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open '" + path + "'";
    return false;
  }
  // What the header may promise: no more than the file holds.
  in.seekg(0, std::ios::end);
  uint64_t fileSize = (uint64_t)in.tellg();
  in.seekg(0);
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    error = "'" + path + "' is not a .npy file";
    return false;
  }
  uint32_t headerLen = 0;
  unsigned char len[4] = {};
  if (magic[6] == 1) {
    if (!in.read(reinterpret_cast<char *>(len), 2))
      return error = "'" + path + "' is truncated", false;
    headerLen = len[0] | (len[1] << 8);
  } else {
    if (!in.read(reinterpret_cast<char *>(len), 4))
      return error = "'" + path + "' is truncated", false;
    headerLen = len[0] | (len[1] << 8) | (len[2] << 16) | ((uint32_t)len[3] << 24);
  }
  if (headerLen > (1u << 20))
    return error = "'" + path + "' has an implausible header", false;
  std::string header(headerLen, '\0');
  if (!in.read(header.data(), headerLen))
    return error = "'" + path + "' is truncated", false;
  std::string descr = field(header, "descr"), fortran = field(header, "fortran_order"),
              shape = field(header, "shape");
  if (descr.size() < 2 || shape.empty())
    return error = "'" + path + "' has a malformed header", false;
  descr = descr.substr(1, descr.size() - 2);
  if (fortran == "True")
    return error = "'" + path + "' is in Fortran order; save it C-ordered", false;
  bool found = false;
  // Strings: '<U8' (UTF-32, 8 code points per element) or '|S8' (bytes).
  size_t charSize = descr.size() > 2 && (descr.compare(0, 2, "<U") == 0)   ? 4
                    : descr.size() > 2 && (descr.compare(0, 2, "|S") == 0) ? 1
                                                                           : 0;
  size_t width = 0;
  if (charSize) {
    std::optional<uint64_t> w = parseCount(descr.substr(2));
    width = w ? (size_t)*w : 0;
    if (!width)
      return error = "'" + path + "' has dtype '" + descr + "', which kiln does not read",
             false;
    out.dtype = KILN_STRING;
    found = true;
  }
  for (const Descr &d : kDescrs)
    if (descr == d.code) {
      out.dtype = d.dtype;
      found = true;
    }
  if (!found)
    return error = "'" + path + "' has dtype '" + descr + "', which kiln does not read",
           false;
  out.shape.clear();
  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')')
    return error = "'" + path + "' has a malformed shape " + shape, false;
  std::stringstream dims(shape.substr(1, shape.size() - 2));
  std::string item;
  while (std::getline(dims, item, ',')) {
    if (item.find_first_not_of(' ') == std::string::npos)
      continue;
    std::optional<uint64_t> d = parseCount(item);
    if (!d)
      return error = "'" + path + "' has a malformed shape " + shape, false;
    if (out.shape.size() == 64)
      return error = "'" + path + "' has a rank over 64, which kiln does not accept", false;
    out.shape.push_back((int64_t)*d);
  }
  std::optional<uint64_t> elements = kiln::checkedElementCount(out.shape);
  uint64_t count = elements.value_or(0);
  std::optional<uint64_t> elementBytes =
      out.dtype == KILN_STRING ? kiln::checkedBytes(width, charSize)
                               : std::optional<uint64_t>(kiln_dtype_size(out.dtype));
  std::optional<uint64_t> checked;
  if (elements && elementBytes)
    checked = kiln::checkedBytes(count, *elementBytes);
  bool tooLarge = !checked;
  uint64_t bytes = checked.value_or(0);
  uint64_t dataStart = (uint64_t)in.tellg();
  if (tooLarge)
    return error = "'" + path + "' declares shape " + shape +
                   ", larger than kiln accepts (2^48 bytes)",
           false;
  if (bytes > fileSize - std::min(fileSize, dataStart))
    return error = "'" + path + "' declares shape " + shape + " (" + std::to_string(bytes) +
                   " bytes) but holds " +
                   std::to_string(fileSize - std::min(fileSize, dataStart)) + " data bytes",
           false;
  if (out.dtype == KILN_STRING) {
    std::vector<char> raw((size_t)count * width * charSize);
    if (!raw.empty() && !in.read(raw.data(), (std::streamsize)raw.size()))
      return error = "'" + path + "' holds fewer strings than its header promises", false;
    out.strings.assign((size_t)count, "");
    for (size_t i = 0; i < (size_t)count; ++i)
      for (size_t c = 0; c < width; ++c) {
        const char *p = raw.data() + (i * width + c) * charSize;
        uint32_t cp = (uint8_t)p[0];
        if (charSize == 4)
          cp |= (uint32_t)(uint8_t)p[1] << 8 | (uint32_t)(uint8_t)p[2] << 16 |
                (uint32_t)(uint8_t)p[3] << 24;
        if (cp == 0)
          break; // NumPy pads with NULs
        if (charSize == 4)
          runtime::appendUtf8(cp, out.strings[i]);
        else
          out.strings[i] += (char)cp;
      }
    return true;
  }
  out.data.resize(bytes);
  if (bytes && !in.read(out.data.data(), bytes))
    return error = "'" + path + "' holds fewer than the " + std::to_string(bytes) +
                   " data bytes its header promises",
           false;
  return true;
}

bool writeNpy(const std::string &path, const NpyArray &array, std::string &error) {
  // NumPy has no bfloat16: write it widened to float32 (exact).
  NpyArray widened;
  if (array.dtype == KILN_BF16) {
    widened.dtype = KILN_F32;
    widened.shape = array.shape;
    widened.data.resize(array.data.size() * 2);
    for (size_t i = 0; i < array.data.size() / 2; ++i) {
      uint32_t bits = (uint32_t)(uint8_t)array.data[2 * i] << 16 |
                      (uint32_t)(uint8_t)array.data[2 * i + 1] << 24;
      std::memcpy(widened.data.data() + 4 * i, &bits, 4);
    }
  }
  // Strings (the runtime filled `data` with pointers): '<U' of the
  // longest, UTF-32.
  std::string stringCode;
  if (array.dtype == KILN_STRING) {
    widened.shape = array.shape;
    std::vector<std::vector<uint32_t>> points;
    size_t width = 1;
    for (size_t i = 0; i < array.data.size() / sizeof(const char *); ++i) {
      const char *p;
      std::memcpy(&p, array.data.data() + i * sizeof(p), sizeof(p));
      points.push_back(utf32(p ? p : ""));
      width = std::max(width, points.back().size());
    }
    widened.data.assign(points.size() * width * 4, 0);
    for (size_t i = 0; i < points.size(); ++i)
      for (size_t c = 0; c < points[i].size(); ++c)
        for (int b = 0; b < 4; ++b)
          widened.data[(i * width + c) * 4 + b] = (char)(points[i][c] >> (8 * b));
    widened.dtype = KILN_STRING;
    stringCode = "<U" + std::to_string(width);
  }
  const NpyArray &a = array.dtype == KILN_BF16 || array.dtype == KILN_STRING ? widened : array;
  const char *code = a.dtype == KILN_STRING ? stringCode.c_str() : nullptr;
  for (const Descr &d : kDescrs)
    if (d.dtype == a.dtype)
      code = d.code;
  if (!code)
    return error = "cannot write dtype " + std::to_string((int)a.dtype) + " as .npy", false;
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i)
    shape += std::to_string(a.shape[i]) + (a.shape.size() == 1 ? "," : i + 1 < a.shape.size() ? ", " : "");
  shape += ")";
  std::string header = "{'descr': '" + std::string(code) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += (char)(header.size() & 0xff);
  bytes += (char)(header.size() >> 8);
  bytes += header;
  bytes.append(a.data.data(), a.data.size());
  return writeFileAtomically(path, bytes, error);
}

} // namespace kiln::cli

// Frontend messages framed by hand, for the wire kernels' C++ tests (included only by
// *_test.cc files).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/codec_bytes.h"

namespace dsql::wire::test {

inline std::string frame(char type, const std::string& body) {
  std::string out(1, type);
  storage::bytes::put_be32(&out, static_cast<uint32_t>(body.size() + 4));
  return out + body;
}

inline std::string cstr(const std::string& s) { return s + std::string(1, '\0'); }

inline std::string i16(int16_t v) {
  std::string s;
  storage::bytes::put_be16(&s, static_cast<uint16_t>(v));
  return s;
}

inline std::string i32(int32_t v) {
  std::string s;
  storage::bytes::put_be32(&s, static_cast<uint32_t>(v));
  return s;
}

// Bind(unnamed portal, stmt, text params) [Describe P] Execute Sync.
inline std::string bind_execute(const std::string& stmt, const std::vector<std::string>& params,
                                bool describe = false, int16_t result_format = 0) {
  std::string b = cstr("") + cstr(stmt) + i16(0) + i16(static_cast<int16_t>(params.size()));
  for (const auto& p : params) b += i32(static_cast<int32_t>(p.size())) + p;
  b += i16(1) + i16(result_format);
  std::string out = frame('B', b);
  if (describe) out += frame('D', "P" + cstr(""));
  return out + frame('E', cstr("") + i32(0)) + frame('S', "");
}

}  // namespace dsql::wire::test

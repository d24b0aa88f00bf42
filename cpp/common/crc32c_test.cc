// CRC32C: both implementations against published vectors and a bit-at-a-time reference.
// Goal: the checksum that guards every journal record is the standard CRC32C, whichever
// implementation the CPU gets. Method: RFC 3720 / iSCSI vectors for each implementation, then
// random buffers at random alignments and split points compared with a slow bitwise reference.
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "testing/unit.h"

namespace dsql {
namespace {

using Fn = uint32_t (*)(uint32_t, const void*, size_t) noexcept;

uint32_t bitwise_reference(const unsigned char* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int b = 0; b < 8; ++b) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

std::vector<Fn> implementations() {
  std::vector<Fn> out{&crc32c::extend_portable, &crc32c::extend};
  if (crc32c::hardware_available()) out.push_back(&crc32c::extend_hardware);
  return out;
}

void check_vectors(Fn fn) {
  unsigned char buf[48];
  CHECK_EQ(fn(0, "", 0), 0u);
  CHECK_EQ(fn(0, "123456789", 9), 0xE3069283u);
  std::memset(buf, 0, 32);
  CHECK_EQ(fn(0, buf, 32), 0x8A9136AAu);
  std::memset(buf, 0xFF, 32);
  CHECK_EQ(fn(0, buf, 32), 0x62A8AB43u);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<unsigned char>(i);
  CHECK_EQ(fn(0, buf, 32), 0x46DD794Eu);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<unsigned char>(31 - i);
  CHECK_EQ(fn(0, buf, 32), 0x113FDB5Cu);
  // An iSCSI read command PDU (RFC 3720 B.4).
  const unsigned char pdu[48] = {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
                                 0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  CHECK_EQ(fn(0, pdu, 48), 0xD9963A56u);
}

DSQL_TEST(Crc32c, PortableMatchesPublishedVectors) { check_vectors(&crc32c::extend_portable); }

DSQL_TEST(Crc32c, HardwareMatchesPublishedVectors) {
  // On a CPU without SSE4.2 there is nothing to test here beyond the dispatch.
  if (crc32c::hardware_available()) {
    check_vectors(&crc32c::extend_hardware);
    CHECK_EQ(std::string(crc32c::implementation()), std::string("sse4.2"));
  } else {
    CHECK_EQ(std::string(crc32c::implementation()), std::string("table"));
  }
  check_vectors(&crc32c::extend);
}

DSQL_TEST(Crc32c, RandomBuffersAlignmentsAndSplitsAgree) {
  std::mt19937_64 rng(42);
  std::vector<unsigned char> buf(4096 + 16);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  for (int iter = 0; iter < 400; ++iter) {
    const size_t start = rng() % 16;
    const size_t n = rng() % 4096;
    const size_t split = n == 0 ? 0 : rng() % (n + 1);
    const unsigned char* p = buf.data() + start;
    const uint32_t want = bitwise_reference(p, n);
    for (Fn fn : implementations()) {
      CHECK_EQ(fn(0, p, n), want);
      CHECK_EQ(fn(fn(0, p, split), p + split, n - split), want);
    }
  }
  CHECK_EQ(crc32c::value(std::string_view("123456789")), 0xE3069283u);
}

}  // namespace
}  // namespace dsql::journal

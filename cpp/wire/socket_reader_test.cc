// SocketReader: what a connection thread waits for.
// Goal: each event is reported for the right cause, fast-path requests are answered without
// returning, and nothing is lost or reordered. Method: a socketpair stands in for the client
// connection and an eventfd for the wake descriptor; the fast path serves one registered
// statement over a real ShardMap.
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "storage/codec_bytes.h"
#include "testing/unit.h"
#include "wire/socket_reader.h"

namespace dsql::wire {
namespace {

using storage::Datum;
using storage::TypeId;

struct Pipe {
  int server = -1, client = -1, wake = -1;
  Pipe() {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    server = sv[0];
    client = sv[1];
    wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    REQUIRE(wake >= 0);
  }
  ~Pipe() {
    ::close(server);
    if (client >= 0) ::close(client);
    ::close(wake);
  }
  void send(const std::string& s) const { REQUIRE(::write(client, s.data(), s.size()) == static_cast<ssize_t>(s.size())); }
  std::string recv_all() const {
    std::string out;
    char buf[4096];
    for (int i = 0; i < 100; ++i) {
      const ssize_t n = ::recv(client, buf, sizeof(buf), MSG_DONTWAIT);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
};

std::string frame(char type, const std::string& body) {
  std::string out(1, type);
  storage::bytes::put_be32(&out, static_cast<uint32_t>(body.size() + 4));
  return out + body;
}

DSQL_TEST(SocketReader, ReportsDataEofWakeAndTimeout) {
  Pipe p;
  SocketReader r(p.server, p.wake);
  auto got = r.next(nullptr, 0);
  CHECK(got.event == SocketReader::Event::kTimeout);
  p.send("hello");
  got = r.next(nullptr, 1000);
  CHECK(got.event == SocketReader::Event::kData);
  CHECK_EQ(got.bytes, std::string("hello"));
  const uint64_t one = 1;
  REQUIRE(::write(p.wake, &one, sizeof(one)) == 8);
  got = r.next(nullptr, 1000);
  CHECK(got.event == SocketReader::Event::kWake);
  got = r.next(nullptr, 0);  // drained: no second wake
  CHECK(got.event == SocketReader::Event::kTimeout);
  ::close(p.client);
  p.client = -1;
  got = r.next(nullptr, 1000);
  CHECK(got.event == SocketReader::Event::kEof);
}

DSQL_TEST(SocketReader, AnswersFastRequestsAndReturnsTheRest) {
  Pipe p;
  auto store = std::make_shared<storage::ShardMap>();
  auto fast = std::make_shared<FastPath>(store);
  storage::KeyLayout key{7, {storage::KeyColumn{TypeId::kInt4}}};
  storage::RowLayout row{{TypeId::kInt8}};
  const std::string k = key.encode(std::vector<Datum>{int32_t{5}});
  const std::string v = std::string(1, '\0') + row.encode(std::vector<Datum>{int64_t{55}});
  storage::WriteView w{k, v, false};
  store->apply(3, &w, 1);
  store->advance_watermark(3);
  auto plan = std::make_shared<PointPlan>(PointPlan{key, {0}, 1, 0, row, {Output{false, 0}},
                                                    {Field{"v", 0, 0, kOidInt8, 8, -1}},
                                                    fast->epoch()});
  plan->validate();
  FastConn conn(fast);
  Normalized n;
  REQUIRE(normalize("SELECT v FROM t WHERE id = 1", &n));
  conn.add_query(n.text, plan);
  SocketReader r(p.server, p.wake);
  const std::string q = std::string("SELECT v FROM t WHERE id = 5") + '\0';
  p.send(frame('Q', q));
  auto got = r.next(&conn, 200);  // answered inside, then nothing more: a timeout
  CHECK(got.event == SocketReader::Event::kTimeout);
  const std::string reply = p.recv_all();
  CHECK(reply.size() > 10 && reply[0] == 'T' && reply.back() == 'I');
  CHECK(reply.find("55") != std::string::npos);
  p.send(frame('Q', std::string("SELECT 1") + '\0'));
  got = r.next(&conn, 1000);  // not registered: back to the caller, byte for byte
  CHECK(got.event == SocketReader::Event::kData);
  CHECK_EQ(got.bytes, frame('Q', std::string("SELECT 1") + '\0'));
  CHECK_EQ(conn.stats().served, uint64_t{1});
}

}  // namespace
}  // namespace dsql::wire

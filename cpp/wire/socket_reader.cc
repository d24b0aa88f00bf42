// Blocking reads of one client connection, the fast path inside (see socket_reader.h).
#include "wire/socket_reader.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstdint>

namespace dsql::wire {
namespace {

// A bound on the loops below: polls per next() call (each either waits, reads or is
// interrupted), far above what a real call does.
constexpr int kMaxPolls = 1 << 20;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

size_t send_now(int fd, std::string_view data) {
  size_t sent = 0;
  for (int i = 0; i < kMaxPolls && sent < data.size(); ++i) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // EAGAIN (full) or an error: the caller's writer takes over and reports it
    }
  }
  return sent;
}

namespace {

void drain(int fd) {
  char sink[64];
  for (int i = 0; i < kMaxPolls; ++i) {
    const ssize_t n = ::read(fd, sink, sizeof(sink));
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    break;
  }
}

}  // namespace

SocketReader::SocketReader(int fd, int wake_fd) : fd_(fd), wake_fd_(wake_fd) {
  assert(fd >= 0 && wake_fd >= 0);
  buf_.resize(kReadBytes);
}

SocketReader::Result SocketReader::next(FastConn* fast, int timeout_ms) {
  assert(timeout_ms >= 0);
  const int64_t deadline = now_ms() + timeout_ms;
  Result r;
  for (int polls = 0; polls < kMaxPolls; ++polls) {
    const int64_t left = deadline - now_ms();
    if (left < 0) break;
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int ready = ::poll(fds, 2, static_cast<int>(left));
    if (ready < 0) {
      if (errno == EINTR) continue;
      r.event = Event::kEof;  // poll on a bad descriptor: the connection is unusable
      return r;
    }
    if (ready == 0) break;
    if (fds[1].revents != 0) {
      drain(wake_fd_);
      r.event = Event::kWake;
      return r;
    }
    if (fds[0].revents == 0) continue;
    const ssize_t n = ::recv(fd_, buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) {
      r.event = Event::kEof;
      return r;
    }
    const std::string_view got(buf_.data(), static_cast<size_t>(n));
    reply_.clear();
    if (fast != nullptr && fast->serve(got, &reply_)) {
      const size_t sent = send_now(fd_, reply_);
      if (sent == reply_.size()) continue;  // answered: wait for the next request here
      r.event = Event::kUnsent;
      r.bytes.assign(reply_, sent, std::string::npos);
      return r;
    }
    r.event = Event::kData;
    r.bytes.assign(got);
    assert(!r.bytes.empty());
    return r;
  }
  r.event = Event::kTimeout;
  return r;
}

}  // namespace dsql::wire

// Blocking reads of one client connection for its own thread, with the fast path inside.
//
// A connection thread (src/dsql/server/connection.py, thread mode) waits here, without the
// Python GIL, for the next bytes from its client. When the caller passes its FastConn (the
// session is idle, so the fast path may answer), every buffer the fast path answers whole is
// answered and sent right here and waiting goes on: a client sending only point SELECTs never
// wakes the interpreter. Anything else comes back to the caller:
//   kData     bytes for the general path (the fast path refused them, or was not offered)
//   kEof      the client closed the connection (or it failed: reset, ...)
//   kWake     another thread wrote to the wake descriptor (shutdown, a timeout, a cancel)
//   kTimeout  nothing arrived within timeout_ms
//   kUnsent   the fast path answered, but the socket would not take all of the reply without
//             blocking: `bytes` is the rest, for the caller's blocking writer
// The wake descriptor is an eventfd (or any readable descriptor); next() drains it.
//
// Thread-safety: one thread per SocketReader. The descriptors are the caller's: it keeps them
// open while next() runs and closes them afterwards.
// Invariants:
//   1. next() reads at most kReadBytes per call and never blocks in send().
//   2. Bytes are returned or answered in the order they arrived; none is dropped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "wire/point_query.h"

namespace dsql::wire {

// Sends what the socket takes now, never blocking (MSG_DONTWAIT); returns how many bytes went
// out. Stops at EAGAIN or an error: the caller's blocking writer sends the rest (and reports
// the error).
size_t send_now(int fd, std::string_view data);

class SocketReader {
 public:
  static constexpr size_t kReadBytes = size_t{1} << 16;

  enum class Event { kData = 0, kEof = 1, kWake = 2, kTimeout = 3, kUnsent = 4 };
  struct Result {
    Event event = Event::kTimeout;
    std::string bytes;
  };

  // REQUIRES: fd >= 0, wake_fd >= 0.
  SocketReader(int fd, int wake_fd);
  SocketReader(const SocketReader&) = delete;
  SocketReader& operator=(const SocketReader&) = delete;

  // Waits at most timeout_ms (>= 0) for something to report (see the file comment).
  // `fast` may be null (the general path takes everything).
  Result next(FastConn* fast, int timeout_ms);

 private:
  int fd_;
  int wake_fd_;
  std::string buf_;
  std::string reply_;
};

}  // namespace dsql::wire

#include "journal/append_load.h"

#include <atomic>
#include <cassert>
#include <chrono>
#include <thread>

namespace dsql::journal {

AppendLoadResult run_append_load(Journal& journal, int committers, int64_t duration_ns,
                                 int64_t first_ts, const std::vector<WriteView>& writes) {
  assert(committers > 0);
  assert(duration_ns > 0);
  using Clock = std::chrono::steady_clock;
  std::atomic<uint64_t> appends{0};
  std::atomic<uint64_t> late{0};
  std::atomic<bool> go{false};
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::nanoseconds(duration_ns);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(committers));
  for (int t = 0; t < committers; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      int64_t ts = first_ts + (static_cast<int64_t>(t) << 32);
      uint64_t mine = 0;
      while (Clock::now() < deadline) {
        const uint64_t lsn = journal.append(ts++, writes);
        if (journal.durable_lsn() < lsn) late.fetch_add(1, std::memory_order_relaxed);
        ++mine;
      }
      appends.fetch_add(mine, std::memory_order_relaxed);
    });
  }
  go.store(true, std::memory_order_release);
  for (std::thread& th : threads) th.join();
  AppendLoadResult result;
  result.appends = appends.load();
  result.late_acks = late.load();
  result.elapsed_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
  assert(result.elapsed_ns >= duration_ns);
  return result;
}

}  // namespace dsql::journal

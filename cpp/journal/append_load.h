// A load of concurrent committers driven from C++, for the journal benchmark.
//
// Python committer threads measure the whole path, but with dozens of threads the GIL's
// hand-offs (one per acknowledged append) cap the rate long before the journal does; this
// load measures the journal's group commit itself: `committers` threads, each appending one
// record at a time and checking that the record is durable when append() returns.
//
// Thread-safety: run_append_load() starts and joins its own threads; the journal is shared by
// them as Journal allows. It runs for about duration_ns (bounded: every thread stops at the
// deadline after its current append).
#pragma once

#include <cstdint>
#include <vector>

#include "journal/journal.h"

namespace dsql::journal {

struct AppendLoadResult {
  uint64_t appends = 0;
  int64_t elapsed_ns = 0;
  uint64_t late_acks = 0;  // acks that came before durable_lsn covered the record (must be 0)
};

// REQUIRES: committers > 0, duration_ns > 0. Commit timestamps are first_ts + (thread << 32) + n.
AppendLoadResult run_append_load(Journal& journal, int committers, int64_t duration_ns,
                                 int64_t first_ts, const std::vector<WriteView>& writes);

}  // namespace dsql::journal

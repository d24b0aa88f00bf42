// The benchmark load: concurrent C++ committers, every ack durable, every record readable.
#include "journal/append_load.h"
#include "journal/test_support.h"
#include "testing/unit.h"

namespace dsql::journal {
namespace {

DSQL_TEST(AppendLoad, ConcurrentCommittersAllDurable) {
  test::TempDir dir;
  Options options;
  options.durability = Durability::kUnsafeNoSync;
  auto j = Journal::open(dir.sub("j"), options);
  const std::string key = "k", value = "v";
  const std::vector<WriteView> writes{WriteView{key, value, false}};
  const AppendLoadResult r = run_append_load(*j, 8, 50'000'000, 1000, writes);
  CHECK(r.appends > 0);
  CHECK_EQ(r.late_acks, uint64_t{0});
  CHECK(r.elapsed_ns >= 50'000'000);
  CHECK_EQ(j->durable_lsn(), r.appends);
}

}  // namespace
}  // namespace dsql::journal

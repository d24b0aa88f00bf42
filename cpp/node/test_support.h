// A node's commit kernels wired as dsql.node.Node wires them, for C++ tests (included only by
// *_test.cc files): the real adjudicator on a simulated clock, a journal in a temporary
// directory (no fsync), a shard map, the sequencer and the CommitPath.
//
// Thread-safety: a TestNode is owned by one test; its kernels are as thread-safe as they are.
#pragma once

#include <memory>
#include <string>

#include "adjudicator/adjudicator.h"
#include "clock/hybrid_clock.h"
#include "clock/simulated_source.h"
#include "journal/test_support.h"
#include "node/commit_path.h"
#include "node/sequencer.h"
#include "storage/shard_map.h"

namespace dsql::node::test {

struct TestNode {
  journal::test::TempDir dir;
  std::shared_ptr<clock::HybridClock> clock;
  std::unique_ptr<adjudicator::Adjudicator> adj;
  std::shared_ptr<journal::Journal> journal;
  std::shared_ptr<storage::ShardMap> storage;
  std::shared_ptr<Sequencer> seq;
  std::shared_ptr<CommitPath> path;

  TestNode() {
    clock::SimulatedSource::Options opt;
    opt.start_ns = 1000;
    clock = std::make_shared<clock::HybridClock>(std::make_shared<clock::SimulatedSource>(opt));
    adjudicator::AdjudicatorConfig config;
    config.hash_seed = 7;
    adj = std::make_unique<adjudicator::Adjudicator>(clock, config);
    journal::Options jo;
    jo.durability = journal::Durability::kUnsafeNoSync;
    journal = journal::Journal::open(dir.sub("journal"), jo);
    storage = std::make_shared<storage::ShardMap>();
    auto* j = journal.get();
    auto* a = adj.get();
    seq = std::make_shared<Sequencer>(
        0, [j] { return j->durable_lsn() + 1; }, [a](int64_t ts) { return a->promise_through(ts); });
    path = std::make_shared<CommitPath>(adj.get(), seq, journal, storage);
  }

  std::string read(const std::string& key, int64_t ts) const {
    std::string out;
    const storage::PointRead r = storage->read_into(key, ts, &out);
    return r == storage::PointRead::kFound ? out : "<absent>";
  }
};

}  // namespace dsql::node::test

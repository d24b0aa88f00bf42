// The commit path (commit_path.h): Node.commit's steps for one in-process adjudicator.
#include "node/commit_path.h"

#include <cassert>
#include <exception>
#include <utility>

namespace dsql::node {
namespace {

// How long commit() waits for earlier commits to be applied before it returns regardless.
constexpr int64_t kVisibleWaitNs = 10'000'000'000;

}  // namespace

CommitPath::CommitPath(adjudicator::Adjudicator* adjudicator,
                       std::shared_ptr<Sequencer> sequencer,
                       std::shared_ptr<journal::Journal> journal,
                       std::shared_ptr<storage::ShardMap> storage)
    : adjudicator_(adjudicator),
      sequencer_(std::move(sequencer)),
      journal_(std::move(journal)),
      storage_(std::move(storage)) {
  if (adjudicator_ == nullptr || !sequencer_ || !journal_ || !storage_) {
    throw std::invalid_argument("the commit path needs an adjudicator, sequencer, journal "
                                "and storage");
  }
  assert(adjudicator_ != nullptr && journal_->options().record_bytes_max > 0);
}

adjudicator::TxnResult CommitPath::commit(int64_t start_ts,
                                          std::span<const adjudicator::KeyWrite> claims,
                                          journal::EncodedRecord record,
                                          const storage::WriteView* writes, size_t count) {
  assert(writes != nullptr || count == 0);
  assert(!record.frame.empty());
  adjudicator::TxnResult result;
  const adjudicator::TxnRequest request{0, start_ts, claims};
  sequencer_->decide([&] {
    result = adjudicator_->adjudicate(request);
    return result.outcome == adjudicator::Outcome::kCommitted ? result.commit_ts
                                                              : Sequencer::kNoCommit;
  });
  if (result.outcome != adjudicator::Outcome::kCommitted) return result;
  const int64_t commit_ts = result.commit_ts;
  assert(commit_ts > start_ts);

  journal::restamp_record(&record, commit_ts);
  try {
    journal_->append(std::move(record));
  } catch (...) {
    // Never durable, so never acknowledged: it leaves the in-flight set so that readers are
    // not held back by it.
    storage_->advance_watermark(sequencer_->finish(commit_ts));
    throw;
  }
  // (The sequencer keeps durable_lsn + 1 at decision time as this commit's replay bound: a
  // valid lower bound on its lsn, so no second lock round-trip to tighten it.)
  try {
    storage_->apply(commit_ts, writes, count);
  } catch (const std::exception& e) {
    // Durable but not in storage: the watermark must never pass it (it stays in flight).
    throw ApplyFailed(commit_ts, e.what());
  }
  storage_->advance_watermark(sequencer_->finish(commit_ts));
  // Invariant 3: acknowledged once visible at the watermark. An earlier commit still being
  // applied holds it below this one for a moment (a failed apply stops the node instead).
  if (storage_->watermark() < commit_ts) storage_->wait_for_watermark(commit_ts, kVisibleWaitNs);
  assert(storage_->watermark() >= 0);
  return result;
}

}  // namespace dsql::node

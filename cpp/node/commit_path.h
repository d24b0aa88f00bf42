// The commit path of a node with one in-process adjudicator, in one call: decide (adjudicator
// under the sequencer), make durable (journal group commit), apply (storage shard map), advance
// the watermark. The Python node (src/dsql/node/node.py) crosses into C++ once per commit
// instead of once per step, and the committing thread runs no Python while its record is being
// written and synced.
//
//     CommitPath path(adjudicator, sequencer, journal, storage);
//     TxnResult r = path.commit(start_ts, claims, journal->encode(0, writes, n), writes', n);
//     // r.outcome == kCommitted: durable, applied, and the watermark moved on where it may
//
// The order and the failure rules are Node.commit's:
//   - not committed by the adjudicator: nothing else happens; the result says why.
//   - the journal append fails (JournalError, nothing durable): the commit leaves the
//     sequencer's in-flight set so that readers are not held back by it, then the error
//     propagates.
//   - the storage apply fails (the record is durable but not in storage): ApplyFailed, and the
//     watermark never passes the commit; the caller must stop the node (reopening replays the
//     journal).
//
// Thread-safety: commit() may be called from any number of threads at once; the sequencer
// serialises decisions, the journal batches fsyncs, the shard map serialises applies.
// Invariants:
//   1. A commit ts is in the sequencer's in-flight set from its decision until it is applied
//      (or its journal append failed), so the watermark stays below it until it is visible.
//   2. commit() returns kCommitted only after the record is durable and applied.
//   3. ... and once the storage watermark has reached it (a read at the watermark, as the
//      server's fast lane reads, sees every acknowledged commit), unless an earlier commit
//      never gets applied (its ApplyFailed stops the node) and 10 s pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#include "adjudicator/adjudicator.h"
#include "journal/journal.h"
#include "node/sequencer.h"
#include "storage/shard_map.h"

namespace dsql::node {

// A durable commit that storage refused: the node must stop (see the file comment).
class ApplyFailed : public std::runtime_error {
 public:
  ApplyFailed(int64_t commit_ts, const std::string& why)
      : std::runtime_error("commit at ts " + std::to_string(commit_ts) +
                           " is durable but could not be applied to storage: " + why),
        commit_ts_(commit_ts) {}
  int64_t commit_ts() const noexcept { return commit_ts_; }

 private:
  int64_t commit_ts_;
};

class CommitPath {
 public:
  // REQUIRES: every pointer is set; the adjudicator outlives this object (the others are
  // shared); the sequencer's watermark is the storage's.
  CommitPath(adjudicator::Adjudicator* adjudicator, std::shared_ptr<Sequencer> sequencer,
             std::shared_ptr<journal::Journal> journal,
             std::shared_ptr<storage::ShardMap> storage);
  CommitPath(const CommitPath&) = delete;
  CommitPath& operator=(const CommitPath&) = delete;

  // Decides, journals and applies one transaction (see the file comment for failures).
  // `record` frames `writes` (any commit ts: it is restamped with the decided one).
  // REQUIRES: record came from journal.encode() of the same writes; writes != nullptr or
  // count == 0.
  adjudicator::TxnResult commit(int64_t start_ts, std::span<const adjudicator::KeyWrite> claims,
                                journal::EncodedRecord record,
                                const storage::WriteView* writes, size_t count);

  const journal::Journal& journal() const noexcept { return *journal_; }

 private:
  adjudicator::Adjudicator* const adjudicator_;
  const std::shared_ptr<Sequencer> sequencer_;
  const std::shared_ptr<journal::Journal> journal_;
  const std::shared_ptr<storage::ShardMap> storage_;
};

}  // namespace dsql::node

// The adjudicator: decides whether a transaction may commit, and at which timestamp.
//
// Aurora DSQL semantics: optimistic concurrency, snapshot isolation, first committer wins, no
// locks and no waiting. A transaction T with start τ_start and write set W (keys with kinds,
// kind.h) aborts if some other transaction committed a conflicting kind on a key of W at a
// τ_commit > T's τ_start. Otherwise T commits at
//
//     τ_commit = clock.next_above(max(τ_start, promise))
//
// which is unique, above τ_start, above every timestamp the clock handed out before, and above
// every promise this adjudicator made ("nothing commits at or below P": heartbeat(),
// promise_through()), so storage watermarks can advance while nobody writes.
//
// Memory. For each recently written key the table (KeyTable, open addressing) keeps the newest
// commit ts per kind. A ring of key ids in touch order (each commit appends its keys; a key's
// older entries go stale) gives the least recently written key first; it is read front to
// back, so evictions can be prefetched. The window floor F says: every commit with ts > F is
// remembered. F rises (never falls) to clock.last() - window_ns at the start of each decision,
// and to the newest ts of any key evicted because the table holds more than max_keys keys.
// Keys at the front of the ring whose newest ts is <= F are dropped. A τ_start < F cannot be
// checked and gets kTooOld. Batches compute every key's hash first and prefetch the table a
// few transactions ahead.
//
// Clock status. When clock.read().status is kUnknown: as the single timestamp authority
// (embedded and single-server default) commits go on and clock_unsynchronized_seen() turns
// true so that the caller can log once; otherwise (timestamps from several clocks) commits
// and prepares are refused (kRefused) rather than ordered by a guess. Batches read the status
// once, at their start.
//
// Votes (several shards). prepare() checks a transaction's keys on this shard; if clear it
// proposes a ts and holds the keys: until decide() arrives (or hold_until_ns passes and
// expire_pending()/heartbeat() releases the hold) any transaction with a conflicting claim on
// a held key is aborted (OCC: never wait), and promises stay below the proposed ts. decide()
// with commit records the keys at the coordinator's τ_commit (>= the proposal) and makes the
// clock observe it; with abort it only releases the hold.
//
// Thread-safety: every public method may be called from any thread; one mutex serialises
// them (a batch takes it once).
// Invariants:
//   1. floor_ and promise_ never decrease.
//   2. Every commit recorded with ts > floor_ is in recent_ (per key, the newest per kind).
//   3. Every τ_commit handed out is > promise_ at the time, and promise_ < every pending
//      transaction's proposed ts.
//   4. recent_.size() <= max_keys after every public call; each key of recent_ has exactly
//      one live ring entry (the one at its ring_pos), and ring entries are in touch order.
//   5. A key is held by at most one kFull holder and then by no other, or by at most one
//      kNonKey holder plus any number of kKeyShare holders.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "adjudicator/key_table.h"
#include "adjudicator/kind.h"
#include "adjudicator/messages.h"
#include "clock/hybrid_clock.h"

namespace dsql::adjudicator {

struct AdjudicatorConfig {
  int64_t window_ns = 300'000'000'000;  // how far back a τ_start may lie
  uint32_t max_keys = 1'000'000;        // keys remembered before the oldest are evicted
  bool single_timestamp_authority = true;
  int64_t hold_ns = 10'000'000'000;     // how long a prepared transaction's keys stay held
  uint32_t max_pending_txns = 10'000;   // prepared, undecided transactions; more get kBusy
  uint32_t max_txn_keys = 100'000;      // writes per transaction (std::invalid_argument above)
  uint32_t shard = 0;                   // stamped on votes and acks
  uint64_t hash_seed = 0;               // 0: a random seed
};

// Start timestamps must lie in [0, kMaxStartTs] (std::invalid_argument otherwise).
inline constexpr int64_t kMaxStartTs = int64_t{1} << 62;

struct AdjudicatorStats {
  uint32_t keys = 0;
  int64_t window_floor_ts = INT64_MIN;
  int64_t promised_ts = INT64_MIN;
  uint32_t pending_txns = 0;
  uint32_t held_keys = 0;
  uint64_t committed = 0;
  uint64_t conflicts = 0;
  uint64_t too_old = 0;
  uint64_t refused = 0;
  uint64_t busy = 0;
  uint64_t expired = 0;
  uint64_t evicted_by_time = 0;
  uint64_t evicted_by_memory = 0;
  uint64_t memory_bytes = 0;
};

class Adjudicator {
 public:
  // REQUIRES: clock != nullptr, config.window_ns > 0, config.max_keys > 0,
  // config.hold_ns > 0, config.max_pending_txns > 0, config.max_txn_keys > 0
  // (std::invalid_argument otherwise).
  Adjudicator(std::shared_ptr<clock::HybridClock> clock, AdjudicatorConfig config);
  Adjudicator(const Adjudicator&) = delete;
  Adjudicator& operator=(const Adjudicator&) = delete;

  // Decides one transaction. std::invalid_argument if it has more than max_txn_keys writes
  // or a key longer than KeyTable's kMaxKeyBytes.
  TxnResult adjudicate(const TxnRequest& txn);

  // Decides txns in order; a later transaction sees the commits of earlier ones.
  // REQUIRES: results.size() == txns.size(). Inputs are validated before any is decided.
  void adjudicate_batch(std::span<const TxnRequest> txns, std::span<TxnResult> results);

  // The vote (header). std::invalid_argument if the request is malformed or the txn id is
  // already prepared here.
  Vote prepare(const PrepareRequest& request);
  Ack decide(const Decision& decision);
  // Releases prepared transactions whose hold has certainly passed (clock earliest >
  // hold_until_ns); returns how many.
  uint32_t expire_pending();

  // Promises that nothing commits here at or below the returned ts (a fresh clock timestamp,
  // held below any pending proposal); expires overdue holds first.
  int64_t heartbeat();
  // Promises through ts if no prepared transaction's proposal is at or below it (else just
  // below the lowest one); returns the promise now in force.
  int64_t promise_through(int64_t ts);

  AdjudicatorStats stats() const;
  bool clock_unsynchronized_seen() const;
  const AdjudicatorConfig& config() const noexcept { return config_; }
  const std::shared_ptr<clock::HybridClock>& clock() const noexcept { return clock_; }
  // Walks the structures and returns false if an invariant is broken. O(n); for tests.
  bool check_invariants() const;

 private:
  static constexpr uint32_t kNoId = KeyTable<int>::kNoId;

  struct Recent {  // per key: the newest commit ts per kind (INT64_MIN: none), live ring entry
    int64_t ts[kKindCount];
    uint32_t ring_pos;  // low 32 bits of the position of the key's live ring entry
  };
  struct Hold {  // per held key: how many prepared transactions hold it, per kind
    uint32_t count[kKindCount];
    uint64_t holder[kKindCount];  // one of them, for reports
  };
  struct Unique {  // one distinct key of the transaction being decided
    uint32_t index;  // first occurrence in the writes
    Kind kind;       // strongest kind over all occurrences
    uint32_t id;     // its id in recent_, or kNoId
    uint64_t hash;
  };
  struct Pending {
    int64_t start_ts;
    int64_t proposed_ts;
    int64_t hold_until_ns;
    std::vector<OwnedWrite> writes;  // merged: distinct keys, strongest kinds
  };

  // All private methods REQUIRE mu_ held.
  static void validate(const TxnRequest& txn, uint32_t max_txn_keys);
  bool clock_refuses();
  void advance_window();
  void merge(std::span<const KeyWrite> writes) { merge(writes, nullptr); }
  void merge(std::span<const KeyWrite> writes, const uint64_t* hashes);
  bool find_conflict(int64_t start_ts, std::span<const KeyWrite> writes, TxnResult* out);
  void lookup_ids(std::span<const KeyWrite> writes);
  void record(std::span<const KeyWrite> writes, int64_t commit_ts);
  void ring_push(uint32_t id);
  void ring_rebuild();
  bool ring_front_live(uint32_t* id);
  void prefetch_ring_front() const;
  void evict_front(uint32_t id, bool for_memory);
  void enforce_max_keys();
  void hold(uint64_t txn_id, const OwnedWrite& w);
  void release(uint64_t txn_id, const Pending& p);
  int64_t lowest_pending_proposal() const;
  uint32_t expire_pending_locked(const clock::Reading& r);
  TxnResult decide_one(const TxnRequest& txn, const uint64_t* hashes);
  static int64_t newest(const Recent& r) noexcept;

  const std::shared_ptr<clock::HybridClock> clock_;
  const AdjudicatorConfig config_;
  const uint64_t seed_;  // both tables hash with it, so one hash per key serves both

  mutable std::mutex mu_;
  KeyTable<Recent> recent_;
  KeyTable<Hold> holds_;
  std::unordered_map<uint64_t, Pending> pending_;
  std::vector<uint32_t> ring_;  // key ids in touch order; size a power of two
  uint64_t ring_head_ = 0;      // position of the oldest entry (index = position & mask)
  uint64_t ring_tail_ = 0;      // one past the newest
  int64_t floor_ = INT64_MIN;
  int64_t promise_ = INT64_MIN;
  bool unsync_seen_ = false;
  std::vector<Unique> uniques_;      // scratch for the transaction being decided
  std::vector<uint32_t> order_;      // scratch for merging large write sets
  std::vector<KeyWrite> views_;      // scratch: owned writes seen as KeyWrite
  std::vector<uint64_t> hash_scratch_;
  std::vector<uint64_t> batch_hashes_;   // every key's hash, for the batch being decided
  std::vector<size_t> batch_offsets_;    // where each transaction's hashes start
  AdjudicatorStats counters_;
};

}  // namespace dsql::adjudicator

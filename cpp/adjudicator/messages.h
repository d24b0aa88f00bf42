// The adjudicator's inputs and outputs, as plain data.
//
// Two shapes:
//   - the fast path (one adjudicator decides alone): TxnRequest in, TxnResult out. The request
//     borrows its keys (string_view) so that a batch of transactions needs no copies; the result
//     names the conflicting key by its index in the request.
//   - the vote among several key-range shards: PrepareRequest -> Vote, Decision -> Ack. These
//     own their bytes and hold nothing but values, so that shards can later live in other
//     processes and exchange them as messages.
//
// Thread-safety: plain values; no shared state.
// Invariants:
//   1. TxnResult::commit_ts is set (> start_ts) iff outcome == kCommitted.
//   2. A Vote with yes == true has proposed_ts > the voter's promise and hold_until_ns set;
//      a Vote with yes == false names its reason (never kCommitted).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adjudicator/kind.h"

namespace dsql::adjudicator {

enum class Outcome : uint8_t {
  kCommitted = 0,
  kConflict = 1,  // another transaction committed (or holds) a conflicting claim on a key
  kTooOld = 2,    // start_ts is below the window floor: the conflict check cannot be made
  kRefused = 3,   // the clock's status is unknown and this adjudicator is not the only authority
  kBusy = 4,      // too many prepared transactions are waiting for their decision
  kExpired = 5,   // a multi-shard transaction's hold ran out before its decision arrived
};

inline constexpr int kOutcomeCount = 6;

constexpr std::string_view outcome_name(Outcome o) noexcept {
  switch (o) {
    case Outcome::kCommitted: return "committed";
    case Outcome::kConflict: return "conflict";
    case Outcome::kTooOld: return "too-old";
    case Outcome::kRefused: return "refused";
    case Outcome::kBusy: return "busy";
    case Outcome::kExpired: return "expired";
  }
  return "invalid";
}

// ---- fast path ---------------------------------------------------------------------------

struct KeyWrite {
  std::string_view key;
  Kind kind = Kind::kFull;
};

struct TxnRequest {
  uint64_t txn_id = 0;
  int64_t start_ts = 0;
  std::span<const KeyWrite> writes;
};

struct TxnResult {
  Outcome outcome = Outcome::kCommitted;
  int64_t commit_ts = 0;  // kCommitted only
  // kConflict only:
  uint32_t key_index = 0;  // first occurrence of the conflicting key in the request's writes
  Kind mine = Kind::kFull;    // this transaction's (merged) kind on that key
  Kind theirs = Kind::kFull;  // the other side's kind (the strongest conflicting one)
  bool pending = false;       // the other side is prepared and not yet decided
  uint64_t other_txn = 0;     // the other side's txn id when pending; 0 when it committed
};

// ---- the vote among shards ---------------------------------------------------------------

struct OwnedWrite {
  std::string key;
  Kind kind = Kind::kFull;
};

struct Conflict {
  std::string key;
  Kind mine = Kind::kFull;
  Kind theirs = Kind::kFull;
  bool pending = false;
  uint64_t other_txn = 0;
};

// Sent by the coordinator to each shard a transaction touches, with that shard's keys.
struct PrepareRequest {
  uint64_t txn_id = 0;
  int64_t start_ts = 0;
  uint32_t shard = 0;
  std::vector<OwnedWrite> writes;
};

// A shard's answer. yes: the keys are clear and now held (a conflicting transaction arriving at
// this shard is aborted until the decision), the commit may happen at any ts >= proposed_ts,
// and the decision must arrive before hold_until_ns (clock time), after which the shard may
// release the hold on its own.
struct Vote {
  uint64_t txn_id = 0;
  uint32_t shard = 0;
  bool yes = false;
  Outcome reason = Outcome::kConflict;  // when !yes
  int64_t proposed_ts = 0;              // when yes
  int64_t hold_until_ns = 0;            // when yes
  Conflict conflict;                    // when reason == kConflict
};

// The coordinator's verdict, sent to every shard that was asked to prepare.
struct Decision {
  uint64_t txn_id = 0;
  bool commit = false;
  int64_t commit_ts = 0;  // when commit: >= every yes vote's proposed_ts
};

struct Ack {
  uint64_t txn_id = 0;
  uint32_t shard = 0;
  bool ok = false;
  std::string error;  // when !ok
};

}  // namespace dsql::adjudicator

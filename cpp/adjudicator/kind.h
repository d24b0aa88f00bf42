// Write kinds and the conflict matrix the adjudicator applies (Aurora DSQL's rules).
//
// Every key a transaction sends to COMMIT carries a kind saying how strongly it claims the key:
//
//   kKeyShare  SELECT ... FOR KEY SHARE: the row must keep existing with the same key
//   kNonKey    UPDATE of non-key columns only
//   kFull      INSERT, DELETE, an UPDATE that changes key columns, SELECT ... FOR UPDATE
//
// Two claims on one key conflict as follows (symmetric):
//
//                 keyshare  nonkey  full
//      keyshare      -        -      X
//      nonkey        -        X      X
//      full          X        X      X
//
// The kinds form a chain ordered by the set of kinds they conflict with, so a transaction that
// claims one key several times is checked and recorded with the strongest (largest) of them.
//
// Thread-safety: constants and pure functions only.
// Invariants:
//   1. conflicts(a, b) == conflicts(b, a).
//   2. a <= b implies the kinds conflicting with a are a subset of those conflicting with b.
#pragma once

#include <cstdint>
#include <string_view>

namespace dsql::adjudicator {

enum class Kind : uint8_t {
  kKeyShare = 0,
  kNonKey = 1,
  kFull = 2,
};

inline constexpr int kKindCount = 3;

constexpr bool valid_kind(int k) noexcept { return k >= 0 && k < kKindCount; }

constexpr bool conflicts(Kind a, Kind b) noexcept {
  if (a == Kind::kFull || b == Kind::kFull) return true;
  return a == Kind::kNonKey && b == Kind::kNonKey;
}

constexpr Kind strongest(Kind a, Kind b) noexcept { return a < b ? b : a; }

constexpr std::string_view kind_name(Kind k) noexcept {
  switch (k) {
    case Kind::kKeyShare: return "keyshare";
    case Kind::kNonKey: return "nonkey";
    case Kind::kFull: return "full";
  }
  return "invalid";
}

static_assert(conflicts(Kind::kFull, Kind::kKeyShare) && conflicts(Kind::kKeyShare, Kind::kFull));
static_assert(!conflicts(Kind::kKeyShare, Kind::kNonKey) && !conflicts(Kind::kNonKey, Kind::kKeyShare));
static_assert(!conflicts(Kind::kKeyShare, Kind::kKeyShare));
static_assert(conflicts(Kind::kNonKey, Kind::kNonKey));

}  // namespace dsql::adjudicator

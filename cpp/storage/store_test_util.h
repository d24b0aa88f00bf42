// Test helpers for the store: a plain reference model and small adapters.
//
// RefModel is the obviously-correct version of MvccStore's read semantics: a std::map from key
// to its versions sorted by commit_ts, where a read at ts takes the newest version <= ts.
// Thread-safety: RefModel is read-only once built, so concurrent readers may share it.
// Invariants:
//   1. Each key's version list is sorted by commit_ts; a later write at the same ts replaces.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/mvcc_store.h"

namespace dsql::storage::test {

using Value = std::optional<std::string>;  // nullopt = tombstone / absent

struct Txn {
  int64_t ts = 0;
  std::vector<std::pair<std::string, Value>> writes;
};

inline std::string show(const Value& v) { return v.has_value() ? "\"" + *v + "\"" : "<absent>"; }
inline Value from_view(std::string_view v) {
  return v.data() == nullptr ? Value() : Value(std::string(v));
}

class RefModel {
 public:
  void apply(const Txn& t) {
    for (const auto& [key, value] : t.writes) {
      auto& chain = versions_[key];
      auto it = std::lower_bound(chain.begin(), chain.end(), t.ts,
                                 [](const auto& e, int64_t ts) { return e.first < ts; });
      if (it != chain.end() && it->first == t.ts) {
        it->second = value;
      } else {
        chain.insert(it, {t.ts, value});
      }
    }
  }
  Value get(const std::string& key, int64_t ts) const {
    auto it = versions_.find(key);
    if (it == versions_.end()) return std::nullopt;
    Value out;
    for (const auto& [vts, value] : it->second) {
      if (vts <= ts) out = value;
    }
    return out;
  }
  // Visible rows of [lo, hi) (hi empty = unbounded) at ts, ascending.
  std::vector<std::pair<std::string, std::string>> range(const std::string& lo,
                                                         const std::string& hi, int64_t ts) const {
    std::vector<std::pair<std::string, std::string>> out;
    for (auto it = versions_.lower_bound(lo); it != versions_.end(); ++it) {
      if (!hi.empty() && it->first >= hi) break;
      const Value v = get(it->first, ts);
      if (v.has_value()) out.emplace_back(it->first, *v);
    }
    return out;
  }
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const auto& [k, _] : versions_) out.push_back(k);
    return out;
  }

 private:
  std::map<std::string, std::vector<std::pair<int64_t, Value>>> versions_;
};

template <typename Store>
void apply_txn(Store& store, const Txn& t) {
  std::vector<WriteView> writes;
  for (const auto& [key, value] : t.writes) {
    writes.push_back(WriteView{key, value.has_value() ? std::string_view(*value) : std::string_view(),
                               !value.has_value()});
  }
  store.apply(t.ts, writes.data(), writes.size());
}

// A whole range read through repeated scan calls of `limit` rows, following resume positions.
// Returns the rows in the order the scan produced them.
template <typename View>
std::vector<std::pair<std::string, std::string>> scan_all(const View& view, const std::string& lo,
                                                          const std::string& hi, size_t limit,
                                                          bool reverse, size_t* calls) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string cur_lo = lo;
  std::string cur_hi = hi;
  *calls = 0;
  for (size_t guard = 0; guard < 1'000'000; ++guard) {
    std::vector<Row> rows;
    std::string resume;
    const bool more = view.scan(cur_lo, cur_hi, limit, reverse, &rows, &resume);
    ++*calls;
    for (const Row& r : rows) out.emplace_back(std::string(r.key), std::string(r.value));
    if (!more) break;
    if (reverse) {
      cur_hi = resume;
    } else {
      cur_lo = resume;
    }
  }
  return out;
}

// xorshift64*: deterministic test randomness.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 2654435761u + 1) {}
  uint64_t next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 2685821657736338717ULL;
  }
  uint64_t below(uint64_t n) { return next() % n; }

 private:
  uint64_t s_;
};

}  // namespace dsql::storage::test

// The sequencer (sequencer.h). Each method mirrors the method of the same name in
// src/dsql/node/sequencer.py, the reference model.
#include "node/sequencer.h"

#include <algorithm>
#include <cassert>
#include <stdexcept>

namespace dsql::node {

Sequencer::Sequencer(int64_t watermark, NextLsn next_lsn, PromiseThrough promise_through)
    : watermark_(watermark),
      high_(watermark),
      wanted_(watermark),
      next_lsn_(std::move(next_lsn)),
      promise_through_(std::move(promise_through)) {
  assert(next_lsn_ && promise_through_);
  if (!next_lsn_ || !promise_through_) {
    throw std::invalid_argument("the sequencer needs next_lsn and promise_through");
  }
}

void Sequencer::decided_locked(int64_t commit_ts) {
  if (commit_ts <= high_) {
    // The impossible case: the adjudicator promised not to commit at or below high_.
    throw std::logic_error("the adjudicator decided below a promise");
  }
  high_ = commit_ts;
  // Above every earlier decision, so appending keeps both sorted (invariant 5).
  assert(pending_.empty() || pending_.back().first < commit_ts);
  assert(in_flight_.empty() || in_flight_.back() < commit_ts);
  pending_.emplace_back(commit_ts, next_lsn_());
  in_flight_.push_back(commit_ts);
  assert(commit_ts > watermark());
}

std::vector<std::pair<int64_t, uint64_t>>::iterator Sequencer::pending_at(int64_t commit_ts) {
  auto it = std::lower_bound(pending_.begin(), pending_.end(), commit_ts,
                             [](const auto& p, int64_t ts) { return p.first < ts; });
  return it != pending_.end() && it->first == commit_ts ? it : pending_.end();
}

void Sequencer::journaled(int64_t commit_ts, uint64_t lsn) {
  assert(lsn >= 1);
  std::lock_guard<std::mutex> guard(mu_);
  auto it = pending_at(commit_ts);
  if (it != pending_.end()) it->second = lsn;
}

int64_t Sequencer::finish(int64_t commit_ts) {
  std::lock_guard<std::mutex> guard(mu_);
  auto at = std::lower_bound(in_flight_.begin(), in_flight_.end(), commit_ts);
  if (at != in_flight_.end() && *at == commit_ts) in_flight_.erase(at);  // bounded: invariant 4
  if (in_flight_.empty() && wanted_ <= high_) {
    // Nothing in flight and no reader waiting beyond the decisions: the watermark reaches the
    // highest decision (what advance_locked computes, without the promise).
    if (high_ > watermark_.load(std::memory_order_relaxed)) {
      watermark_.store(high_, std::memory_order_release);
      pending_.clear();  // every pending commit is <= high_
    }
    assert(pending_.empty() || pending_.front().first > watermark());
    return watermark();
  }
  return advance_locked();
}

bool Sequencer::promise(int64_t ts) {
  std::lock_guard<std::mutex> guard(mu_);
  if (ts <= watermark()) return true;
  wanted_ = std::max(wanted_, ts);
  advance_locked();
  return watermark() >= ts;
}

std::pair<int64_t, uint64_t> Sequencer::replay_point() {
  std::lock_guard<std::mutex> guard(mu_);
  uint64_t lsn;
  if (pending_.empty()) {
    lsn = next_lsn_();
  } else {
    lsn = UINT64_MAX;
    for (const auto& [ts, bound] : pending_) lsn = std::min(lsn, bound);  // bounded: invariant 4
  }
  assert(lsn >= 1);
  return {watermark(), lsn};
}

size_t Sequencer::in_flight() const {
  std::lock_guard<std::mutex> guard(mu_);
  assert(in_flight_.size() <= pending_.size());
  return in_flight_.size();
}

int64_t Sequencer::advance_locked() {
  const bool any = !in_flight_.empty();
  const int64_t oldest = any ? in_flight_.front() : 0;
  if (wanted_ > high_ && (!any || oldest > wanted_)) {
    // A reader waits for a timestamp nothing in flight precedes: promise it.
    const int64_t promised = std::min(wanted_, promise_through_(wanted_));
    high_ = std::max(high_, promised);
  }
  const int64_t target = any ? oldest - 1 : high_;
  const int64_t before = watermark_.load(std::memory_order_relaxed);
  if (target > before) {
    watermark_.store(target, std::memory_order_release);
    auto end = std::upper_bound(pending_.begin(), pending_.end(), target,
                                [](int64_t ts, const auto& p) { return ts < p.first; });
    pending_.erase(pending_.begin(), end);
  }
  assert(watermark() >= before);
  assert(pending_.empty() || pending_.front().first > watermark());
  return watermark();
}

}  // namespace dsql::node

// The sequencer: which commits are decided but not yet visible, and how far storage may be read.
//
// Between the adjudicator's decision and the crossbar's apply, a commit is *in flight*: its
// timestamp is fixed but storage does not show it yet. The storage watermark W (every commit at
// or below W is applied) may therefore only advance to just below the oldest in-flight commit,
// or, with nothing in flight, to the highest timestamp decided or promised.
//
// The sequencer also remembers, for every commit above W, the lowest journal lsn its record can
// have, so that a checkpoint taken as of W knows from which lsn the journal must be replayed
// (records below that lsn all commit at or below W and are inside the checkpoint image).
//
// This is the kernel of src/dsql/node/sequencer.py, which stays as its reference model (the
// tests drive both with the same random operations and compare every answer).
//
// Thread-safety: every method may be called from any thread. decide() runs the caller's
// adjudication under the sequencer's mutex, so a decision and a promise never interleave: a
// promise is made only when no commit at or below it is in flight, and every later decision
// comes out above it (the adjudicator guarantees that). The callbacks (next_lsn,
// promise_through) run under the mutex and must not call back into the sequencer.
// Invariants (under mu_):
//   1. watermark never decreases.
//   2. Every key of pending_ is > watermark; pending_ holds every decided commit above it.
//   3. in_flight_ is a subset of pending_'s keys.
//   4. in_flight_ holds at most one commit per committing thread (each commit is finished by
//      the thread that decided it), so its size is bounded by the number of committers.
//   5. pending_ and in_flight_ are sorted by commit ts, without duplicates.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace dsql::node {

class Sequencer {
 public:
  // What decide()'s adjudication returns for a transaction that does not commit.
  static constexpr int64_t kNoCommit = INT64_MIN;

  // A lower bound on the lsn of the next journal record (the journal's durable lsn + 1).
  using NextLsn = std::function<uint64_t()>;
  // Asks the adjudicators to promise that nothing commits at or below ts; returns the promise
  // in force (lower while a prepared vote holds a lower proposal).
  using PromiseThrough = std::function<int64_t(int64_t)>;

  // REQUIRES: next_lsn and promise_through are set.
  Sequencer(int64_t watermark, NextLsn next_lsn, PromiseThrough promise_through);
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  int64_t watermark() const noexcept { return watermark_.load(std::memory_order_acquire); }

  // Runs adjudicate() under the mutex. It returns the commit ts, or kNoCommit; a commit ts is
  // registered as in flight before the mutex is released. Returns what adjudicate() returned.
  // Exceptions from adjudicate() leave the sequencer unchanged.
  template <typename F>
  int64_t decide(F&& adjudicate) {
    std::lock_guard<std::mutex> guard(mu_);
    const int64_t commit_ts = adjudicate();
    if (commit_ts != kNoCommit) decided_locked(commit_ts);
    return commit_ts;
  }

  // The commit's record has lsn `lsn` (tightens the replay bound).
  void journaled(int64_t commit_ts, uint64_t lsn);
  // The commit is applied (or given up); returns the watermark it allows.
  int64_t finish(int64_t commit_ts);
  // Makes ts readable: at once when no commit at or below it is in flight (the adjudicators
  // promise through ts and the watermark advances), otherwise as soon as the in-flight commits
  // at or below it finish (finish() makes the promise then). Returns whether the watermark
  // reached ts now.
  bool promise(int64_t ts);
  // (W, L): the watermark now, and the lowest lsn a replay must start from to recover every
  // commit above W.
  std::pair<int64_t, uint64_t> replay_point();
  size_t in_flight() const;

 private:
  void decided_locked(int64_t commit_ts);
  // The pending entry of commit_ts, or pending_.end().
  std::vector<std::pair<int64_t, uint64_t>>::iterator pending_at(int64_t commit_ts);
  int64_t advance_locked();

  mutable std::mutex mu_;
  std::atomic<int64_t> watermark_;  // written under mu_, read without it
  int64_t high_;                    // GUARDED_BY(mu_): highest timestamp decided or promised
  int64_t wanted_;                  // GUARDED_BY(mu_): highest timestamp a reader asked for
  // Both sorted by commit ts: decisions come in increasing ts order, so a decision appends.
  // Flat vectors keep their capacity, so a commit allocates nothing here in steady state.
  std::vector<std::pair<int64_t, uint64_t>> pending_;  // GUARDED_BY(mu_): ts > W -> lowest lsn
  std::vector<int64_t> in_flight_;                     // GUARDED_BY(mu_)
  const NextLsn next_lsn_;
  const PromiseThrough promise_through_;
};

}  // namespace dsql::node

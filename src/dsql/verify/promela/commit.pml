/*
 * commit.pml: a model of dsql's commit protocol, checked exhaustively with spin.
 *
 * Purpose. One promise of the commit path (docs/commit-path.md) is kept by five pieces of
 * code together: the adjudicator shards and their vote decide (cpp/adjudicator/), the journal
 * makes a commit durable (src/dsql/journal.py), the crossbar applies it to storage
 * (src/dsql/node/crossbar.py), the sequencer moves the watermark (src/dsql/node/sequencer.py)
 * and readers wait for it (cpp/storage/mvcc_store.h). This model runs them as concurrent
 * processes over a tiny universe (NK = 4 keys on NS = 2 adjudicator shards, NW writers, NR
 * readers) so that spin tries every interleaving. docs/promela-model.md maps each inline and
 * step below to the function it stands for (with file names); keep the two in step.
 *
 * Concurrency. Each process is a thread of the node; each d_step is one indivisible step: a
 * call under a lock (a whole Sequencer method, one Adjudicator call, one journal or storage
 * operation), or a read. Nothing else is atomic: between two steps of one process any other
 * process may run.
 *
 * Properties (each an assert on a variable named after it, so spin's message names it):
 *   P1 lost_none       after a crash and recovery, every acknowledged commit is in storage.
 *   P2 one_winner      no two transactions with overlapping write sets and overlapping
 *                      [start, commit] intervals both commit.
 *   P3 snapshot_exact  a read at tau returns, per key, the newest commit at or below tau among
 *                      those that committed: never part of a transaction, never one above
 *                      tau, never one missed at or below tau. Checked when the read runs, at
 *                      the end of the run, and against what any crash would leave.
 *   P4 (end states)    no invalid end state: every writer and reader finishes; a reader behind
 *                      an in-flight commit is released when that commit finishes.
 * A crash is not a branch: nothing runs after one, so after every step that changes what a
 * crash would leave or must keep (journal write, fdatasync, acknowledgement, read, checkpoint)
 * the model recovers every journal a crash at that moment could leave and checks P1 and P3.
 * internal_ok checks the code's own assertions (a decision above the watermark, an apply
 * above the storage watermark, storage never ahead of the sequencer, ...); -DPROPERTIES_ONLY
 * turns them off so that each injected bug is seen to break a property.
 *
 * Switches (-D):
 *   NW=1..3, NR, WS0..WS2  writers, readers, write sets (key bitmasks).
 *   VOTES_INTERLEAVE  shards as separate processes: a vote's messages interleave with other
 *                     votes and fast paths (today Node.commit holds the sequencer's lock over
 *                     the whole vote, modelled as one step). The sequencer then registers the
 *                     vote as in flight before its first prepare, with a fresh timestamp as a
 *                     lower bound of its commit ts: the rule the node will need, checked here.
 *   NO_EXPIRY         (with VOTES_INTERLEAVE) shards never expire a hold on their own.
 *   CHECKPOINT        one Node.checkpoint at any moment, and recovery from it.
 *   NO_CRASH          no crash checks.
 *   BUG_...           an injected bug (docs/promela-model.md lists them); spin must fail.
 *
 * Invariants of the correct model (asserted where they can break):
 *   1. W (sequencer watermark) and SW (storage watermark) never decrease; SW <= W <= clk.
 *   2. Every decided commit above W is in flight; every decided commit at or below SW is
 *      applied at every key it writes.
 *   3. A key is held by at most one prepared vote; a shard's promise stays below every
 *      proposal of a prepared vote there; every commit ts is above the promises it passes.
 *   4. jsync <= jlen: the records below jsync are on disk; those above may or may not be.
 */

/* ---- the universe ------------------------------------------------------------------------ */
#ifndef NW
#define NW 3            /* writers (transactions that commit) */
#endif
#ifndef NR
#define NR 1            /* readers */
#endif
#define NK 4            /* keys 0 1 | 2 3: the first half on shard 0, the second on shard 1 */
#define NS 2            /* adjudicator shards */
#define KPS (NK / NS)   /* keys per shard */
#define NONE 255

/* Write sets (key bitmasks). T0 and T1 span both shards (votes) and are disjoint; T2 is a
 * single-shard fast path overlapping T0 on key 2. Override with -DWS0=.. etc. */
#ifndef WS0
#define WS0 5           /* {0, 2} */
#endif
#ifndef WS1
#define WS1 10          /* {1, 3} */
#endif
#ifndef WS2
#define WS2 4           /* {2} */
#endif

#define HAS(m, k) ((((m) >> (k)) & 1) == 1)
#define FIRST_KEY(m) (HAS(m, 0) -> 0 : (HAS(m, 1) -> 1 : (HAS(m, 2) -> 2 : 3)))
#if NW == 1
#define WRITTEN (WS0)                /* keys some writer writes: the only ones worth reading */
#elif NW == 2
#define WRITTEN (WS0 | WS1)
#else
#define WRITTEN (WS0 | WS1 | WS2)
#endif
#define SKIP_UNWRITTEN(k) do :: k < NK && !HAS(WRITTEN, k) -> k++ :: else -> break od
#define SHARD_MASK(s) (((1 << KPS) - 1) << ((s) * KPS))
#define MAX(a, b) ((a) > (b) -> (a) : (b))
#define MIN(a, b) ((a) < (b) -> (a) : (b))

/* Switches that change one condition (spin wants a guard on one line). */
#ifdef BUG_SKIP_KEY
#define CHECKED(s, k) ((k) != (s) * KPS)   /* the bug: a shard's first key is never checked */
#else
#define CHECKED(s, k) 1
#endif
#ifdef BUG_PROMISE_IN_FLIGHT
#define NONE_IN_FLIGHT_AT_OR_BELOW(oldest, ts) 1   /* the bug: promise with a commit below */
#else
#define NONE_IN_FLIGHT_AT_OR_BELOW(oldest, ts) ((oldest) > (ts))
#endif
#ifdef BUG_NO_DEFERRED_PROMISE
#define MAY_PROMISE(from_finish) (!(from_finish))  /* the bug: finish() never promises */
#else
#define MAY_PROMISE(from_finish) 1
#endif

#ifdef BUG_REPLAY_DROPS_OLDER
#define REPLAYS(ts, replayed) ((ts) > (replayed))  /* the bug: skips below the replayed */
#else
#define REPLAYS(ts, replayed) 1
#endif

#ifdef CHECKPOINT
#define CK_FLOOR (ck -> ckW : 0)
#else
#define CK_FLOOR 0
#endif

#ifdef PROPERTIES_ONLY
#define INTERNAL(c) skip
#else
#define INTERNAL(c) internal_ok = (c); assert(internal_ok)
#endif

/* ---- state -------------------------------------------------------------------------------- */
byte clk;                   /* HybridClock: the newest timestamp handed out or observed */

/* Adjudicator shards. Every claim is FULL (kinds are a table lookup, tested elsewhere). */
byte promise[NS];           /* Adjudicator::promise_ */
byte recent[NK];            /* recent_: the newest commit ts per key, 0 = none */
byte holder[NK];            /* holds_: 1 + the txn whose prepared vote holds the key, 0 = none */
byte pend[NW * NS];         /* pending_: proposed ts of txn t's vote on shard s, 0 = none */

/* Journal (src/dsql/journal.py): records in lsn order; jsync records are on disk. */
byte jrec[NW];
byte jlen;
byte jsync;

/* Sequencer (src/dsql/node/sequencer.py). */
byte W;                     /* _watermark */
byte high;                  /* _high: highest ts decided or promised */
byte wanted;                /* _wanted: highest ts a reader asked for */
bool infl[NW];              /* _in_flight (by txn; cts[t] is the ts) */

#ifdef CHECKPOINT
/* Checkpoints (Node.checkpoint, datadir.py): the sequencer's replay bounds and the newest
 * manifest. */
byte plsn[NW];              /* Sequencer._pending: the lowest lsn t's record can have */
bool ck;                    /* a manifest is written */
byte ckW;                   /* its ts (the watermark it was taken at) */
byte ckL;                   /* its replay lsn */
byte ckimg;                 /* its image: the commits at or below ckW (txn bitmask) */
byte jfirst;                /* journal records below it are deleted (Journal.drop_through) */
#endif

/* Storage (cpp/storage/shard_map.h over mvcc_store.h). */
byte SW;                    /* ShardMap::watermark() */
byte app[NW];               /* keys of txn t's commit applied to storage (bitmask) */

/* Ground truth, for the properties. */
byte ws[NW];                /* write set */
byte start[NW];             /* tau_start */
byte cts[NW];               /* commit ts once decided (a vote's lower bound before) */
bool dec[NW];               /* decided: committed at cts (the coordinator's outcome) */
bool acked[NW];             /* Node.commit returned */
byte tau[NR];
byte nread[NR];             /* keys read so far (in key order) */
byte obs[NR * NK];          /* the commit ts each read returned (0: no version) */
byte wdone;                 /* writers finished (committed or aborted) */
byte rdone;

/* Property witnesses: 1 in every state; set and asserted in one indivisible step. */
bool lost_none = 1;
bool one_winner = 1;
bool snapshot_exact = 1;
bool internal_ok = 1;

/* Scratch for indivisible steps (not part of the state vector). */
hidden byte h_i;
hidden byte h_j;
hidden byte h_v;
hidden byte h_x;
hidden byte h_p;
hidden byte h_f;
hidden byte h_s;
hidden byte h_y0;
hidden byte h_y1;
hidden byte h_a0;
hidden byte h_a1;
hidden byte h_oldest;
hidden byte h_target;
hidden byte h_k;
hidden byte h_rec;

/* ---- clock -------------------------------------------------------------------------------- */

/* HybridClock::next_above(floor) (next() is next_above(0)): unique, above floor and above
 * every timestamp handed out or observed before. (Spin cannot take a conditional expression
 * as an inline's argument: callers compute such arguments into a variable first.) */
inline next_above(floor, out) {
  clk = MAX(clk, floor) + 1;
  out = clk
}

/* ---- adjudicator shard -------------------------------------------------------------------- */

/* Adjudicator::find_conflict restricted to shard s: a key of t committed above t's start, or
 * held by another transaction's prepared vote. */
inline find_conflict(t, s, bad) {
  bad = 0;
  for (h_i : 0 .. NK - 1) {
    if
    :: HAS(ws[t] & SHARD_MASK(s), h_i) && CHECKED(s, h_i) ->
      if
      :: recent[h_i] > start[t] -> bad = 1
#ifndef BUG_NO_HOLD_CHECK
      :: holder[h_i] != 0 && holder[h_i] != t + 1 -> bad = 1
#endif
      :: else -> skip
      fi
    :: else -> skip
    fi
  };
  skip   /* (spin: a loop must not end a d_step) */
}

/* Adjudicator::record: keys of t on shard s committed at c. */
inline record(t, s, c) {
  for (h_i : 0 .. NK - 1) {
    if
    :: HAS(ws[t] & SHARD_MASK(s), h_i) -> recent[h_i] = MAX(recent[h_i], c)
    :: else -> skip
    fi
  };
  skip   /* (spin: a loop must not end a d_step) */
}

/* Adjudicator::adjudicate (decide_one): the single-shard fast path. */
inline adjudicate(t, s, ok, c) {
  find_conflict(t, s, h_x);
  if
  :: h_x -> ok = 0
  :: else ->
    h_f = MAX(start[t], promise[s]);
    next_above(h_f, c);
    INTERNAL(c > promise[s] && c > start[t]);
    record(t, s, c);
    ok = 1
  fi
}

/* Adjudicator::prepare: check, propose above max(start, promise), hold the keys. */
inline prepare(t, s, yes) {
  find_conflict(t, s, h_x);
  if
  :: h_x -> yes = 0
  :: else ->
    h_f = MAX(start[t], promise[s]);
    next_above(h_f, pend[t * NS + s]);
    for (h_i : 0 .. NK - 1) {
      if
      :: HAS(ws[t] & SHARD_MASK(s), h_i) ->
        INTERNAL(holder[h_i] == 0);
        holder[h_i] = t + 1
      :: else -> skip
      fi
    };
    yes = 1
  fi
}

/* Adjudicator::release (holds of t on shard s) and the erase from pending_. */
inline release(t, s) {
  for (h_i : 0 .. NK - 1) {
    if
    :: holder[h_i] == t + 1 && HAS(SHARD_MASK(s), h_i) -> holder[h_i] = 0
    :: else -> skip
    fi
  };
  pend[t * NS + s] = 0
}

/* Adjudicator::decide: a commit or abort decision arrives at shard s. */
inline decide_at(t, s, commit, c, ack) {
  if
  :: pend[t * NS + s] == 0 ->          /* its hold expired: a commit is refused */
#ifdef BUG_ACCEPT_EXPIRED
    if
    :: commit -> clk = MAX(clk, c); record(t, s, c)
    :: else -> skip
    fi;
    ack = 1
#else
    ack = !commit
#endif
  :: else ->
    INTERNAL(!commit || c >= pend[t * NS + s]);
    release(t, s);
    if
    :: commit ->
      INTERNAL(c > promise[s]);
      clk = MAX(clk, c);               /* clock_->observe(commit_ts) */
      record(t, s, c)
    :: else -> skip
    fi;
    ack = 1
  fi
}

/* Adjudicator::expire_pending for one vote: the shard drops t's hold on its own. */
inline expire(t, s) {
  if
  :: pend[t * NS + s] != 0 -> release(t, s)
  :: else -> skip
  fi
}

/* AdjudicatorShardMap::promise_through: each shard promises through ts, held below its
 * lowest pending proposal (Adjudicator::promise_through); returns the lowest promise. */
inline promise_through(ts, out) {
  out = NONE;
  for (h_j : 0 .. NS - 1) {
    h_p = ts;
    for (h_i : 0 .. NW - 1) {
      if
      :: pend[h_i * NS + h_j] != 0 -> h_p = MIN(h_p, pend[h_i * NS + h_j] - 1)
      :: else -> skip
      fi
    };
    if
    :: h_p > promise[h_j] -> promise[h_j] = h_p
    :: else -> skip
    fi;
    out = MIN(out, promise[h_j])
  };
  skip   /* (spin: a loop must not end a d_step) */
}

/* ---- sequencer ---------------------------------------------------------------------------- */

/* Sequencer._advance_locked. from_finish: called by finish() (or a vote's abort). */
inline advance(from_finish) {
  h_oldest = NONE;
  for (h_i : 0 .. NW - 1) {
    if
    :: infl[h_i] && cts[h_i] < h_oldest -> h_oldest = cts[h_i]
    :: else -> skip
    fi
  };
  if
  :: wanted > high && NONE_IN_FLIGHT_AT_OR_BELOW(h_oldest, wanted) && MAY_PROMISE(from_finish) ->
    promise_through(wanted, h_v);
    h_v = MIN(wanted, h_v);
    high = MAX(high, h_v);
#ifdef BUG_PROMISE_IN_FLIGHT
    W = MAX(W, h_v)            /* the bug: the watermark follows the promise at once */
#endif
  :: else -> skip
  fi;
#ifdef BUG_WATERMARK_IGNORES_IN_FLIGHT
  h_target = high;             /* the bug: the highest decided ts, in flight or not */
#else
  h_target = (h_oldest != NONE -> h_oldest - 1 : high);
#endif
  if
  :: h_target > W -> W = h_target
  :: else -> skip
  fi;
  INTERNAL(SW <= W && W <= clk)
}

/* Sequencer.promise(ts): ok when the watermark reached ts now. */
inline seq_promise(ts, ok) {
  if
  :: ts <= W -> ok = 1
  :: else ->
    wanted = MAX(wanted, ts);
    advance(0);
    ok = (W >= ts)
  fi
}

/* The ground truth of a commit decision, with property P2 checked against every commit
 * decided before it. */
inline note_commit(t, c) {
  cts[t] = c;
  dec[t] = 1;
  for (h_i : 0 .. NW - 1) {
    if
    :: h_i != t && dec[h_i] && (ws[h_i] & ws[t]) != 0 ->
      one_winner = (cts[h_i] <= start[t] || c <= start[h_i]);
      assert(one_winner)
    :: else -> skip
    fi
  };
  skip   /* (spin: a loop must not end a d_step) */
}

/* Sequencer.decide's bookkeeping once the adjudication committed at c. */
inline seq_decided(t, c) {
  INTERNAL(c > W);
#ifdef VOTES_INTERLEAVE
  high = MAX(high, c);
#else
  INTERNAL(c > high);          /* "the adjudicator decided below a promise" */
  high = MAX(high, c);
#endif
  infl[t] = 1;
#ifdef CHECKPOINT
  plsn[t] = jsync;             /* next_lsn(): the journal's durable lsn + 1 */
#endif
  note_commit(t, c)
}

/* ---- storage reads ------------------------------------------------------------------------ */

/* MvccStore::get(key k, tau) once the watermark reached tau: the newest applied version at or
 * below tau. P3 at the moment of the read: it equals the newest decided commit at or below
 * tau that writes k. */
inline read_key(r, k) {
  h_v = 0;
  h_x = 0;
  for (h_i : 0 .. NW - 1) {
    if
    :: HAS(app[h_i], k) && cts[h_i] <= tau[r] -> h_v = MAX(h_v, cts[h_i])
    :: else -> skip
    fi;
    if
    :: dec[h_i] && HAS(ws[h_i], k) && cts[h_i] <= tau[r] -> h_x = MAX(h_x, cts[h_i])
    :: else -> skip
    fi
  };
  obs[r * NK + k] = h_v;
  snapshot_exact = (h_v == h_x);
  assert(snapshot_exact)
}

/* P3 over a whole run: every value reader r read equals the newest commit at or below tau
 * among the committed set `set` (a bitmask of txns). */
inline check_reads(set) {
  for (h_j : 0 .. NR * NK - 1) {
    if
    :: h_j % NK < nread[h_j / NK] ->
      h_x = 0;
      for (h_i : 0 .. NW - 1) {
        if
        :: HAS(set, h_i) && HAS(ws[h_i], h_j % NK) && cts[h_i] <= tau[h_j / NK] ->
          h_x = MAX(h_x, cts[h_i])
        :: else -> skip
        fi
      };
      snapshot_exact = (obs[h_j] == h_x);
      assert(snapshot_exact)
    :: else -> skip
    fi
  };
  skip   /* (spin: a loop must not end a d_step) */
}

/* ---- a crash ------------------------------------------------------------------------------ */

/* Node.open after a crash that kept the journal records below `keep`: the newest checkpoint's
 * image (if any), then Crossbar.replay of the journal from the checkpoint's replay lsn (from
 * the first record without one), in journal order, skipping records at or below the
 * checkpoint's ts. The recovered commits go to h_rec. */
inline replay(keep) {
  h_rec = 0;
  h_v = 0;            /* the replayed watermark */
  h_x = 0;            /* the lsn replay starts from */
#ifdef CHECKPOINT
  if
  :: ck ->
    h_rec = ckimg;
    h_v = ckW;
    h_x = ckL;
    /* DataDirectoryError when the journal starts above the replay lsn: recovery fails */
    lost_none = (ckL >= jfirst);
    assert(lost_none)
  :: else ->
    h_x = jfirst;
    lost_none = (jfirst == 0);
    assert(lost_none)
  fi;
#endif
  for (h_j : 0 .. NW - 1) {
    if
    :: h_j >= h_x && h_j < keep && cts[jrec[h_j]] > CK_FLOOR && REPLAYS(cts[jrec[h_j]], h_v) ->
      h_rec = h_rec | (1 << jrec[h_j]);
      h_v = MAX(h_v, cts[jrec[h_j]])
    :: else -> skip
    fi
  }
}

/* A crash now, and recovery. Nothing runs after a crash, so rather than branching into one the
 * model checks, after every step that changes what a crash would leave or what it must keep
 * (a journal write, an fdatasync, an acknowledgement, a read), every outcome a crash at that
 * moment could have: journal recovery keeps the synced prefix and any longer prefix of the
 * unsynced records (a torn tail is cut). Then
 *   P1: every acknowledged commit was replayed;
 *   P3: what readers saw before the crash is exactly what survived it. */
inline crash_check() {
  for (h_k : jsync .. jlen) {
    replay(h_k);
    for (h_j : 0 .. NW - 1) {
      lost_none = (!acked[h_j] || HAS(h_rec, h_j));
      assert(lost_none)
    };
    check_reads(h_rec)
  };
  skip
}
#ifdef NO_CRASH
#define CRASH_POINT skip
#else
#define CRASH_POINT crash_check()
#endif

/* Journal.append's wait: the record at `lsn` becomes durable by an fdatasync covering every
 * record written so far (its own, or a concurrent appender's that started after the write). */
#define FDATASYNC(lsn) if :: jsync <= (lsn) -> jsync = jlen :: else -> skip fi; CRASH_POINT
/* Node.commit returns: the commit is acknowledged. */
#define ACKNOWLEDGE acked[t] = 1; wdone++; ok = 0; CRASH_POINT

/* ---- processes ---------------------------------------------------------------------------- */

/* The whole vote as the node runs it today: AdjudicatorShardMap::commit inside
 * Sequencer.decide, so nothing else touches a shard (or the sequencer) until it is over; only
 * clock reads could come between its steps, and they order the same either way. in_time:
 * decide_votes finds every hold still in force (else the coordinator's clock says one may
 * have run out, and it aborts). */
/* decide_votes (shard_map.cc): with both votes in, commit at the highest proposal if both
 * said yes and the holds are in force (in_time), else abort. */
#define COUNT_VOTES(t, in_time, ok, c) \
  ok = (pend[(t) * NS] != 0 && pend[(t) * NS + 1] != 0 && (in_time)); \
  c = (ok -> MAX(pend[(t) * NS], pend[(t) * NS + 1]) : 0)

inline vote_locked(t, in_time, ok, c) {
  prepare(t, 0, h_y0);
  if
  :: h_y0 -> prepare(t, 1, h_y1)
  :: else -> h_y1 = 0
  fi;
  COUNT_VOTES(t, in_time, ok, c);
  h_a0 = 1;
  h_a1 = 1;
  if :: h_y0 -> decide_at(t, 0, ok, c, h_a0) :: else -> skip fi;    /* the Decision */
  if :: h_y1 -> decide_at(t, 1, ok, c, h_a1) :: else -> skip fi;
  ok = ok && h_a0 && h_a1;
  if
  :: ok -> seq_decided(t, c)
  :: else -> c = 0
  fi
}

/* One transaction: Node.begin, then Node.commit (decide, journal, crossbar, finish). Each
 * d_step is one step another thread can see happen at once. Locals are zeroed once dead so
 * that equal states compare equal. */
proctype Writer(byte t) {
  byte c;         /* commit ts */
  byte lsn;
  bool ok;
#ifdef VOTES_INTERLEAVE
  bool yes0;      /* the votes of shard 0 and 1 */
  bool yes1;
  bool ack0;      /* the shards' acks of the decision */
  bool ack1;
#endif
  {
    /* Node.begin: clock.timestamp(), Sequencer.promise(ts), storage.advance_watermark. One
     * step: a writer's snapshot reads are not modelled (the reader's begin is in steps). */
    d_step {
      next_above(0, start[t]);
      seq_promise(start[t], ok);
      if :: ok -> SW = MAX(SW, W) :: else -> skip fi;
      ok = 0
    };

    /* Node.commit: Sequencer.decide(adjudicate); adjudicate = AdjudicatorShardMap::commit. */
    if
    :: (ws[t] & SHARD_MASK(0)) == 0 || (ws[t] & SHARD_MASK(1)) == 0 ->
      /* The fast path: the one shard decides (Adjudicator::adjudicate) under the lock. */
      d_step {
        h_s = ((ws[t] & SHARD_MASK(0)) == 0 -> 1 : 0);
        adjudicate(t, h_s, ok, c);
        if
        :: ok -> seq_decided(t, c)
        :: else -> skip
        fi
      }
    :: else ->
#ifndef VOTES_INTERLEAVE
      if
      :: d_step { vote_locked(t, 1, ok, c) }
      :: d_step { vote_locked(t, 0, ok, c) }
      fi
#else
      /* The vote as messages, interleaving with everything else. */
      d_step {
#ifndef BUG_VOTE_UNTRACKED
        /* In flight before any proposal, with a fresh timestamp as its lower bound: every
         * proposal, hence the commit ts, will be above it. */
        infl[t] = 1;
        next_above(0, cts[t])
#else
        skip                     /* the bug: the sequencer hears of the vote at its end */
#endif
      };
      /* PrepareRequest to each shard, in shard order, stopping at the first "no"; the
       * coordinator counts the votes (decide_votes) as the last one arrives: commit at the
       * highest proposal, or abort on a "no" or when its clock says a hold may have run out
       * (the timeout: the second branch). */
      d_step { prepare(t, 0, yes0) };
      if
      :: yes0 ->
        if
        :: d_step { prepare(t, 1, yes1); COUNT_VOTES(t, 1, ok, c) }
        :: d_step { prepare(t, 1, yes1); COUNT_VOTES(t, 0, ok, c) }
        fi
      :: else -> skip
      fi;
      /* The Decision to every shard that voted yes; a shard may have let the hold expire
       * first (Adjudicator::expire_pending), and then refuses a commit. */
      if
      :: yes0 ->
#ifndef NO_EXPIRY
        if
        :: d_step { expire(t, 0) }
        :: skip
        fi;
#endif
        d_step { decide_at(t, 0, ok, c, ack0) }
      :: else -> skip
      fi;
      if
      :: yes1 ->
#ifndef NO_EXPIRY
        if
        :: d_step { expire(t, 1) }
        :: skip
        fi;
#endif
        d_step { decide_at(t, 1, ok, c, ack1) }
      :: else -> skip
      fi;
      /* The outcome reaches the sequencer: committed only if every shard took it; an abort
       * stops holding readers back (storage.advance_watermark). */
      d_step {
        ok = ok && ack0 && ack1;   /* ok implies both voted yes and got the decision */
        yes0 = 0;
        yes1 = 0;
        ack0 = 0;
        ack1 = 0;
        if
        :: ok ->
#ifndef BUG_VOTE_UNTRACKED
          INTERNAL(c > cts[t]);
#endif
          seq_decided(t, c)
        :: else ->
          c = 0;
          infl[t] = 0;
          advance(1);
#ifndef BUG_ABORT_HOLDS_READERS
          SW = MAX(SW, W)      /* (the bug: storage's watermark stays behind the abort) */
#else
          skip
#endif
        fi
      }
#endif
    fi;

    if
    :: !ok -> wdone++          /* 40001 OC000 (or expired): nothing more */
    :: else ->
      /* Journal.append: the record is written at the next lsn ... */
      d_step { lsn = jlen; jrec[jlen] = t; jlen++; CRASH_POINT };
#if !defined(BUG_ACK_BEFORE_SYNC) && !defined(BUG_VISIBLE_BEFORE_SYNC)
      /* ... and made durable by an fdatasync shared with concurrent appenders. */
      d_step { FDATASYNC(lsn) };
#endif
#ifdef CHECKPOINT
      /* Sequencer.journaled: the replay bound tightens to the record's lsn. */
      d_step { plsn[t] = lsn };
#endif
#ifndef BUG_VISIBLE_BEFORE_SYNC
      lsn = 0;
#endif
      /* Crossbar.deliver: ShardMap.apply, one key at a time (shards apply separately). */
      do
      :: app[t] != ws[t] ->
        d_step {
          INTERNAL(c > SW);        /* MvccStore::apply REQUIRES commit_ts > watermark */
          h_k = 0;
          do
          :: HAS(ws[t], h_k) && !HAS(app[t], h_k) -> break
          :: else -> h_k++
          od;
          app[t] = app[t] | (1 << h_k)
        }
      :: else -> break
      od;
      skip;                    /* (spin: a loop's exit must not land on a d_step) */
      /* Sequencer.finish, storage.advance_watermark, and commit() returns. */
#ifndef BUG_VISIBLE_BEFORE_SYNC
      d_step { infl[t] = 0; advance(1); SW = MAX(SW, W); c = 0; ACKNOWLEDGE }
#else
      /* the bug: the watermark passes the commit before its record is durable */
      d_step { infl[t] = 0; advance(1); SW = MAX(SW, W); c = 0 };
      d_step { FDATASYNC(lsn); lsn = 0 };
      d_step { ACKNOWLEDGE }
#endif
    fi
  }
}

/* A read-only transaction: Node.begin, then Node.get of every key some writer writes, at tau,
 * in key order. */
proctype Reader(byte r) {
  byte k;
  bool ok;
  {
    /* Node.begin: clock.timestamp() ... */
    d_step { next_above(0, tau[r]); SKIP_UNWRITTEN(k) };
    /* ... then Sequencer.promise(tau) and storage.advance_watermark. */
    d_step {
      seq_promise(tau[r], ok);
      if :: ok -> SW = MAX(SW, W) :: else -> skip fi;
      ok = 0
    };
    do
    :: k < NK ->
      d_step {
        SW >= tau[r] ->        /* MvccStore::await_watermark, then the read */
        read_key(r, k);
        k++;
        SKIP_UNWRITTEN(k);
        nread[r] = k;
        if :: k == NK -> rdone++ :: else -> skip fi;
        CRASH_POINT
      }
    :: else -> break
    od
  }
}

#ifdef CHECKPOINT
/* Node.checkpoint, once, at any moment. */
active proctype Checkpointer() {
  byte w;
  byte l;
  /* Sequencer.replay_point: (W, L), L the lowest lsn a commit above W can have. */
  d_step {
    w = W;
#ifdef BUG_REPLAY_POINT_DURABLE
    l = jsync;                 /* the bug: next_lsn() alone, forgetting commits above W */
#else
    l = jsync;
    for (h_i : 0 .. NW - 1) {
      if
      :: dec[h_i] && cts[h_i] > W -> l = MIN(l, plsn[h_i])
      :: else -> skip
      fi
    };
#endif
    skip
  };
  /* storage.advance_watermark(ts) and each shard's image as of ts (checkpoint_shard), then
   * the manifest, written last. */
  d_step {
    SW = MAX(SW, w);
    ckimg = 0;
    for (h_i : 0 .. NW - 1) {
      if
      :: HAS(app[h_i], FIRST_KEY(ws[h_i])) && cts[h_i] <= w ->
        INTERNAL(app[h_i] == ws[h_i]);
        ckimg = ckimg | (1 << h_i)
      :: else -> skip
      fi
    };
    ckW = w;
    ckL = l;
    ck = 1;
    w = 0;
    CRASH_POINT
  };
  /* Journal.drop_through(min(L - 1, durable lsn)): records below L are deleted. */
  d_step { jfirst = MIN(l, jsync); l = 0; CRASH_POINT }
}
#endif

init {
  d_step {
    ws[0] = WS0;
#if NW > 1
    ws[1] = WS1;
#endif
#if NW > 2
    ws[2] = WS2;
#endif
  };
  atomic {
    for (h_j : 0 .. NW - 1) { run Writer(h_j) };
    for (h_j : 0 .. NR - 1) { run Reader(h_j) }
  };
  /* The end of the run: P1 and P3 against the final state. */
  d_step {
    wdone == NW && rdone == NR ->
    h_rec = 0;
    for (h_j : 0 .. NW - 1) {
      if
      :: dec[h_j] -> h_rec = h_rec | (1 << h_j)
      :: else -> skip
      fi;
      lost_none = (!acked[h_j] || app[h_j] == ws[h_j]);
      assert(lost_none)
    };
    check_reads(h_rec)
  }
}

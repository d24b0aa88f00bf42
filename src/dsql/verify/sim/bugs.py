"""Deliberately injectable bugs, to prove the checkers can fail.

Each is switched on by the harness (``--bug NAME``); the components themselves are unchanged,
the bug sits at the seam where the simulated node calls them:

  SKIP_KEY         the adjudicator skips one key: claims on ``l:000`` are not sent to it, so
                   two transactions appending to that list can both commit (lost update)
  ACK_BEFORE_SYNC  the journal acknowledges before its fdatasync: a commit is applied and
                   acknowledged while its record may still be lost by a crash
  WATERMARK_AHEAD  storage's watermark is advanced to each commit as it is applied, ignoring
                   older commits still in flight, so a read can miss one of them
  CHECKPOINT_LSN   a checkpoint records the journal's next lsn as its replay point, instead of
                   the lowest lsn of a commit above its image (journaled, not yet applied), so
                   recovery from it skips those commits

Invariant: with Bug.NONE the simulated node calls the components exactly as Node does.
Thread-safety: constants only.
"""

from __future__ import annotations

import enum


class Bug(enum.Enum):
    NONE = "none"
    SKIP_KEY = "skip-key"
    ACK_BEFORE_SYNC = "ack-before-sync"
    WATERMARK_AHEAD = "watermark-ahead"
    CHECKPOINT_LSN = "checkpoint-lsn"


SKIPPED_KEY = b"l:000"

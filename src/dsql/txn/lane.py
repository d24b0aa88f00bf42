"""A transaction taken over from the server's C++ transaction lane (cpp/wire/txn_lane.h).

The lane runs BEGIN, point UPDATEs and INSERTs, point SELECTs and COMMIT of registered
prepared statements without Python. When a message it does not handle arrives while its
transaction is open, the server takes the transaction over before the general path runs the
message: `adopt` rebuilds it as a dsql.txn.Transaction with the same snapshot, start times,
buffered writes and claims, so the session continues it as if it had run it all along.

A COMMIT the lane tried and the adjudicator refused (or the commit path failed) is handed over
with its result: the Transaction then raises, at its commit, the error Node.commit and
Transaction.commit would have raised for it (OC000, OC001 when the catalog changed, ...).

Thread-safety: called by the thread that runs the session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dsql._core import _kernels
from dsql.adjudicator import CommitConflict, Kind
from dsql.adjudicator import _result as adjudicator_result
from dsql.catalog.store import CATALOG_KEY
from dsql.sql.errors import SchemaConflict
from dsql.txn.limits import Limits
from dsql.txn.transaction import Transaction

if TYPE_CHECKING:
    from dsql.engine import Database

# (start_ts, wall-clock ns, monotonic ns, [(key, value)], [(key, kind)], failure)
Handover = tuple[int, int, int, Sequence[tuple[bytes, bytes]], Sequence[tuple[bytes, int]], Any]


def adopt(db: Database, limits: Limits, state: Handover) -> Transaction:
    """The Transaction that continues the lane's: REQUIRES state from FastConn.handover()."""
    start_ts, wall_ns, mono_ns, writes, claims, failure = state
    assert start_ts > 0 and len(writes) == len(claims)
    txn = Transaction(db, start_ts, limits)
    txn.started_wall_ns = wall_ns
    txn.started_s = mono_ns / 1e9  # CLOCK_MONOTONIC, as time.monotonic()
    nbytes = 0
    for key, value in writes:
        txn.writes[key] = value
        nbytes += len(key) + len(value)
    txn.rows.update(txn.writes)
    txn.bytes = nbytes
    txn.claims.update((key, Kind(kind)) for key, kind in claims)
    txn.dml = bool(writes)
    if failure is not None:
        txn.commit_error = _commit_error(db, txn, failure)
    return txn


def _commit_error(db: Database, txn: Transaction, failure: tuple[str, Any]) -> BaseException:
    """The error the general path's commit would have raised for the lane's failed one."""
    what, detail = failure
    if what == "result":
        # the claims as the commit sent them: the writes' claims, then the catalog key
        claims = [*txn.claims.items(), (CATALOG_KEY, Kind.KEYSHARE)]
        try:
            adjudicator_result(0, detail, claims).raise_if_failed()
        except CommitConflict as e:
            if db.catalogs.latest.version != txn.base_version:
                return SchemaConflict()
            return e
        except Exception as e:  # noqa: BLE001 (the adjudicator's other SQLSTATE errors)
            return e
        raise AssertionError("a refused commit raised nothing")
    if what == "ApplyFailed":
        return db.node._apply_failed(str(detail))  # durable but not applied: the node stops
    if what == "JournalError":
        return _kernels.journal.JournalError(str(detail))
    return RuntimeError(str(detail))

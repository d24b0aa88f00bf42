"""A connection's fast lane: point SELECTs, and short transactions, answered in C++.

The general path frames a client's messages on the event loop, hands them to a worker thread,
and runs them through the Processor and the Session. For the commonest statement of all, a
primary-key point read outside a transaction block, the kernel in cpp/wire/point_query.h can
do the whole round trip itself: parse the messages, read the row at the storage watermark,
encode the replies and send them. The lane connects the two:

- Registration (worker thread, after the general path ran a statement): a simple Query whose
  one statement ran as a cached point plan is registered under its normalized text (literals
  lifted, checked against the SQL layer's own lifting); a named prepared statement under its
  name, with its parameter types. `dsql.sql.fastplan` builds the kernel plan.
- Answering (event-loop thread, `Connection.data_received`): when the connection is idle
  (no job, nothing queued or half-framed, session outside a transaction, no unnamed statement
  or portal, not skipping to Sync), the bytes go to the kernel first; it answers them all or
  refuses them all, and a refusal costs nothing but the parse.
- Forgetting: Parse, Close and Query messages that reach the general path drop the registered
  statements (Close, DEALLOCATE and DISCARD change them); a settings change (SET, RESET) drops
  everything (search_path decides which table a name means); the kernel ignores every plan
  built before a DDL commit (its catalog epoch).
- Why a registered plan is never stale: registration reads the epoch first, then
  Session.cached_point checks that no DDL is in flight and that the plan was bound against
  the newest catalog; a DDL counts itself in flight before it bumps the epoch
  (CatalogCache.ddl_started). So a plan is registered under an epoch only if it was built from
  the catalog that epoch stands for.

The transaction lane (cpp/wire/txn_lane.h), on connections with their own thread: named
prepared statements BEGIN, COMMIT, `UPDATE t SET c = c + $n ... WHERE <key> = $k` and
one-row INSERTs are registered too (dsql.sql.fastplan decides which qualify), so that a whole
short transaction of them (pgbench's TPC-B) runs in C++: the snapshot, the buffered writes,
reads merged with them, the commit through the node's CommitPath, and the write-conflict reply.

- Registration happens after a statement ran on the general path, inside a transaction block
  too (BEGIN is seen after it opened one; a point SELECT registered there also serves
  autocommit reads: its plan is the newest catalog's either way).
- Handover: whenever the kernel refuses a message while its transaction is open, the Processor
  calls `adopt()` before handling it: the session continues the same transaction
  (dsql.txn.lane) and the general path answers, errors included.
- The lane's commits count for `Database.last_commit_ts`; hidden row ids come from its
  counter; the node stops it when it fails or closes.

Thread-safety: registration and forgetting run on the connection's worker, answering on the
event loop or in the connection's thread; the connection guarantees they never overlap
(answering only while no job runs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dsql._core._kernels import wire
from dsql.server.backend import Column
from dsql.server.values import typlen
from dsql.sql import fastplan, utility
from dsql.txn.limits import JOURNAL_WRITE_OVERHEAD_BYTES

INT_OIDS = frozenset({20, 21, 23})
_LIFTED_OIDS = {"i4": 23, "i8": 20}
REJECTED_MAX = 1024


def fields_of(columns: Sequence[Column]) -> list[fastplan.Field]:
    return [(c.name, c.table_oid, c.column_no, c.type_oid, typlen(c.type_oid), c.typmod)
            for c in columns]


class FastLane:
    def __init__(self, fast: Any, session: Any) -> None:
        self.fast = fast
        self.session = session
        self.conn = wire.FastConn(fast)
        # whether transaction-lane statements are registered (connection threads only: their
        # waits must not hold the event loop or the GIL)
        self.transactions = False
        self.generation = 0  # bumped whenever the registered statements are dropped
        self._settings = session.settings_generation
        self._rejected: set[str] = set()  # normalized texts found not to qualify
        self._rejected_epoch = fast.epoch

    def token(self) -> tuple[int, int]:
        """Changes when registrations are dropped or go stale (a DDL commit): a statement
        already offered under the current token is not offered again."""
        return self.generation, self.fast.epoch

    # -- forgetting ------------------------------------------------------------------------------
    def statements_changed(self) -> None:
        self.conn.clear_statements()
        self.generation += 1

    def check_settings(self) -> None:
        gen = self.session.settings_generation
        if gen != self._settings:
            self._settings = gen
            self.conn.clear()
            self._rejected.clear()
            self.generation += 1

    # -- registration ----------------------------------------------------------------------------
    def idle(self) -> bool:
        """Outside a transaction block: only then does a statement show what it would be in
        the lane (inside one, nothing is registered and nothing is rejected)."""
        return bool(self.session.transaction_status == "I")

    def register_query(self, sql: str, columns: Sequence[Column]) -> None:
        """After `sql` (a simple Query) ran on the general path with result `columns`."""
        if not self.idle():
            return
        norm = wire.normalize(sql)
        if norm is None:
            return
        text, values, oids = norm
        epoch = self.fast.epoch
        if epoch != self._rejected_epoch:  # a DDL commit: a rejected text may qualify now
            self._rejected.clear()
            self._rejected_epoch = epoch
        if text in self._rejected:
            return
        plan = self._query_plan(sql, values, oids, columns)
        if plan is None:
            if len(self._rejected) >= REJECTED_MAX:
                self._rejected.clear()
            self._rejected.add(text)
            return
        self.conn.add_query(text, plan)

    def _query_plan(self, sql: str, values: list[int], oids: list[int],
                    columns: Sequence[Column]) -> Any:
        statements = utility.split_statements(sql)
        if len(statements) != 1 or not values:
            return None
        epoch = self.fast.epoch  # read before cached_point's checks (see above)
        found = self.session.cached_point(statements[0], ())
        if found is None:
            return None
        plan, lifted = found
        if lifted is None or list(lifted.values) != values or \
                [_LIFTED_OIDS.get(t) for t in lifted.types] != oids:
            return None  # the SQL layer lifted other literals: the texts are not one statement
        return fastplan.point_plan(plan, len(values), fields_of(columns), epoch)

    def register_statement(self, name: str, sql: str, param_oids: Sequence[int],
                           params: Sequence[object], columns: Sequence[Column] | None) -> None:
        """After the named prepared statement `name` ran on the general path with `params`
        (and succeeded): a point SELECT, or a transaction-lane statement (BEGIN, COMMIT, a
        point UPDATE adding parameters, a one-row INSERT)."""
        if not name or any(o not in INT_OIDS for o in param_oids):
            return
        if columns is None:
            self._register_lane(name, sql, param_oids, params)
            return
        if not param_oids:
            return
        epoch = self.fast.epoch  # read before the session's catalog checks (see above)
        found = self.session.lane_plan(sql, params)
        if found is None or getattr(found[0], "point", None) is None:
            return
        plan = fastplan.point_plan(found[0], len(param_oids), fields_of(columns), epoch)
        if plan is not None:
            self.conn.add_statement(name, plan, list(param_oids))

    def _register_lane(self, name: str, sql: str, param_oids: Sequence[int],
                       params: Sequence[object]) -> None:
        if not self.transactions:
            return
        session = self.session
        try:
            util = utility.classify(sql)
        except Exception:  # noqa: BLE001 (it ran, so this does not happen; then: not registered)
            return
        if util is not None:
            kind, modes = util
            txn = session.txn
            plain = all(v is None for v in modes.values())  # no isolation or access mode
            if kind == "begin" and plain and txn is not None and not txn.read_only:
                limits, cap = session.limits, session.db.capacity
                self.conn.add_begin(name, limits.max_rows, limits.max_bytes,
                                    int(limits.max_age_s * 1e9), cap.txn_keys_max,
                                    cap.record_bytes_max, JOURNAL_WRITE_OVERHEAD_BYTES)
            elif kind == "commit" and session.transaction_status == "I":
                self.conn.add_commit(name)
            return
        if not param_oids:
            return
        epoch = self.fast.epoch  # read before the session's catalog checks (see above)
        found = session.lane_plan(sql, params)
        if found is None:
            return
        plan, ast = found
        up = fastplan.update_plan(plan, ast, param_oids, epoch)
        if up is not None:
            self.conn.add_update(name, up, list(param_oids))
            return
        ins = fastplan.insert_plan(plan, ast, param_oids, session.utc, epoch)
        if ins is not None:
            self.conn.add_insert(name, ins, list(param_oids))

    # -- the transaction lane ---------------------------------------------------------------------
    def adopt(self) -> None:
        """The lane's open transaction becomes the session's (before the general path handles
        a message the lane refused: dsql.txn.lane)."""
        state = self.conn.handover()
        if state is not None:
            self.session.adopt_lane(state)

"""A client session: settings, the transaction state machine and statement execution.

    db = Database.open(":memory:")
    s = Session(db)
    s.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    s.execute("INSERT INTO t VALUES ($1, $2)", (1, "a"))
    s.execute("SELECT v FROM t WHERE id = $1", (1,)).rows      # [('a',)]

Transactions (Aurora DSQL): BEGIN takes the snapshot; a statement outside a block runs in its
own transaction (a read-only statement reads at the storage watermark, which covers every
acknowledged commit, and commits locally); COMMIT sends the writes and claims to the node
(40001 OC000 / OC001 on conflict). After an error inside a block every statement but
ROLLBACK/COMMIT gets 25P02; COMMIT of a failed block rolls back. One DDL statement per
transaction and no DDL mixed with DML (0A000). Statements never wait for another session.

Plans are cached per session (LRU, PLAN_CACHE_MAX) by (statement text, parameter types) and by
(normalized text, literal types, parameter types), where the normalized text has its literals
lifted out as parameters (dsql.sql.normalize); a plan is checked against the transaction's
catalog version and the settings generation. A statement repeated with other literals or
parameters does not go through sqlglot again.

Thread-safety: one thread at a time per Session; `cancel` may be called from another thread.
"""

from __future__ import annotations

import datetime as _dt
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from dsql.engine import Database
from dsql.errors import DsqlError, FeatureNotSupported, SqlSyntaxError
from dsql.sql import array_params, bulk, casts, jobs, roles, savepoints, utility
from dsql.sql import settings as gucs
from dsql.sql.ddl import DdlPlan
from dsql.sql.dialect import Dsql
from dsql.sql.dml import plan_delete, plan_insert, plan_update
from dsql.sql.errors import (
    ActiveSqlTransaction,
    InFailedTransaction,
    ReadOnlyTransaction,
)
from dsql.sql.expr import Compiler
from dsql.sql.normalize import Lifted, lift, safe_params
from dsql.sql.plan import ExecContext, Plan
from dsql.sql.scope import Scope
from dsql.sql.select import Binder, ParamsWithContext, SelectPlan, plan_query, scalar_subquery
from dsql.sql.system import context as system_context
from dsql.sql.system.types import NAME as NAME_TYPE
from dsql.sql.types import registry as r
from dsql.sql.types.context import TxnClock, ValueContext
from dsql.sql.types.timezones import timezone_setting
from dsql.storage.interval import Interval
from dsql.txn import lane
from dsql.txn.autocommit import point_update
from dsql.txn.interrupt import Interrupt, timeout_ms
from dsql.txn.limits import SETTING_NAMES as LIMIT_SETTINGS
from dsql.txn.limits import Limits
from dsql.txn.transaction import Transaction

__all__ = ["Column", "Prepared", "Session", "StatementResult"]


@dataclass
class Column:
    name: str
    type_oid: int
    typmod: int
    table_oid: int = 0
    column_no: int = 0


@dataclass
class Prepared:
    sql: str
    param_type_oids: list[int]
    columns: list[Column] | None
    catalog_version: int = 0  # the catalog it was described under (0: its result never changes)


@dataclass
class StatementResult:
    columns: list[Column] | None
    rows: list[tuple[Any, ...]]
    command_tag: str
    notices: list[DsqlError] = field(default_factory=list)
    parameter_changes: dict[str, str] = field(default_factory=dict)


_PY_TYPES: dict[type, r.SqlType] = {
    bool: r.BOOL, int: r.INT8, float: r.FLOAT8, Decimal: r.NUMERIC, str: r.UNKNOWN,
    bytes: r.BYTEA, bytearray: r.BYTEA, memoryview: r.BYTEA, _dt.date: r.DATE,
    _dt.time: r.TIME, uuid.UUID: r.UUID, Interval: r.INTERVAL, _dt.timedelta: r.INTERVAL,
    type(None): r.UNKNOWN, dict: r.JSONB, list: r.JSONB,
}


def _adapt(v: Any) -> Any:
    if isinstance(v, _dt.datetime) and v.tzinfo is not None:
        return v.astimezone(_dt.timezone.utc)
    if isinstance(v, _dt.timedelta):
        return Interval(0, v.days, v.seconds * 1_000_000 + v.microseconds)
    if isinstance(v, (bytearray, memoryview)):
        return bytes(v)
    return v


def param_type(v: Any) -> r.SqlType:
    if isinstance(v, _dt.datetime):
        return r.TIMESTAMPTZ if v.tzinfo is not None else r.TIMESTAMP
    t = _PY_TYPES.get(type(v))
    if t is None:
        at = array_params.sql_type_of(v)  # a list bound as a declared array type
        if at is not None:
            return at
        for k, t2 in _PY_TYPES.items():
            if isinstance(v, k):
                return t2
        raise FeatureNotSupported(f"cannot adapt a parameter of type {type(v).__name__}")
    return t


class _Cached:
    __slots__ = ("ast", "plan", "catalog_version", "ctx_gen", "kind", "param_types", "point",
                 "columns", "point_update", "used")

    def __init__(self, ast: exp.Expression, plan: Plan, catalog_version: int, ctx_gen: int,
                 param_types: list[r.SqlType]) -> None:
        self.ast, self.ctx_gen, self.param_types = ast, ctx_gen, param_types
        self.used = False  # hit since the eviction clock last passed (Session._remember)
        self.rebound(plan, catalog_version)

    def rebound(self, plan: Plan, catalog_version: int) -> None:
        """The plan bound again against another catalog version (everything derived too)."""
        self.plan, self.catalog_version, self.kind = plan, catalog_version, plan.kind
        self.point = getattr(plan, "point", None)
        # (a plan that runs subqueries needs its execution context: the general path)
        self.point_update = None if getattr(plan, "subqueries", False) or plan.volatile \
            else getattr(plan, "point_update", None)
        cols = plan.columns
        self.columns = None if cols is None else [
            Column(c.name, c.type_oid, c.typmod, c.table_oid, c.column_no) for c in cols]


def _result_shape(cols: list[Column] | None) -> list[tuple[str, int, int]] | None:
    """What a prepared statement's result type is made of (PostgreSQL compares the same)."""
    return None if cols is None else [(c.name, c.type_oid, c.typmod) for c in cols]


RECENT_COMMIT_NS = 1_000_000_000
FAST_POINT_UPDATE = True  # dsql.txn.autocommit for cached single-row UPDATEs (tests compare)
PLAN_CACHE_MAX = 512  # cached plans per session (about least recently used dropped)
_LIFTED_TYPES = {"i4": r.INT4, "i8": r.INT8, "n": r.NUMERIC, "u": r.UNKNOWN}

_DML = (exp.Insert, exp.Update, exp.Delete)
_DDL = (exp.Create, exp.Drop, exp.Alter)
_QUERY = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Values, exp.Subquery)


class Session:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.settings: dict[str, str] = {}
        self.txn: Transaction | None = None
        self.in_block = False
        self.failed = False
        # SET inside a transaction block (PostgreSQL's rules): the settings when the block's
        # first SET ran, and the ones its COMMIT keeps (SET LOCAL changes only `settings`)
        self._settings_before: dict[str, str] | None = None
        self._settings_after: dict[str, str] | None = None
        # reported settings whose value changed outside a SET (a block's end undid SETs): the
        # server sends them as ParameterStatus before its next ReadyForQuery
        self.pending_parameter_changes: dict[str, str] = {}
        self._plans: OrderedDict[Any, _Cached] = OrderedDict()  # LRU, PLAN_CACHE_MAX
        self._nolift: set[Any] = set()  # lifted texts that must run unlifted
        # statement text -> its lifted form (so that a repeated text is not tokenized again)
        self._lift_memo: dict[Any, tuple[Lifted | None, Any]] = {}
        self.lift_literals = True  # tests turn it off to compare
        self._clock = TxnClock()  # now() and friends read it (set as each statement starts)
        self._ctx = ValueContext(clock=self._clock)
        self._ctx_gen = 0
        self._search_path = ["public"]
        self._limits = db.limits
        self._block_read_only = False
        self._intr = Interrupt()
        self._changes: dict[str, str] = {}
        self.closed = False
        self._get = db.node.get
        jobs.resume_jobs(db)  # CREATE INDEX ASYNC jobs left unfinished by a restart
        self.user = "postgres"  # the role this session authenticated as (current_user)
        self.database = "postgres"  # the database name the client asked for
        self._savepoints: list[savepoints.Savepoint] = []
        self.authenticated = False  # True when a server checked `user` against the catalog
        # the wire connection (dsql.server.backend.ClientChannel) that COPY moves data through;
        # set by the server's backend, None for library use
        self.client: Any = None

    # -- the API --------------------------------------------------------------------------------
    @property
    def transaction_status(self) -> str:
        return "E" if self.failed else ("T" if self.in_block else "I")

    def parameter_status(self) -> dict[str, str]:
        return {s.name: self._show(s.name) for s in gucs.SETTINGS.values() if s.reported}

    def execute_script(self, sql: str) -> list[StatementResult]:
        return [self.execute(s) for s in utility.split_statements(sql)]

    def prepare(self, sql: str, param_type_oids: Sequence[int] = ()) -> Prepared:
        kind = utility.classify(sql)
        if kind is not None or bulk.recognise(sql) is not None:  # no rows, no parameters
            return Prepared(sql, list(param_type_oids), None)
        stripped = jobs.async_index_sql(sql)
        if stripped is not None:
            self._parse(stripped)  # syntax errors at Parse, as PostgreSQL reports them
            return Prepared(sql, list(param_type_oids), [Column("job_id", r.TEXT.oid, -1)])
        if jobs.wait_call(sql) is not None:
            return Prepared(sql, list(param_type_oids),
                            [Column("wait_for_job", r.BOOL.oid, -1)])
        ast = self._parse(sql)
        n = _count_params(ast)
        oids = list(param_type_oids) + [0] * max(0, n - len(param_type_oids))
        types = [r.UNKNOWN if o == 0 else r.type_by_oid(o) for o in oids]
        cat = self.db.catalogs.latest if self.txn is None else self.txn.catalog
        plan, _ = self._bind(ast, cat, types)
        cols = None if plan.columns is None else [Column(c.name, c.type_oid, c.typmod,
                                                         c.table_oid, c.column_no)
                                                  for c in plan.columns]
        inferred = getattr(plan, "inferred_params", {})
        types = [inferred.get(i, t) if t.oid == r.UNKNOWN.oid else t
                 for i, t in enumerate(types)]
        return Prepared(sql, [t.oid for t in types], cols, cat.version)

    def execute_prepared(self, p: Prepared, params: Sequence[object]) -> StatementResult:
        if p.catalog_version and p.catalog_version != self.db.catalogs.latest.version:
            self._revalidate(p)
        if any(type(v) is list for v in params):  # declared array parameters bind as such
            params = _typed_arrays(params, p.param_type_oids)
        return self.execute(p.sql, params)

    def _revalidate(self, p: Prepared) -> None:
        """After a DDL: a prepared statement whose result columns changed fails, as in
        PostgreSQL (0A000), before it runs; otherwise it is valid under the new catalog."""
        now = self.prepare(p.sql, p.param_type_oids)
        if _result_shape(now.columns) != _result_shape(p.columns):
            raise FeatureNotSupported("cached plan must not change result type")
        p.catalog_version = now.catalog_version

    @property
    def settings_generation(self) -> int:
        """Changes whenever a setting that planning depends on may have changed (SET, RESET)."""
        return self._ctx_gen

    def cached_point(self, sql: str, params: Sequence[object]) -> tuple[Plan, Lifted | None] | None:
        """The cached plan that `execute(sql, params)` would run now if it is an autocommit
        primary-key point read, with the literals lifted out of `sql` (None: no literals), or
        None. Only a plan bound against the newest catalog, with no DDL in flight, is given
        (the server's fast path, dsql.sql.fastplan)."""
        if self.txn is not None or self.failed or self.in_block:
            return None
        key = (sql, *map(type, params)) if params else sql
        lf: Lifted | None = None
        cached = self._plans.get(key)
        if cached is None:
            memo = self._lift_memo.get(key)
            if memo is None or memo[0] is None:
                return None
            lf = memo[0]
            cached = self._plans.get(memo[1])
        if cached is None or cached.point is None or not self._current(cached):
            return None
        return cached.plan, lf

    def lane_plan(self, sql: str, params: Sequence[object]) -> tuple[Plan, exp.Expression] | None:
        """The cached plan (and its syntax tree) that `execute(sql, params)` runs now, for the
        server's transaction lane (dsql.sql.fastplan): only one bound against the newest
        catalog, with no DDL in flight, no lifted literals, and the session not failed."""
        if self.failed:
            return None
        key = (sql, *map(type, params)) if params else sql
        cached = self._plans.get(key)
        if cached is None or not self._current(cached):
            return None
        plan = cached.plan
        if getattr(plan, "subqueries", False) or plan.volatile:
            return None  # (it needs its execution context: the general path)
        return plan, cached.ast

    def _current(self, cached: _Cached) -> bool:
        """Whether a cached plan is what the server's C++ lanes may run now: bound under the
        session's settings and against the newest catalog, with no DDL in flight."""
        cats = self.db.catalogs
        return cached.ctx_gen == self._ctx_gen and not cats.ddl_in_flight \
            and cats.latest.version == cached.catalog_version

    def adopt_lane(self, state: lane.Handover) -> None:
        """Continues the transaction the server's C++ lane ran so far (dsql.txn.lane).
        REQUIRES: no transaction block open here."""
        assert self.txn is None and not self.in_block and not self.failed
        self.txn = lane.adopt(self.db, self._limits, state)
        self.in_block = True

    @property
    def utc(self) -> bool:
        """Whether the session's TimeZone is UTC itself (local time is UTC at every instant)."""
        return self._ctx.timezone is _dt.timezone.utc

    @property
    def limits(self) -> Limits:
        """The session's transaction limits (SET can change them)."""
        return self._limits

    def cancel(self) -> None:
        """From any thread: the running statement fails with 57014 at its next check (every
        1024 rows); no effect when no statement runs."""
        self._intr.cancel()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.txn = None

    # -- execution ------------------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[object] = ()) -> StatementResult:
        plans = self._plans
        n = len(params)  # the key of _execute, built faster for the commonest single parameter
        key = (sql, type(params[0])) if n == 1 else (sql, *map(type, params)) if n else sql
        cached = plans.get(key)
        if cached is not None and cached.ctx_gen == self._ctx_gen:
            cached.used = True
            point = cached.point
            if point is not None and self.txn is None:
                # an autocommit primary-key lookup: read at the watermark, no transaction
                # (one row: nothing to cancel or time out)
                db = self.db
                ts = db.last_commit_ts
                if db.catalogs.at(ts).version == cached.catalog_version:
                    rows = point(params, self._get, ts)
                    return StatementResult(cached.columns, rows, f"SELECT {len(rows)}", [], {})
            if cached.point_update is not None and self.txn is None:
                res = self._point_update(cached, params)
                if res is not None:
                    return res
        elif self.txn is None:
            # a lifted statement whose plan is an autocommit single-row UPDATE (one row, never
            # checks for cancel or timeout: no statement bracket needed)
            memo = self._lift_memo.get(key)
            if memo is not None and memo[0] is not None:
                lc = plans.get(memo[1])
                if lc is not None and lc.point_update is not None and \
                        lc.ctx_gen == self._ctx_gen:
                    lc.used = True
                    res = self._point_update(lc, (*params, *memo[0].values))
                    if res is not None:
                        return res
        intr = self._intr
        if intr.running:  # a statement run from inside a statement
            return self._execute(sql, params, key, cached)
        intr.begin()
        try:
            return self._execute(sql, params, key, cached)
        finally:
            intr.end()

    def _execute(self, sql: str, params: Sequence[object], key: Any = None,
                 cached: _Cached | None = None) -> StatementResult:
        plans = self._plans
        if key is None:
            key = (sql, *map(type, params)) if params else sql
            cached = plans.get(key)
        if cached is not None and cached.ctx_gen == self._ctx_gen:
            return self._run_cached(cached, params)
        memo = self._lift_memo.get(key)
        if memo is not None:
            lf, lkey = memo
        else:
            lf = lift(sql, len(params)) if self.lift_literals else None
            lkey = None if lf is None else (lf.text, lf.types, *map(type, params))
            if len(self._lift_memo) >= PLAN_CACHE_MAX:
                self._lift_memo.clear()
            self._lift_memo[key] = (lf, lkey)
        if lf is not None:
            allp = (*params, *lf.values)
            cached = plans.get(lkey)
            if cached is not None and cached.ctx_gen == self._ctx_gen:
                cached.used = True
                return self._run_hit(cached, allp)
            if lkey not in self._nolift:
                return self._execute_new(sql, params, key, lf, lkey, allp)
        return self._execute_new(sql, params, key, None, None, params)

    def _run_hit(self, cached: _Cached, params: Sequence[object]) -> StatementResult:
        point = cached.point
        if point is not None and self.txn is None:
            # an autocommit primary-key lookup: read at the watermark, no transaction
            db = self.db
            ts = db.last_commit_ts
            if db.catalogs.at(ts).version == cached.catalog_version:
                rows = point(params, self._get, ts)
                return StatementResult(cached.columns, rows, f"SELECT {len(rows)}", [], {})
        return self._run_cached(cached, params)

    def _execute_new(self, sql: str, params: Sequence[object], key: Any, lf: Lifted | None,
                     lkey: Any, allp: Sequence[object]) -> StatementResult:
        """A statement not in the plan cache: parse (the lifted text when `lf`), bind, cache,
        run. A lifted statement that does not parse, puts a lifted parameter where a literal is
        not a plain value, or does not bind falls back to its own text (and is remembered, so
        the next one does not try again)."""
        util = utility.classify(sql)
        if util is not None:
            return self._utility(util[0], util[1])
        if self.failed:
            raise InFailedTransaction()
        stripped = jobs.async_index_sql(sql)
        if stripped is not None:
            return self._async_index(stripped, params)
        call = jobs.wait_call(sql)
        if call is not None:
            job_id = call[0]
            if job_id is None:  # an expression, e.g. a scalar subquery over sys.jobs
                job_id = str(self._execute(f"SELECT ({call[1]})", params).rows[0][0])
            ok = jobs.wait_for_job(self.db, job_id, self._intr.check)
            return StatementResult([Column("wait_for_job", r.BOOL.oid, -1)], [(ok,)], "CALL")
        special = bulk.recognise(sql)  # COPY, TRUNCATE, VACUUM, ANALYZE (dsql.sql.bulk)
        if special is not None:
            return self._bulk(special, params)
        ptypes = [param_type(v) for v in params]
        ast: exp.Expression | None = None
        if lf is not None:
            try:
                ast = self._parse(lf.text)
            except DsqlError:
                ast = None
            if ast is not None and not safe_params(ast, len(params) + 1):
                ast = None
            if ast is None:
                self._no_lift(lkey)
        if ast is None:
            ast, lf = self._parse(sql), None
        txn, implicit = self._statement_txn(ast)
        self._start_clock(txn)
        try:
            plan: Plan | None = None
            if lf is not None:
                ltypes = ptypes + [_LIFTED_TYPES[t] for t in lf.types]
                try:
                    plan, volatile = self._bind(ast, txn.catalog, ltypes)
                except DsqlError:
                    self._no_lift(lkey)
                if plan is not None:
                    if not volatile:
                        self._remember(lkey, _Cached(ast, plan, txn.catalog.version,
                                                     self._ctx_gen, ltypes))
                    return self._execute_in(txn, implicit, plan, allp)
                ast = self._parse(sql)
            plan, volatile = self._bind(ast, txn.catalog, ptypes)
            if not volatile:
                self._remember(key, _Cached(ast, plan, txn.catalog.version, self._ctx_gen,
                                            ptypes))
            return self._execute_in(txn, implicit, plan, params)
        except BaseException:
            self._statement_failed(implicit)
            raise

    def _async_index(self, sql: str, params: Sequence[object]) -> StatementResult:
        """CREATE [UNIQUE] INDEX ASYNC (given without ASYNC): a DDL statement (dsql.sql.jobs)."""
        ast = self._parse(sql)
        if not isinstance(ast, exp.Create) or (ast.args.get("kind") or "").upper() != "INDEX":
            raise SqlSyntaxError('syntax error at or near "ASYNC"')
        txn, implicit = self._statement_txn(ast)
        try:
            return self._execute_in(txn, implicit, jobs.AsyncIndexPlan(ast, self._search_path),
                                    params)
        except BaseException:
            self._statement_failed(implicit)
            raise

    def _remember(self, key: Any, cached: _Cached) -> None:
        """Caches a plan; beyond PLAN_CACHE_MAX the least recently used go, approximately
        (CLOCK, second chance: a hit only sets `used`, eviction passes over used entries once,
        moving them to the young end)."""
        plans = self._plans
        plans[key] = cached
        for _ in range(2 * PLAN_CACHE_MAX + 2):
            if len(plans) <= PLAN_CACHE_MAX:
                break
            old_key, old = plans.popitem(last=False)
            if old.used and old_key != key:
                old.used = False
                plans[old_key] = old

    def _no_lift(self, lkey: Any) -> None:
        if len(self._nolift) >= PLAN_CACHE_MAX:
            self._nolift.clear()
        self._nolift.add(lkey)

    def _run_cached(self, cached: _Cached, params: Sequence[object]) -> StatementResult:
        if self.failed:
            raise InFailedTransaction()
        plan = cached.plan
        txn = self.txn
        implicit = txn is None
        if txn is None:
            kind = cached.kind
            if kind == "query" and not plan.locks:
                ts = self.db.last_commit_ts
            else:
                if cached.point_update is not None:
                    res = self._point_update(cached, params)
                    if res is not None:
                        return res
                ts = self._write_snapshot(kind)
            txn = Transaction(self.db, ts, self._limits)
        try:
            if txn.catalog.version != cached.catalog_version:
                plan, _ = self._bind(cached.ast, txn.catalog, cached.param_types)
                cached.rebound(plan, txn.catalog.version)
            return self._execute_in(txn, implicit, plan, params)
        except BaseException:
            self._statement_failed(implicit)
            raise

    def _point_update(self, cached: _Cached, params: Sequence[object]) -> StatementResult | None:
        """Runs a cached single-row UPDATE outside a transaction block through
        dsql.txn.autocommit (no Transaction object), at the snapshot _write_snapshot("dml")
        gives; None when that does not apply now (the general path then runs the statement).
        REQUIRES: cached.point_update is set and no transaction is open."""
        pu = cached.point_update
        assert pu is not None and self.txn is None
        if not FAST_POINT_UPDATE or self.failed or cached.kind != "dml":
            return None
        db = self.db
        ts = db.last_commit_ts  # _write_snapshot("dml"), inline
        if time.time_ns() - ts >= RECENT_COMMIT_NS:
            ts = db.node.begin()
        if db.catalogs.at(ts).version != cached.catalog_version:
            return None
        ps = params
        for v in params:
            if type(v) in _ADAPT:
                ps = tuple(_adapt(v) for v in params)
                break
        now_ns = time.time_ns()
        self._clock.set(now_ns, now_ns)  # now() in SET reads it (the transaction starts now)
        n = point_update(db, ts, cached.catalog_version, pu, ps, self._limits)
        return StatementResult(None, [], "UPDATE 1" if n else "UPDATE 0", [], {})

    def _bulk(self, st: bulk.Statement, params: Sequence[object]) -> StatementResult:
        if self.in_block and not st.in_block_ok:
            self.failed = True  # as PostgreSQL: the block is aborted
            raise ActiveSqlTransaction("VACUUM cannot run inside a transaction block")
        txn, implicit = self.txn, False
        if txn is None:
            ts = self.db.last_commit_ts if st.kind == "query" else self.db.node.begin()
            txn, implicit = Transaction(self.db, ts, self._limits), True
        try:
            b = Binder(txn.catalog, self._search_path,
                       Compiler(Scope(), self._ctx, [], session=self))
            plan = st.bind(b)
            plan.catalog_version = txn.catalog.version
            return self._execute_in(txn, implicit, plan, params)
        except BaseException:
            self._statement_failed(implicit)
            raise

    def _statement_txn(self, ast: exp.Expression) -> tuple[Transaction, bool]:
        if self.txn is not None:
            return self.txn, False
        reads = isinstance(ast, _QUERY) and not ast.args.get("locks")
        ts = self.db.last_commit_ts if reads else \
            self._write_snapshot("dml" if isinstance(ast, _DML) else "ddl")
        return Transaction(self.db, ts, self._limits), True

    def _write_snapshot(self, kind: str) -> int:
        """The snapshot of an autocommit statement that writes. DML: the newest commit, as an
        autocommit read uses (it covers every commit acknowledged to a client, and is readable
        without asking the adjudicator for a promise), unless that is older than
        RECENT_COMMIT_NS (then a fresh timestamp, so that the snapshot stays well inside the
        adjudicator's window). Others: a fresh timestamp (node.begin)."""
        if kind == "dml":
            ts = self.db.last_commit_ts
            if time.time_ns() - ts < RECENT_COMMIT_NS:
                return ts
        return self.db.node.begin()

    def _execute_in(self, txn: Transaction, implicit: bool, plan: Plan,
                    params: Sequence[object]) -> StatementResult:
        kind = plan.kind
        if kind != "query":
            if txn.read_only:
                raise ReadOnlyTransaction(f"cannot execute {_verb(plan)} in a read-only "
                                          "transaction")
            if txn.ddl:
                raise FeatureNotSupported(
                    "a transaction may hold only one DDL statement and no DML after it "
                    "(Aurora DSQL: DDL and DML cannot be mixed)")
            if kind == "ddl":
                if txn.dml:
                    raise FeatureNotSupported(
                        "DDL cannot be mixed with DML in one transaction (Aurora DSQL)")
                txn.ddl = True
            else:
                txn.dml = True
        if not implicit:
            txn.check_age()
        ps = params
        if params and any(type(v) in _ADAPT for v in params):
            ps = tuple(_adapt(v) for v in params)
        for i, read in getattr(plan, "param_checks", ()):
            v = ps[i]
            if type(v) is str:
                read(v)  # an untyped value that its declared type cannot read fails now
        ctx = self._ctx
        if plan.volatile:
            ctx = self._time_ctx(txn)
        txn.interrupt = self._intr.check
        ec = ExecContext(txn, ps, ctx, self)
        system_context.enter(txn.catalog, self)
        if getattr(plan, "subqueries", False):
            pw = ParamsWithContext(ps)
            pw.ec = ec
            ec.params = pw
        self._start_clock(txn)
        out = plan.execute(ec)
        if implicit:
            txn.commit()
        cols = plan.columns
        if cols is None:
            return StatementResult(None, out.rows, out.tag, out.notices, {})
        return StatementResult(
            [Column(c.name, c.type_oid, c.typmod, c.table_oid, c.column_no) for c in cols],
            out.rows, out.tag, out.notices, {})

    def abort_block(self) -> None:
        """An error outside any statement (a wire message's): an open transaction block is
        aborted, 25P02 until it ends."""
        if self.in_block:
            self.failed = True

    def _statement_failed(self, implicit: bool) -> None:
        if not implicit and self.in_block:
            self.failed = True

    def _start_clock(self, txn: Transaction) -> None:
        """The statement begins: now() is the transaction's start on the wall clock, as in
        PostgreSQL (not its snapshot ts: an autocommit read's is the newest commit's, which can
        be older than the statement, and commit timestamps can run ahead of the wall clock by
        the clock's error bound); statement_timestamp() is this moment."""
        self._clock.set(int(txn.started_wall_ns), time.time_ns())

    def _time_ctx(self, txn: Transaction) -> ValueContext:
        # now(): the transaction's start on the wall clock (see _start_clock)
        wall_ns = int(txn.started_wall_ns)
        ts = _dt.datetime.fromtimestamp(wall_ns // 1_000_000_000, _dt.timezone.utc)
        ts = ts.replace(microsecond=(wall_ns // 1000) % 1_000_000)
        return self._ctx.with_timestamp(ts)

    # -- parsing and binding ----------------------------------------------------------------------
    def _parse(self, sql: str) -> exp.Expression:
        role_cmd = roles.command_of(sql)
        if role_cmd is not None:  # not through sqlglot: it would log the password it holds
            return role_cmd
        # Statements the plan cache does not keep (volatile ones: CURRENT_TIMESTAMP, now())
        # are parsed again at every execution; a copy of the parsed tree costs a fifth of a
        # parse (pgbench's TPC-B INSERT: 67 us against 345 us). Copies, since binding may
        # rewrite a tree in place.
        # Kept from a text's second parse on, so one-off statements pay nothing.
        master = _PARSED.get(sql)
        if master is not None:
            return master.copy()
        ast = self._parse_text(sql)
        if sql in _SEEN:
            if len(_PARSED) >= PARSED_MAX:
                _PARSED.clear()
            _PARSED[sql] = ast.copy()
        else:
            if len(_SEEN) >= 4 * PARSED_MAX:
                _SEEN.clear()
            _SEEN[sql] = None
        return ast

    def _parse_text(self, sql: str) -> exp.Expression:
        try:
            stmts = sqlglot.parse(sql, dialect=Dsql)
        except (ParseError, TokenError) as e:
            err = SqlSyntaxError(_parse_message(e, sql))
            pos = _parse_position(e, sql)
            if pos is not None:
                err.position = pos  # type: ignore[attr-defined]
            raise err from None
        stmts = [s for s in stmts if s is not None]
        if len(stmts) != 1:
            if not stmts:
                raise SqlSyntaxError("empty statement")
            raise SqlSyntaxError("cannot insert multiple commands into a prepared statement",
                                 sqlstate="42601")
        ast = stmts[0]
        if isinstance(ast, exp.Command) and not roles.is_role_command(ast):
            raise FeatureNotSupported(f"statement {ast.name.upper()} is not supported")
        return normalize_identifiers(ast, dialect="postgres")

    def _bind(self, ast: exp.Expression, catalog: Any, ptypes: list[r.SqlType]
              ) -> tuple[Plan, bool]:
        system_context.enter(catalog, self)
        comp = Compiler(Scope(), self._ctx, ptypes, session=self)
        b = Binder(catalog, self._search_path, comp)
        has_sub = [False]

        def sub(node: exp.Expression, c: Compiler) -> Any:
            has_sub[0] = True
            return scalar_subquery(b, node, c)
        comp.subquery_planner = sub
        plan: Plan
        if isinstance(ast, _QUERY):
            locks = bool(ast.args.get("locks"))
            plan = SelectPlan(plan_query(b, ast), locks)
        elif isinstance(ast, exp.Insert):
            plan = plan_insert(b, ast)
        elif isinstance(ast, exp.Update):
            plan = plan_update(b, ast)
        elif isinstance(ast, exp.Delete):
            plan = plan_delete(b, ast)
        elif isinstance(ast, _DDL):
            plan = DdlPlan(ast, b, _ddl_tag(ast))
        elif roles.is_role_command(ast):
            plan = roles.RolePlan(roles.parse(ast))  # type: ignore[arg-type]
            b.volatile = True  # never cached: the statement may carry a password
        else:
            raise FeatureNotSupported(f"statement {ast.key.upper()} is not supported")
        volatile = b.volatile or comp.volatile
        plan.volatile = volatile
        plan.param_checks = [  # type: ignore[attr-defined]
            (i, casts.cast_fn(r.UNKNOWN, t, self._ctx, casts.IMPLICIT))
            for i, t in sorted(comp.inferred.items())]
        plan.catalog_version = catalog.version
        plan.inferred_params = comp.inferred  # type: ignore[attr-defined]
        plan.subqueries = has_sub[0] or b.shared.needs_ec  # type: ignore[attr-defined]
        return plan, volatile

    def session_function(self, name: str) -> tuple[r.SqlType, Any] | None:
        if name == "version":
            return r.TEXT, gucs.VERSION_STRING
        if name in ("current_schema",):
            return NAME_TYPE, self._search_path[0] if self._search_path else None
        if name in ("current_database", "current_catalog"):
            return NAME_TYPE, self.database
        if name in ("current_user", "session_user", "user", "current_role"):
            return NAME_TYPE, self.user
        if name == "pg_backend_pid":
            return r.INT4, id(self) & 0x7FFFFFFF
        return None

    # -- utility statements ---------------------------------------------------------------------
    def _utility(self, kind: str, d: dict[str, Any]) -> StatementResult:
        notices: list[DsqlError] = []
        if kind == "empty":
            return StatementResult(None, [], "", [])
        if kind == "rollback":
            if not self.in_block:
                notices.append(_warning("there is no transaction in progress", "25P01"))
            self._end_block(committed=False)
            return StatementResult(None, [], "ROLLBACK", notices)
        if kind == "commit":
            if not self.in_block:
                notices.append(_warning("there is no transaction in progress", "25P01"))
                return StatementResult(None, [], "COMMIT", notices)
            if self.failed:
                self._end_block(committed=False)
                return StatementResult(None, [], "ROLLBACK", notices)
            txn = self.txn
            assert txn is not None
            committed = False
            try:
                txn.commit()
                committed = True
            finally:
                self._end_block(committed)
            return StatementResult(None, [], "COMMIT", notices)
        if kind in ("savepoint", "release", "rollback_to"):
            return self._savepoint(kind, str(d["name"]))
        if self.failed:
            raise InFailedTransaction()
        if kind == "begin":
            if self.in_block:
                notices.append(_warning("there is already a transaction in progress", "25001"))
                return StatementResult(None, [], "BEGIN", notices)
            ro = d.get("read_only")
            if ro is None:
                ro = self._show("default_transaction_read_only") == "on"
            self.txn = Transaction(self.db, self.db.node.begin(), self._limits, bool(ro))
            self.in_block = True
            return StatementResult(None, [], "BEGIN", notices)
        if kind == "set_transaction":
            if d.get("session"):
                if d.get("read_only") is not None:  # (a SET: a block may undo it)
                    self._set("default_transaction_read_only", "on" if d["read_only"] else "off")
                return StatementResult(None, [], "SET", notices)
            if self.txn is not None and d.get("read_only") is not None:
                if d["read_only"] is False and self.txn.read_only is False:
                    pass
                self.txn.read_only = bool(d["read_only"])
            elif self.txn is None:
                notices.append(_warning("SET TRANSACTION can only be used in transaction "
                                        "blocks", "25P01"))
            return StatementResult(None, [], "SET", notices)
        if kind == "set":
            if d.get("local") and not self.in_block:
                notices.append(_warning("SET LOCAL can only be used in transaction blocks",
                                        "25P01"))
                gucs.lookup(str(d["name"]))  # (an unknown name is still an error)
                return StatementResult(None, [], "SET", notices)
            changes = self._set(str(d["name"]), d["value"], local=bool(d.get("local")))
            return StatementResult(None, [], "SET", notices, changes)
        if kind == "reset":
            name = str(d["name"])
            changes: dict[str, str] = {}
            names = [s.name for s in gucs.SETTINGS.values() if not s.read_only] \
                if name.lower() == "all" else [name]
            for n in names:
                changes.update(self._set(n, None))
            return StatementResult(None, [], "RESET", notices, changes)
        if kind == "show":
            name = str(d["name"])
            if name == "all":
                rows = [(s.name, self._show(s.name), "") for s in gucs.SETTINGS.values()]
                return StatementResult([Column("name", 25, -1), Column("setting", 25, -1),
                                        Column("description", 25, -1)], rows, "SHOW", notices)
            s = gucs.lookup(name)
            return StatementResult([Column(s.name if s.name != "TimeZone" else "TimeZone",
                                           25, -1)], [(self._show(s.name),)], "SHOW", notices)
        raise FeatureNotSupported(f"{kind} is not supported")

    def _savepoint(self, kind: str, name: str) -> StatementResult:
        if self.txn is None or not self.in_block:
            verb = {"savepoint": "SAVEPOINT", "release": "RELEASE SAVEPOINT",
                    "rollback_to": "ROLLBACK TO SAVEPOINT"}[kind]
            raise DsqlError(f"{verb} can only be used in transaction blocks", sqlstate="25P01")
        if kind == "savepoint":
            if self.failed:
                raise InFailedTransaction()
            sp = savepoints.take(self.txn, name)
            sp.settings = dict(self.settings)
            sp.settings_after = None if self._settings_after is None else \
                dict(self._settings_after)
            savepoints.push(self._savepoints, sp)
            return StatementResult(None, [], "SAVEPOINT", [])
        i = savepoints.find(self._savepoints, name)
        if kind == "release":
            if self.failed:
                raise InFailedTransaction()
            del self._savepoints[i:]
            return StatementResult(None, [], "RELEASE", [])
        del self._savepoints[i + 1:]
        sp = self._savepoints[i]
        savepoints.restore(self.txn, sp)
        self.failed = False
        if self._settings_before is not None and sp.settings is not None:
            self._settings_after = dict(sp.settings if sp.settings_after is None
                                        else sp.settings_after)
            self._settings_to(dict(sp.settings))
        return StatementResult(None, [], "ROLLBACK", [])

    def _end_block(self, committed: bool) -> None:
        """The block ends: its SETs stay (but not SET LOCAL) when it committed, else they are
        undone."""
        self._savepoints.clear()
        self.txn = None
        self.in_block = False
        self.failed = False
        before, after = self._settings_before, self._settings_after
        self._settings_before = self._settings_after = None
        if before is not None:
            assert after is not None
            self._settings_to(after if committed else before)

    def _settings_to(self, target: dict[str, str]) -> None:
        """Makes `target` the settings; the reported ones that changed go to the client."""
        old = self.settings
        if target == old:
            return
        self.settings = target
        self._apply_settings()
        for name in set(old) | set(target):
            if old.get(name) != target.get(name):
                s = gucs.lookup(name)
                if s.reported or s.name in _TIMEOUTS:
                    self.pending_parameter_changes[s.name] = self._show(s.name)

    def _show(self, name: str) -> str:
        s = gucs.lookup(name)
        if s.name == "transaction_read_only":
            return "on" if self.txn is not None and self.txn.read_only else "off"
        if s.name in LIMIT_SETTINGS and s.name not in self.settings:
            return self.db.limits.show(s.name)  # the server's value
        return self.settings.get(s.name, s.default)

    def _set(self, name: str, value: str | None, local: bool = False) -> dict[str, str]:
        """SET / RESET (value None) / set_config. Inside a transaction block the change is
        undone if the block does not commit; SET LOCAL's always is at the block's end.
        REQUIRES: not local outside a block."""
        assert self.in_block or not local
        s = gucs.lookup(name)
        if s.read_only:
            from dsql.errors import DsqlError as _E
            raise _E(f'parameter "{s.name}" cannot be changed', sqlstate="55P02")
        shown = s.default if value is None else gucs.normalise(s, value)
        if value is not None and s.name in _TIMEOUTS:
            timeout_ms(s.name, shown)  # 22023 for a value PostgreSQL would refuse
        if self.in_block and self._settings_before is None:
            self._settings_before = dict(self.settings)
            self._settings_after = dict(self.settings)
        changed = [self.settings]
        if self._settings_after is not None and not local:
            changed.append(self._settings_after)
        for settings in changed:
            if value is None:
                settings.pop(s.name, None)
            else:
                settings[s.name] = shown
        self._apply_settings()
        # The timeouts are not GUC_REPORT in PostgreSQL (no ParameterStatus), but the wire
        # server applies them too, so they are in parameter_changes (it filters what it sends).
        return {s.name: shown} if s.reported or s.name in _TIMEOUTS else {}

    def _apply_settings(self) -> None:
        tzname = self._show("TimeZone")
        tz, name = timezone_setting(tzname)
        order = self._show("DateStyle").split(",")[1].strip()
        self._ctx = ValueContext(timezone=tz, timezone_name=name, date_order=order,
                                 clock=self._clock)
        self._ctx_gen += 1
        sp = [p.strip().strip('"') for p in self._show("search_path").split(",")]
        self._search_path = [p for p in sp if p and p != "$user"] or ["public"]
        self._limits = self.db.limits.for_session(self.settings)
        if self.txn is not None:
            self.txn.limits = self._limits
        ms = timeout_ms("statement_timeout", self._show("statement_timeout"))
        self._intr.timeout_ns = ms * 1_000_000


_TIMEOUTS = ("statement_timeout", "idle_in_transaction_session_timeout")
PARSED_MAX = 512  # parsed statements kept (process-wide; dict operations are atomic)
_PARSED: dict[str, exp.Expression] = {}
_SEEN: dict[str, None] = {}  # texts parsed once
_ADAPT = {_dt.datetime, _dt.timedelta, bytearray, memoryview}


def _typed_arrays(params: Sequence[object], oids: Sequence[int]) -> list[object]:
    """Plain lists whose declared type is an array type -> array_params.typed lists."""
    out = list(params)
    for i, v in enumerate(out):
        if type(v) is list and i < len(oids) and oids[i]:
            t = r.type_by_oid(oids[i])
            if t.category == "A" and oids[i] != r.JSONB.oid:
                out[i] = array_params.typed(v, t)
    assert len(out) == len(params)
    return out


def _verb(plan: Plan) -> str:
    return type(plan).__name__.replace("Plan", "").upper() or "statement"


def _warning(msg: str, state: str) -> DsqlError:
    w = DsqlError(msg, sqlstate=state)
    w.severity = "WARNING"  # type: ignore[attr-defined]
    return w


def _ddl_tag(ast: exp.Expression) -> str:
    if isinstance(ast, exp.Create):
        return f"CREATE {(ast.args.get('kind') or '').upper()}"
    if isinstance(ast, exp.Drop):
        return f"DROP {(ast.args.get('kind') or '').upper()}"
    return "ALTER TABLE"


def _count_params(ast: exp.Expression) -> int:
    n = 0
    for p in ast.find_all(exp.Parameter, exp.Placeholder):
        try:
            n = max(n, int(str(p.this.this if isinstance(p.this, exp.Expression) else p.this)))
        except (TypeError, ValueError):
            pass
    return n


def _parse_message(e: Exception, sql: str) -> str:
    errs = getattr(e, "errors", None)
    if errs:
        hl = errs[0].get("highlight")
        if hl:
            return f'syntax error at or near "{hl}"'
    return "syntax error at end of input" if "end" in str(e).lower() else \
        f"syntax error: {str(e).splitlines()[0][:200]}"


def _parse_position(e: Exception, sql: str) -> int | None:
    errs = getattr(e, "errors", None)
    if not errs:
        return None
    line, col = errs[0].get("line"), errs[0].get("col")
    if not line or col is None:
        return None
    lines = sql.split("\n")
    pos = sum(len(x) + 1 for x in lines[: line - 1]) + col
    hl = errs[0].get("highlight") or ""
    return max(1, pos - len(hl) + 1)

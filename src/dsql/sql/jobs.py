"""Background jobs: CREATE INDEX ASYNC, sys.jobs and CALL sys.wait_for_job (Aurora DSQL).

    CREATE UNIQUE INDEX ASYNC IF NOT EXISTS t_a ON t (a)   -- one row: job_id
    SELECT job_id, status, details FROM sys.jobs           -- submitted|processing|failed|completed
    CALL sys.wait_for_job('...')                           -- waits; true when completed

The statement is DDL (one per transaction): it adds the index to the catalog marked `building`
(maintained by every later write, never chosen by the planner: access.choose_access skips it),
creates the table sys.jobs on first use, and inserts the job row, all in its own transaction.
A runner thread per database then fills the index in batches of BATCH_ROWS table rows, one
transaction each (within the per-transaction limits): it reads a batch at a fresh snapshot,
writes the index entries and claims the batch's row keys, so that a concurrent change to one of
those rows makes either the batch or the other transaction abort (first committer wins) and no
stale entry survives; a batch that loses is retried. For a UNIQUE index every row is checked
against the entries already there (earlier batches and concurrent writers); a duplicate fails
the job: the index is dropped again and the job's details say which key is duplicated. When the
last batch commits, one DDL transaction clears `building` (the catalog version changes, so only
snapshots from then on use the index) and marks the job completed.

Restart: the job row is in storage like any row. After a restart a job found 'submitted' or
'processing' is resumed by the runner (started when a session opens) from the start of the
table; rewriting entries already present is harmless (same key, same empty value).

Thread-safety: the runner is one daemon thread per Database; it exits after IDLE_EXIT_S
without work and is started again on demand.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from itertools import islice
from typing import Any

import sqlglot
from sqlglot import exp

from dsql.adjudicator import CommitConflict, Kind
from dsql.catalog.layout import IndexCodec
from dsql.catalog.objects import Catalog, Index, Table
from dsql.errors import DsqlError, UndefinedObject
from dsql.sql import ddl
from dsql.sql.plan import ExecContext, OutColumn, Outcome, Plan
from dsql.sql.select import codec_for
from dsql.txn.transaction import Transaction

log = logging.getLogger("dsql.jobs")

BATCH_ROWS = 1000  # table rows per backfill transaction (limit: 3,000 rows, 10 MiB)
RETRIES_MAX = 200  # attempts per batch or state change before the job fails
IDLE_EXIT_S = 5.0
WAIT_MAX_S = 24 * 3600.0  # CALL sys.wait_for_job gives up after this (statement_timeout first)
PG_CLASS_OID = 1259

_ASYNC = re.compile(r"^(\s*create\s+(?:unique\s+)?index\s+)async\s+", re.I)
_WAIT = re.compile(r"^\s*call\s+sys\.wait_for_job\s*\((.*)\)\s*;?\s*$", re.I | re.S)
_QUOTED = re.compile(r"^\s*'((?:[^']|'')*)'\s*$", re.S)
_JOBS_DDL = ("CREATE TABLE sys.jobs (job_id text PRIMARY KEY, status text NOT NULL, "
             "details text, job_type text, class_id bigint, object_id bigint, "
             "object_name text, start_time timestamptz, update_time timestamptz)")
# positions in a sys.jobs row
_ID, _STATUS, _DETAILS, _TYPE, _CLASS, _OBJECT, _NAME, _START, _UPDATE = range(9)
_OPEN = ("submitted", "processing")


def async_index_sql(sql: str) -> str | None:
    """The statement without ASYNC when it is CREATE [UNIQUE] INDEX ASYNC, else None."""
    m = _ASYNC.match(sql)
    return None if m is None else m.group(1) + sql[m.end():]


def wait_call(sql: str) -> tuple[str | None, str] | None:
    """For CALL sys.wait_for_job(arg): (the job id when arg is a string literal, else None;
    arg's text, an expression the caller evaluates), else None."""
    m = _WAIT.match(sql)
    if m is None:
        return None
    q = _QUOTED.match(m.group(1))
    return (q.group(1).replace("''", "'") if q else None), m.group(1)


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def _jobs_table(cat: Catalog) -> Table | None:
    return cat.find_table("sys", "jobs") if "sys" in cat.schemas else None


def _ensure_jobs_table(cat: Catalog) -> Table:
    t = _jobs_table(cat)
    if t is not None:
        return t
    if "sys" not in cat.schemas:
        cat.schemas.append("sys")
    node = sqlglot.parse_one(_JOBS_DDL, dialect="postgres")
    ddl._create_table(node, cat, ["sys"], [])  # type: ignore[arg-type]
    t = _jobs_table(cat)
    assert t is not None
    return t


class AsyncIndexPlan(Plan):
    """CREATE [UNIQUE] INDEX ASYNC: the catalog change and the job row; returns job_id."""

    kind = "ddl"

    def __init__(self, node: exp.Create, search_path: list[str]) -> None:
        assert isinstance(node, exp.Create)
        self.node = node
        self.search_path = search_path
        self.columns = [OutColumn("job_id", 25)]

    def execute(self, ec: ExecContext) -> Outcome:
        txn = ec.txn
        cat = txn.catalog.copy()
        before = set(cat.indexes)
        notices: list[Any] = []
        if not ddl._create_index(self.node, cat, self.search_path, ec, notices,
                                 backfill=False):
            return Outcome([(None,)], "CREATE INDEX", notices)
        (iid,) = set(cat.indexes) - before
        index = cat.indexes[iid]
        assert index.building
        jobs = _ensure_jobs_table(cat)
        job_id = secrets.token_hex(13)
        now = _now()
        row = (job_id, "submitted", None, "INDEX_BUILD", PG_CLASS_OID, iid, index.name, now,
               now)
        codec = codec_for(jobs)
        txn.put(codec.encode_key(row), codec.encode_value(row), Kind.FULL)
        cat.version += 1
        txn.new_catalog = cat
        txn.catalog = cat
        runner(txn.db).poke()
        return Outcome([(job_id,)], "CREATE INDEX", notices)


# -- reading and changing job rows --------------------------------------------------------------

def read_jobs(db: Any) -> list[tuple[Any, ...]]:
    """Every sys.jobs row at the newest commit."""
    ts = db.last_commit_ts
    t = _jobs_table(db.catalogs.at(ts))
    if t is None:
        return []
    codec = codec_for(t)
    lo, hi = codec.key_bounds()
    return codec.decode_many(list(db.node.scan_all(lo, hi, ts)))


def _set_status(db: Any, job: tuple[Any, ...], status: str, details: str | None,
                change: Callable[[Catalog], None] | None = None) -> None:
    """Writes the job's new status (and, with `change`, a catalog change in the same DDL
    transaction), retrying conflicts."""
    for _ in range(RETRIES_MAX):
        txn = Transaction(db, db.node.begin(), db.limits)
        t = _jobs_table(txn.catalog)
        assert t is not None, "a job without sys.jobs"
        codec = codec_for(t)
        key = codec.encode_key(job)
        if change is not None:
            cat = txn.catalog.copy()
            change(cat)
            cat.version += 1
            txn.new_catalog = cat
            txn.catalog = cat
        row = list(job)
        row[_STATUS], row[_DETAILS], row[_UPDATE] = status, details, _now()
        txn.put(key, codec.encode_value(tuple(row)), Kind.FULL)
        try:
            txn.commit()
            return
        except CommitConflict:
            continue
        except DsqlError as e:
            if e.sqlstate != "40001":
                raise
    raise RuntimeError(f"job {job[_ID]}: could not record status {status!r}")


# -- the runner ---------------------------------------------------------------------------------

class JobRunner:
    def __init__(self, db: Any) -> None:
        self.db = db
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def poke(self) -> None:
        """Starts the runner thread if needed and wakes it."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="dsql-jobs",
                                                daemon=True)
                self._thread.start()
        self._wake.set()

    def _loop(self) -> None:
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < IDLE_EXIT_S:
            try:
                pending = [j for j in read_jobs(self.db) if j[_STATUS] in _OPEN]
            except Exception:  # the database closed under us
                return
            if not pending:
                self._wake.wait(0.1)
                self._wake.clear()
                continue
            pending.sort(key=lambda j: j[_START])
            try:
                self._run(pending[0])
            except Exception as e:
                if getattr(self.db.node, "_closed", False):
                    return
                log.exception("job %s failed", pending[0][_ID])
                try:
                    _set_status(self.db, pending[0], "failed", f"internal error: {e}",
                                _drop_index(pending[0][_OBJECT]))
                except Exception:
                    return
            idle_since = time.monotonic()

    def _run(self, job: tuple[Any, ...]) -> None:
        db = self.db
        if job[_STATUS] == "submitted":
            _set_status(db, job, "processing", None)
        failure = backfill(db, job[_OBJECT])
        if failure is None:
            def publish(cat: Catalog) -> None:
                index = cat.indexes.get(job[_OBJECT])
                if index is not None:
                    index.building = False
            _set_status(db, job, "completed", None, publish)
        else:
            _set_status(db, job, "failed", failure, _drop_index(job[_OBJECT]))


def _drop_index(index_id: int) -> Callable[[Catalog], None]:
    def change(cat: Catalog) -> None:
        idx = cat.indexes.get(index_id)
        if idx is not None and idx.building:
            del cat.indexes[index_id]
    return change


def backfill(db: Any, index_id: int) -> str | None:
    """Fills a building index batch by batch; None when done, else why it failed."""
    resume: bytes | None = None
    while True:
        for _ in range(RETRIES_MAX):
            txn = Transaction(db, db.node.begin(), db.limits)
            cat = txn.catalog
            index = cat.indexes.get(index_id)
            if index is None or not index.building:
                return "the index was dropped while it was being built"
            table = cat.tables.get(index.table_id)
            if table is None:
                return "the table was dropped while the index was being built"
            codec = codec_for(table)
            ic = IndexCodec(index, table, codec)
            lo, hi = codec.key_bounds()
            if resume is not None:
                lo = max(lo, resume)
            pairs = list(islice(txn.scan(lo, hi), BATCH_ROWS))
            rows = codec.decode_many(pairs) if pairs else []
            dup = _fill(txn, index, table, ic, pairs, rows)
            if dup is not None:
                return dup
            try:
                txn.commit()
                break
            except CommitConflict:
                continue
        else:
            return f"gave up after {RETRIES_MAX} conflicting attempts on one batch"
        if len(pairs) < BATCH_ROWS:
            return None
        resume = pairs[-1][0] + b"\x00"


def _fill(txn: Transaction, index: Index, table: Table, ic: IndexCodec,
          pairs: list[tuple[bytes, bytes]], rows: list[tuple[Any, ...]]) -> str | None:
    seen: dict[bytes, bytes] = {}
    for (key, _), row in zip(pairs, rows, strict=True):
        if index.unique:
            g = ic.guard(row)
            if g is not None:
                other = seen.get(g)
                if other is None:
                    glo, ghi = ic.guard_layout.prefix_bounds(ic.indexed(row))
                    other = next((ic.pk_of_entry(k) for k, _ in txn.scan(glo, ghi)
                                  if ic.pk_of_entry(k) != key), None)
                if other is not None and other != key:
                    names = ", ".join(table.columns[p].name for p in ic.positions)
                    vals = ", ".join(table.columns[p].type.output(row[p])
                                     for p in ic.positions)
                    return (f'could not create unique index "{index.name}": '
                            f"Key ({names})=({vals}) is duplicated.")
                seen[g] = key
        txn.put(ic.entry(row, key), b"", None, row=False)
        txn.claim(key, Kind.FULL)
    return None


_runners_lock = threading.Lock()


def runner(db: Any) -> JobRunner:
    with _runners_lock:
        r = getattr(db, "_dsql_job_runner", None)
        if r is None:
            r = JobRunner(db)
            db._dsql_job_runner = r
        return r


def resume_jobs(db: Any) -> None:
    """Starts the runner when the catalog has sys.jobs (it resumes unfinished jobs)."""
    if _jobs_table(db.catalogs.latest) is not None:
        r = runner(db)
        if r._thread is None:
            r.poke()


def wait_for_job(db: Any, job_id: str, check: Callable[[], None]) -> bool:
    """Waits until the job finishes: True when completed, False when failed."""
    deadline = time.monotonic() + WAIT_MAX_S
    while time.monotonic() < deadline:
        job = next((j for j in read_jobs(db) if j[_ID] == job_id), None)
        if job is None:
            raise UndefinedObject(f'job "{job_id}" does not exist')
        if job[_STATUS] == "completed":
            return True
        if job[_STATUS] == "failed":
            return False
        runner(db).poke()
        check()
        time.sleep(0.01)
    raise DsqlError(f'gave up waiting for job "{job_id}"', sqlstate="57014")

"""Wire-protocol overhead of `dsql serve` against PostgreSQL 15, same client, same run.

What the server layer alone costs per round trip: dsql's protocol server runs over a null
backend (fixed answers, no SQL engine work), PostgreSQL runs the real (trivial) statements.
The client is libpq through psycopg's low-level API (so client cost is small and equal on
both sides), one connection, loopback TCP, each server in its own process, alternating best-of-three
segments:

- simple_select1       Query 'SELECT 1' -> RowDescription, DataRow, CommandComplete, Ready
- prepared_exec        Bind/Execute/Sync of a named statement with one int4 parameter
- unnamed_extended     Parse/Bind/Describe/Execute/Sync per call (psycopg's default path)
- rows_10k             one simple query returning 10,000 int4 rows (per-row cost)
- connect              startup + trust authentication + Terminate

Ratios are dsql / PostgreSQL (lower is better). The issue's target is pgbench TPS >= 0.5x
PostgreSQL's, i.e. at most 2x its time per transaction, engine included; these figures show how
much of that budget the protocol layer itself uses.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dsql.bench import _postgres
from dsql.bench.harness import Result

from dsql.server.child import ServeProcess

DESCRIPTION = "wire-protocol round trips of dsql serve (null backend) vs PostgreSQL 15"

INT4 = 23


@dataclass
class _Col:
    name: str
    type_oid: int = INT4
    typmod: int = -1
    table_oid: int = 0
    column_no: int = 0


@dataclass
class _Result:
    columns: list[_Col] | None
    rows: list[tuple[Any, ...]]
    command_tag: str
    notices: list[Any] = field(default_factory=list)
    parameter_changes: dict[str, str] = field(default_factory=dict)


@dataclass
class _Prepared:
    sql: str
    param_type_oids: list[int]
    columns: list[_Col] | None


_COLUMNS = [_Col("?column?")]  # one list, as an engine's cached plan would return
_ONE = _Result(_COLUMNS, [(1,)], "SELECT 1")
_ROWS = _Result([_Col("generate_series")], [(i,) for i in range(1, 10_001)], "SELECT 10000")


class _NullSession:
    """Answers the benchmark's statements with fixed results (no engine work)."""

    transaction_status = "I"

    def parameter_status(self) -> dict[str, str]:
        return {}

    def execute_script(self, sql: str) -> list[_Result]:
        return [_ROWS if "generate_series" in sql else _ONE]

    def prepare(self, sql: str, param_type_oids: Sequence[int] = ()) -> _Prepared:
        return _Prepared(sql, [INT4] if "$1" in sql else [], _COLUMNS)

    def execute_prepared(self, p: _Prepared, params: Sequence[object]) -> _Result:
        if params:
            return _Result(_COLUMNS, [(int(params[0]) + 1,)], "SELECT 1")  # type: ignore[call-overload]
        return _ONE

    def cancel(self) -> None:
        pass

    def close(self) -> None:
        pass


class _NullBackend:
    def open_session(self, startup: Any, client: Any) -> _NullSession:
        return _NullSession()

    def close(self) -> None:
        pass


def null_backend(data_dir: Any) -> _NullBackend:
    """`dsql serve --backend dsql.bench.pgwire:null_backend` (the benchmark's server)."""
    return _NullBackend()


def _start_server() -> ServeProcess:
    """`dsql serve` over the null backend in its own process (as it runs for real)."""
    return ServeProcess(tempfile.gettempdir(), user="postgres", extra_args=(
        "--backend", "dsql.bench.pgwire:null_backend")).start()


def _workloads(dsn: str) -> dict[str, tuple[Callable[[], object], int]]:
    import psycopg

    conn = psycopg.connect(dsn, autocommit=True)
    pg = conn.pgconn
    pg.prepare(b"bench_s", b"SELECT $1::int4 + 1", [INT4])

    def simple() -> object:
        return pg.exec_(b"SELECT 1")

    def prepared() -> object:
        return pg.exec_prepared(b"bench_s", [b"41"])

    def unnamed() -> object:
        return pg.exec_params(b"SELECT $1::int4 + 1", [b"41"], [INT4])

    def rows() -> object:
        return pg.exec_(b"SELECT generate_series(1, 10000)")

    def connect() -> object:
        psycopg.connect(dsn, autocommit=True).close()
        return None

    return {"simple_select1": (simple, 1), "prepared_exec": (prepared, 1),
            "unnamed_extended": (unnamed, 1), "rows_10k": (rows, 10_000),
            "connect": (connect, 1)}


def _time_us(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def run(quick: bool) -> list[Result]:
    calls = {"simple_select1": 2000, "prepared_exec": 2000, "unnamed_extended": 2000,
             "rows_10k": 20, "connect": 100}
    if not quick:
        calls = {k: v * 5 for k, v in calls.items()}
    server = _start_server()
    port = server.port
    cluster = _postgres.Cluster() if _postgres.bin_dir() is not None else None
    try:
        targets = {"dsql": f"host=127.0.0.1 port={port} user=postgres dbname=postgres "
                           "sslmode=disable"}
        if cluster is not None:
            cluster.__enter__()
            targets["postgres"] = cluster.dsn
        loads = {name: _workloads(dsn) for name, dsn in targets.items()}
        best: dict[tuple[str, str], float] = {}
        for _ in range(3):  # alternate the two servers, keep each one's best segment
            for workload in calls:
                for target in targets:
                    fn, rows = loads[target][workload]
                    us = _time_us(fn, calls[workload])
                    key = (target, workload)
                    best[key] = min(best.get(key, float("inf")), us)
    finally:
        server.stop()
        if cluster is not None:
            cluster.__exit__()
    out = []
    for workload in calls:
        rows = 10_000 if workload == "rows_10k" else 1
        value = best[("dsql", workload)]
        base = best.get(("postgres", workload))
        unit = "us/call"
        extra = {"ns_per_row": round(value * 1000 / rows, 1)} if rows > 1 else {}
        out.append(Result(f"pgwire.{workload}", value, unit, baseline=base,
                          baseline_name="PostgreSQL 15" if base is not None else None,
                          extra=extra))
    return out

"""pgbench select-only and TPC-B-like with 1, 4, 16 and 64 clients: dsql serve vs PostgreSQL.

The pgbench driving itself lives in bench/pgbench.py (another module); this sweep calls its

    run_pgbench(dsn: str, *, mode: str, clients: int, seconds: float, scale: int,
                initialize: bool) -> dict

where mode is "select-only" or "tpcb-like", `initialize=True` asks it to (re)create the
pgbench tables at `scale` first, and the dict has at least "tps" (float) and optionally
"latency_avg_ms", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "failed" and
"retried" (transactions pgbench retried on 40001). When bench/pgbench.py or its run_pgbench is
missing, the sweep is skipped with a note (and returns no results).

Both servers start here (bench/servers.py: durable, REPEATABLE READ) and the sweep alternates
them at every point, reversing the order every other point.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

from dsql.bench import machine, progress
from dsql.bench.harness import Result
from dsql.bench.servers import pair

DESCRIPTION = "pgbench select-only / tpcb-like at 1, 4, 16, 64 clients (via bench.pgbench)"

CLIENTS = (1, 4, 16, 64)
MODES = ("select-only", "tpcb-like")
NOTES: list[str] = []


def find_runner() -> Callable[..., dict[str, Any]] | None:
    try:
        module = importlib.import_module("dsql.bench.pgbench")
    except ImportError:
        return None
    fn = getattr(module, "run_pgbench", None)
    return fn if callable(fn) else None


def _latency(info: dict[str, Any]) -> dict[str, float] | None:
    keys = {"latency_avg_ms": "mean_us", "latency_p50_ms": "p50_us",
            "latency_p95_ms": "p95_us", "latency_p99_ms": "p99_us"}
    out = {us: round(float(info[ms]) * 1000, 2) for ms, us in keys.items()
           if info.get(ms) is not None}
    return out or None


def run_sweep(seconds: float, scale: int, clients: tuple[int, ...] = CLIENTS,
              modes: tuple[str, ...] = MODES) -> list[Result]:
    NOTES.clear()
    runner = find_runner()
    if runner is None:
        note = ("skipped: dsql.bench.pgbench.run_pgbench(dsn, *, mode, clients, seconds, "
                "scale, initialize) -> dict is not available")
        NOTES.append(note)
        print(f"dsql bench pgbench_sweep: {note}", file=sys.stderr)
        return []
    out: list[Result] = []
    with pair(NOTES) as (srv, pg):
        targets = [("dsql serve", srv.dsn, srv.pid, False)]
        if pg is not None:
            targets.append(("PostgreSQL 15", pg.dsn, pg.pid, True))
        initialized: set[str] = set()
        point = 0
        for mode in modes:
            for c in clients:
                got: dict[str, dict[str, Any]] = {}
                order = targets if point % 2 == 0 else list(reversed(targets))
                point += 1
                for name, dsn, pid, tree in order:
                    progress.note(f"pgbench {mode} clients={c} {name}")
                    if tree:
                        machine.reset_tree_peak_rss(pid)
                    else:
                        machine.reset_peak_rss(pid)
                    info = dict(runner(dsn, mode=mode, clients=c, seconds=seconds,
                                       scale=scale, initialize=name not in initialized))
                    initialized.add(name)
                    rss = machine.tree_peak_rss_kb(pid) if tree else None
                    info["peak_rss_kb"] = rss["sum_kb"] if rss else machine.peak_rss_kb(pid)
                    got[name] = info
                mine = got["dsql serve"]
                base = got.get("PostgreSQL 15")
                out.append(Result(
                    f"pgbench.{mode}.c{c}", float(mine["tps"]), "tps", better="higher",
                    baseline=None if base is None else float(base["tps"]),
                    baseline_name=None if base is None else "PostgreSQL 15",
                    latency=_latency(mine),
                    baseline_latency=None if base is None else _latency(base),
                    peak_rss_kb=mine.get("peak_rss_kb"),
                    baseline_peak_rss_kb=None if base is None else base.get("peak_rss_kb"),
                    group=f"pgbench.{mode}",
                    extra={"clients": c, "mode": mode, "scale": scale,
                           "dsql": {k: v for k, v in mine.items() if k != "tps"},
                           "baseline": {} if base is None else
                           {k: v for k, v in base.items() if k != "tps"}}))
    return out


QUICK_SECONDS = 2.0
FULL_SECONDS = 30.0


def run(quick: bool) -> list[Result]:
    return run_sweep(seconds=QUICK_SECONDS if quick else FULL_SECONDS, scale=1)

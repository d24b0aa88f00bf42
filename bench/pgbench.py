"""Real pgbench against `dsql serve` and against PostgreSQL 15, alternating in the same run.

Both servers are durable (dsql: fdatasync group commit; PostgreSQL: fsync on,
synchronous_commit on) and run at snapshot isolation (PostgreSQL at REPEATABLE READ through
PGOPTIONS, which is also what makes it abort with 40001 like dsql). Each gets its own
temporary data directory; dsql serve runs as a subprocess with its transaction limits raised
so that `pgbench -i` loads in one transaction.

Steps: `pgbench -i -s SCALE` on each (timed: the load figure), then for each workload, dsql
and PostgreSQL alternately (ROUNDS times, the best TPS of each kept):

- select_only_simple     -S -M simple
- select_only_prepared   -S -M prepared
- tpcb_prepared          TPC-B-like, -M prepared --max-tries=100 (retries 40001)

always with 4 clients (-c 4 -j 2) and -n (no vacuum, no history truncation between runs, so
the balance sums must agree across all runs). Afterwards sum(abalance) = sum(bbalance) =
sum(tbalance) = sum(delta) is checked on both. Ratios are dsql / PostgreSQL TPS (higher is
better); the issue's target is >= 0.5 for each workload.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from dsql.bench import _postgres
from dsql.bench.harness import Result

from dsql.server.child import ServeProcess

DESCRIPTION = "real pgbench (select-only simple/prepared, TPC-B) vs PostgreSQL 15, 4 clients"

PGBENCH = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
PSQL = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
CLIENTS = 4
TARGET_RATIO = 0.5
WORKLOADS = {
    "select_only_simple": ["-S", "-M", "simple"],
    "select_only_prepared": ["-S", "-M", "prepared"],
    "tpcb_prepared": ["-M", "prepared", "--max-tries=100"],
}


@dataclass
class Target:
    """One server under test: how pgbench and psql reach it."""

    name: str
    port: int
    user: str
    env: dict[str, str]

    def args(self) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", self.user]


def _run(cmd: list[str], env: dict[str, str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s,
                          check=False)


def load(t: Target, scale: int) -> float:
    """`pgbench -i -s scale`; returns seconds. Raises RuntimeError when it fails."""
    start = time.perf_counter()
    out = _run([PGBENCH, "-i", "-q", "-s", str(scale), *t.args(), "postgres"], t.env, 3600)
    secs = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"pgbench -i on {t.name} failed:\n{out.stderr[-2000:]}")
    return secs


_TPS = re.compile(r"tps = ([\d.]+) \(without initial connection time\)")
_FAILED = re.compile(r"number of failed transactions: (\d+)")
_RETRIED = re.compile(r"number of transactions retried: (\d+)")


@dataclass
class Run:
    tps: float
    failed: int
    retried: int


def parse_output(text: str) -> Run:
    """pgbench's summary -> TPS, failed and retried transaction counts."""
    m = _TPS.search(text)
    if m is None:
        raise RuntimeError(f"no tps in pgbench output:\n{text[-2000:]}")
    f = _FAILED.search(text)
    r = _RETRIED.search(text)
    return Run(float(m.group(1)), int(f.group(1)) if f else 0, int(r.group(1)) if r else 0)


def bench(t: Target, flags: list[str], seconds: int) -> Run:
    cmd = [PGBENCH, "-n", "-c", str(CLIENTS), "-j", "2", "-T", str(seconds), *flags,
           *t.args(), "postgres"]
    out = _run(cmd, t.env, seconds * 4 + 120)
    if out.returncode not in (0, 2):  # 2: some transactions failed (reported as failures)
        raise RuntimeError(f"pgbench on {t.name} failed ({out.returncode}):\n"
                           f"{out.stderr[-2000:]}\n{out.stdout[-2000:]}")
    return parse_output(out.stdout)


def balance_sums(t: Target) -> list[int]:
    """[sum(abalance), sum(bbalance), sum(tbalance), sum(delta)]."""
    sums = []
    for table, col in (("pgbench_accounts", "abalance"), ("pgbench_branches", "bbalance"),
                       ("pgbench_tellers", "tbalance"), ("pgbench_history", "delta")):
        out = _run([PSQL, *t.args(), "-d", "postgres", "-At", "-c",
                    f"SELECT coalesce(sum({col}), 0) FROM {table}"], t.env, 600)
        if out.returncode != 0:
            raise RuntimeError(f"psql on {t.name}: {out.stderr}")
        sums.append(int(out.stdout.strip()))
    return sums


_LATENCY = re.compile(r"latency average = ([\d.]+) ms")
# A load at any scale is one transaction; dsql's per-session limits are raised for it through
# PGOPTIONS (PostgreSQL accepts the same options as placeholder settings and ignores them).
_RAISED_LIMITS = ("-c dsql.max_transaction_rows=100000000 "
                  "-c dsql.max_transaction_bytes=100000000000 -c dsql.max_transaction_age_s=3600")


def run_pgbench(dsn: str, *, mode: str, clients: int, seconds: float, scale: int,
                initialize: bool) -> dict[str, float]:
    """One pgbench run against the server at `dsn` (a libpq connection string), for the
    harness's client sweep (bench/pgbench_sweep.py). mode: "select-only" (-S) or "tpcb-like"
    (the default script, --max-tries=100); prepared protocol. `initialize`: `pgbench -i -s
    scale` first. Returns tps, latency_avg_ms, failed and retried."""
    assert mode in ("select-only", "tpcb-like"), mode
    assert clients >= 1 and seconds > 0 and scale >= 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGOPTIONS"] = _RAISED_LIMITS
    if initialize:
        out = _run([PGBENCH, "-i", "-q", "-s", str(scale), dsn], env, 3600)
        if out.returncode != 0:
            raise RuntimeError(f"pgbench -i failed:\n{out.stderr[-2000:]}")
    flags = ["-S"] if mode == "select-only" else ["--max-tries=100"]
    secs = max(1, round(seconds))
    cmd = [PGBENCH, "-n", "-c", str(clients), "-j", str(min(clients, 4)), "-T", str(secs),
           "-M", "prepared", *flags, dsn]
    out = _run(cmd, env, secs * 4 + 120)
    if out.returncode not in (0, 2):  # 2: some transactions failed (reported as failures)
        raise RuntimeError(f"pgbench failed ({out.returncode}):\n{out.stderr[-2000:]}\n"
                           f"{out.stdout[-2000:]}")
    r = parse_output(out.stdout)
    info: dict[str, float] = {"tps": r.tps, "failed": r.failed, "retried": r.retried}
    m = _LATENCY.search(out.stdout)
    if m is not None:
        info["latency_avg_ms"] = float(m.group(1))
    return info


class DsqlServe:
    """`dsql serve` (dsql.server.child.ServeProcess) on a temporary data directory, trust
    auth, with its per-transaction limits raised so that `pgbench -i` loads in one
    transaction."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="dsql-bench-pgbench-"))
        self.child = ServeProcess(self.base / "data", user="postgres", extra_args=(
            "--max-transaction-rows", "100000000", "--max-transaction-bytes", "8G",
            "--max-transaction-age", "3600"))

    @property
    def port(self) -> int:
        return self.child.port

    def __enter__(self) -> DsqlServe:
        try:
            self.child.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.child.stop()
        shutil.rmtree(self.base, ignore_errors=True)


def run(quick: bool) -> list[Result]:
    scale = 1 if quick else 10
    seconds = 4 if quick else 20
    rounds = 1 if quick else 2
    results: list[Result] = []
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    have_pg = _postgres.bin_dir() is not None
    cluster = _postgres.Cluster({"fsync": "on", "synchronous_commit": "on"}) if have_pg \
        else None
    with DsqlServe() as srv:
        dsql_t = Target("dsql", srv.port, "postgres", dict(base_env))
        targets = [dsql_t]
        if cluster is not None:
            cluster.__enter__()
            pg_env = {**base_env,
                      "PGOPTIONS": "-c default_transaction_isolation=repeatable\\ read"}
            targets.append(Target("postgresql", cluster.port, "postgres", pg_env))
        try:
            loads = {t.name: load(t, scale) for t in targets}
            results.append(_result(f"load_scale_{scale}", loads, "s", "lower", None))
            for name, flags in WORKLOADS.items():
                best: dict[str, Run] = {}
                for _ in range(rounds):
                    for t in targets:
                        r = bench(t, flags, seconds)
                        if t.name not in best or r.tps > best[t.name].tps:
                            best[t.name] = r
                tps = {k: v.tps for k, v in best.items()}
                extra = {f"{k}_failed": v.failed for k, v in best.items()}
                extra.update({f"{k}_retried": v.retried for k, v in best.items()})
                results.append(_result(name, tps, "tps", "higher",
                                       f">= {TARGET_RATIO}x PostgreSQL", extra))
            for t in targets:
                sums = balance_sums(t)
                results.append(Result(f"balance_sums_agree_{t.name}",
                                      1.0 if len(set(sums)) == 1 else 0.0, "bool", "higher",
                                      target="1 (all four sums equal)",
                                      meets_target=len(set(sums)) == 1,
                                      extra={"sums": sums}))
        finally:
            if cluster is not None:
                cluster.__exit__()
    for r in results:
        r.extra.update({"scale": scale, "seconds": seconds, "clients": CLIENTS})
    return results


def _result(name: str, values: dict[str, float], unit: str, better: str, target: str | None,
            extra: dict[str, int] | None = None) -> Result:
    base = values.get("postgresql")
    res = Result(name, values["dsql"], unit, better, baseline=base,
                 baseline_name="PostgreSQL 15" if base is not None else None, target=target,
                 extra=dict(extra or {}))
    if target is not None and res.ratio is not None:
        res.meets_target = res.ratio >= TARGET_RATIO
    return res

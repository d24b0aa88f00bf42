"""The checks `dsql verify` runs, each returning one row of its summary table.

| check                | what runs                                                          |
|----------------------|--------------------------------------------------------------------|
| elle-embedded        | list-append histories from dsql.connect sessions, Elle-style check |
| elle-server          | the same through `dsql serve` and psycopg                          |
| invariants-embedded  | ring, bank, counter workloads on dsql.connect sessions             |
| invariants-server    | the same through `dsql serve`                                      |
| crash-loop           | `dsql serve` SIGKILLed under load and restarted (crashloop.py)     |
| promela              | the commit-protocol model checked with spin (promela/)             |
| simulation           | `dsql.verify.sim.run_quick(seed)` when that module exists          |

Elle runs pass when every history is snapshot-isolated with the real-time guarantee (no class
but G2-item) and, over the runs of one check, write skew (G2-item) was seen at least once: a
checker that never sees the allowed anomaly is not looking hard enough.

Thread-safety: each check runs alone; they share nothing but the seed.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PASS = "pass"
FAIL = "FAIL"
SKIP = "skip"


@dataclass
class Row:
    """One line of the summary table."""

    check: str
    runs: int = 0
    checked: int = 0  # histories' transactions, operations, acknowledged commits or states
    unit: str = ""
    anomalies: int = 0
    result: str = PASS
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Sizes:
    """How big each check runs; `quick()` is what `dsql verify --quick` uses."""

    elle_runs: int = 10
    elle_clients: int = 16
    elle_txns: int = 1000
    inv_ops: int = 2000
    inv_clients: int = 8
    kills: int = 50

    @staticmethod
    def quick(kills: int | None = None) -> Sizes:
        return Sizes(elle_runs=3, elle_clients=8, elle_txns=400, inv_ops=400, inv_clients=6,
                     kills=5 if kills is None else kills)


Log = Callable[[str], None]


def _elle_row(name: str, runs: list[Any]) -> Row:
    """Folds Elle CheckResults into a row (see the module docstring for the verdict)."""
    from dsql.verify.anomalies import SI_FORBIDDEN

    row = Row(name, runs=len(runs), unit="txns")
    skew_runs = 0
    for res in runs:
        row.checked += res.txns
        row.anomalies += sum(1 for a in res.anomalies if a.type != "G2-item")
        skew_runs += "G2-item" in res.types
        if not res.valid or not res.strong_valid or res.types & SI_FORBIDDEN:
            row.result = FAIL
            row.details.setdefault("reports", []).append(res.report()[:4000])
    row.details["g2_item_runs"] = skew_runs
    row.details["committed"] = sum(r.committed for r in runs)
    row.note = f"G2-item (allowed) in {skew_runs}/{len(runs)} runs"
    if runs and skew_runs == 0:
        row.result = FAIL
        row.note += ": write skew never observed"
    return row


def _elle(name: str, connect_for: Callable[[int], Callable[[], Any]], sizes: Sizes,
          seed: int, log: Log) -> Row:
    from dsql.verify.elle import check
    from dsql.verify.workload import run_list_append

    results = []
    errors: list[str] = []
    for i in range(sizes.elle_runs):
        run = run_list_append(connect_for(i), clients=sizes.elle_clients, txns=sizes.elle_txns,
                              keys=4, seed=seed + i, skew_fraction=0.3, table="elle_lists")
        errors += run.errors
        res = check(run.history)
        log(f"{name} run {i + 1}/{sizes.elle_runs}: {res.txns} txns ({res.committed} ok), "
            f"anomalies: {sorted(res.types) or 'none'}")
        results.append(res)
    row = _elle_row(name, results)
    if errors:
        row.details["errors"] = errors[:10]
    return row


def elle_embedded(sizes: Sizes, seed: int, log: Log) -> Row:
    import dsql

    with tempfile.TemporaryDirectory(prefix="dsql-verify-") as tmp:
        return _elle("elle-embedded",
                     lambda i: (lambda: dsql.connect(Path(tmp) / f"db{i}")), sizes, seed, log)


def elle_server(sizes: Sizes, seed: int, log: Log) -> Row:
    from dsql.server.child import ServeProcess
    from dsql.verify.serveproc import psycopg_connector

    with tempfile.TemporaryDirectory(prefix="dsql-verify-") as tmp, \
            ServeProcess(Path(tmp) / "db") as srv:
        connect = psycopg_connector(srv)
        return _elle("elle-server", lambda i: connect, sizes, seed, log)


def _invariants(name: str, connect: Callable[[], Any], sizes: Sizes, seed: int,
                log: Log) -> Row:
    from dsql.verify.invariants import Bank, Counter, Ring, run_invariant

    row = Row(name, unit="ops")
    for workload in (Ring(24), Bank(accounts=8), Counter()):
        run = run_invariant(workload, connect, clients=sizes.inv_clients, ops=sizes.inv_ops,
                            seed=seed)
        s = run.summary
        row.runs += 1
        row.checked += int(s["ok"]) + int(s["snapshots_checked"])  # type: ignore[call-overload]
        row.anomalies += len(run.problems)
        row.details[workload.name] = s
        if run.problems:
            row.result = FAIL
        log(f"{name} {workload.name}: {s['ok']} ok, {s['conflicts']} conflicts retried, "
            f"{s['snapshots_checked']} snapshots checked, "
            f"{'ok' if run.ok else 'PROBLEMS: ' + '; '.join(run.problems[:3])}")
    row.note = "ring, bank, counter"
    return row


def invariants_embedded(sizes: Sizes, seed: int, log: Log) -> Row:
    import dsql

    with tempfile.TemporaryDirectory(prefix="dsql-verify-") as tmp:
        path = Path(tmp) / "db"
        return _invariants("invariants-embedded", lambda: dsql.connect(path), sizes, seed, log)


def invariants_server(sizes: Sizes, seed: int, log: Log) -> Row:
    from dsql.server.child import ServeProcess
    from dsql.verify.serveproc import psycopg_connector

    with tempfile.TemporaryDirectory(prefix="dsql-verify-") as tmp, \
            ServeProcess(Path(tmp) / "db") as srv:
        return _invariants("invariants-server", psycopg_connector(srv), sizes, seed, log)


def crash_loop(sizes: Sizes, seed: int, log: Log) -> Row:
    from dsql.verify.crashloop import run_crash_loop

    with tempfile.TemporaryDirectory(prefix="dsql-verify-") as tmp:
        res = run_crash_loop(Path(tmp) / "db", kills=sizes.kills, seed=seed, log=log)
    row = Row("crash-loop", runs=res.kills, checked=res.acked_commits, unit="acked commits",
              anomalies=len(res.problems), result=PASS if res.ok else FAIL,
              note=f"{res.kills} SIGKILLs under load + {res.startup_kills} during startup "
                   "survived", details=res.to_json())
    return row


def promela(sizes: Sizes, seed: int, log: Log) -> Row:
    from dsql.verify.promela.checks import checks, run_check
    from dsql.verify.promela.spin import tools_missing

    missing = tools_missing()
    if missing:
        return Row("promela", result=SKIP, note=f"skipped: {', '.join(missing)} not installed "
                   "(Debian package spin)")
    row = Row("promela", unit="states")
    for c in checks(full=False):
        verdict = run_check(c)
        row.runs += 1
        row.checked += verdict.result.states_stored
        if not verdict.met:
            row.result = FAIL
            row.anomalies += 1
            row.details.setdefault("failed", []).append(verdict.describe())
        log(f"promela {c.name}: {'as expected' if verdict.met else 'NOT AS EXPECTED'} "
            f"({verdict.result.states_stored} states)")
    bugs = sum(1 for c in checks(full=False) if c.breaks)
    row.note = f"{row.runs - bugs} protocol checks, {bugs} injected bugs caught"
    return row


def simulation(sizes: Sizes, seed: int, log: Log) -> Row:
    """The deterministic simulation (dsql.verify.sim.run_quick): seeded runs of the real commit
    path under crashes, torn records, message faults and clock steps."""
    from dsql.verify import sim

    # The simulated crashes make journal recovery log every torn tail it cuts: expected here.
    quiet = [logging.getLogger(n) for n in ("dsql.node", "dsql.journal")]
    levels = [q.level for q in quiet]
    for q in quiet:
        q.setLevel(logging.ERROR)
    try:
        out = sim.run_quick(seed)
    finally:
        for q, level in zip(quiet, levels, strict=True):
            q.setLevel(level)
    anomalies = list(out["anomalies"])
    faults = sum(int(v) for v in out["faults_injected"].values())
    note = f"{faults} faults injected, {out['node_restarts']} restarts"
    if anomalies:
        note = f"{anomalies[0]} (replay: python -m dsql.verify.sim --seed {seed})"
    return Row("simulation", runs=int(out["seeds_run"]), checked=int(out["transactions"]),
               unit="transactions", anomalies=len(anomalies),
               result=PASS if out["ok"] and not anomalies else FAIL, note=note[:80],
               details=out)


CHECKS: dict[str, Callable[[Sizes, int, Log], Row]] = {
    "elle-embedded": elle_embedded,
    "elle-server": elle_server,
    "invariants-embedded": invariants_embedded,
    "invariants-server": invariants_server,
    "crash-loop": crash_loop,
    "promela": promela,
    "simulation": simulation,
}


NEEDS_PSYCOPG = frozenset(("elle-server", "invariants-server", "crash-loop"))


def run_checks(names: list[str], sizes: Sizes, seed: int, log: Log) -> list[Row]:
    """Runs the named checks in order; a check that raises is a FAIL row with the error.
    Checks through `dsql serve` are skipped, with a note, when psycopg is not installed (it
    comes with the `test` extra)."""
    rows = []
    has_psycopg = importlib.util.find_spec("psycopg") is not None
    for name in names:
        t0 = time.monotonic()
        if name in NEEDS_PSYCOPG and not has_psycopg:
            rows.append(Row(name, result=SKIP, note="skipped: psycopg not installed "
                            "(pip install 'psycopg[binary]')"))
            continue
        try:
            row = CHECKS[name](sizes, seed, log)
        except Exception as exc:
            row = Row(name, result=FAIL, note=f"raised {type(exc).__name__}: {exc}"[:200])
        row.seconds = round(time.monotonic() - t0, 1)
        rows.append(row)
    return rows


def format_table(rows: list[Row]) -> str:
    head = f"{'check':22} {'runs':>5} {'checked':>10} {'unit':14} {'anomalies':>9} " \
           f"{'result':6} {'s':>6}  note"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.check:22} {r.runs:>5} {r.checked:>10} {r.unit:14} {r.anomalies:>9} "
                     f"{r.result:6} {r.seconds:>6.1f}  {r.note}")
    return "\n".join(lines)

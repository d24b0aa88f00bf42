"""Runs benchmark modules and writes their results.

Every result names what was measured, its value and unit, and, where a baseline was measured
in the same run, the baseline's value and the ratio value / baseline, with which direction is
better. Machines here are noisy, so only same-run ratios are meaningful; absolute numbers are
reported for context.

Workload results (bench/ycsb.py, contention.py, bulkload.py, ...) also carry latency
percentiles (`latency` / `baseline_latency`: count, mean_us, p50_us, p95_us, p99_us, max_us),
peak RSS (`peak_rss_kb` / `baseline_peak_rss_kb`) and a plot `group` for reports; all of these
are optional, so older results and readers keep working (JSON schema version 2; version 1 had
none of them and no "schema" key).

`run("all", ...)` runs every module in turn; a module that fails is recorded with its error and
the rest still run.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import dsql


@dataclass
class Result:
    name: str
    value: float
    unit: str
    better: str = "lower"  # "lower" or "higher"
    baseline: float | None = None
    baseline_name: str | None = None
    ratio: float | None = None
    target: str | None = None  # the target, stated in words, e.g. "<= 50 ns"
    meets_target: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # schema 2 (all optional): latency summaries, peak RSS, and the report's plot group
    latency: dict[str, float] | None = None
    baseline_latency: dict[str, float] | None = None
    peak_rss_kb: int | None = None
    baseline_peak_rss_kb: int | None = None
    group: str | None = None

    def __post_init__(self) -> None:
        if self.better not in ("lower", "higher"):
            raise ValueError(f"better must be lower or higher, not {self.better!r}")
        if self.baseline is not None and self.ratio is None and self.baseline > 0:
            self.ratio = self.value / self.baseline

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        return {k: v for k, v in out.items() if v is not None and v != {}}


def best_ns_per_call(fn: Callable[[], object], calls: int, repeats: int) -> float:
    """The best (lowest) mean ns per call over `repeats` timed loops of `calls` calls.

    The loop's own overhead is included; compare against a baseline timed the same way.
    """
    if calls <= 0 or repeats <= 0:
        raise ValueError("calls and repeats must be > 0")
    best = float("inf")
    loop = range(calls)
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in loop:
            fn()
        best = min(best, (time.perf_counter_ns() - start) / calls)
    return best


def machine() -> dict[str, Any]:
    """The machine and software description (bench/machine.py) stored in every report."""
    from dsql.bench import machine as description

    return description.describe()


SCHEMA = 2
NOT_BENCHMARKS = {"harness", "histogram", "keys", "machine", "progress", "report", "driver",
                  "servers", "kernels"}


def available() -> dict[str, str]:
    """Benchmark name -> description, for every module in this package with a run()."""
    import dsql.bench as pkg

    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_") or info.name in NOT_BENCHMARKS or info.ispkg:
            continue
        module = importlib.import_module(f"dsql.bench.{info.name}")
        if callable(getattr(module, "run", None)):
            found[info.name] = str(getattr(module, "DESCRIPTION", ""))
    return dict(sorted(found.items()))


def _run_module(name: str, quick: bool) -> tuple[list[Result], dict[str, Any]]:
    module = importlib.import_module(f"dsql.bench.{name}")
    started = time.time()
    results: list[Result] = module.run(quick)
    for r in results:
        if not isinstance(r, Result):
            raise TypeError(f"bench {name} returned {type(r).__name__}, not Result")
    info = {"name": name, "seconds": round(time.time() - started, 3),
            "results": len(results)}
    notes = getattr(module, "NOTES", None)  # set by a module that skipped part of its work
    if notes:
        info["notes"] = list(notes)
    return results, info


def run(name: str, *, quick: bool, json_path: str | None,
        report_dir: str | None = None) -> list[Result]:
    """Run benchmark `name` (or "all"), write the JSON (and a report when report_dir)."""
    names = available()
    if name != "all" and name not in names:
        raise KeyError(f"no benchmark named {name!r}; available: {', '.join(names)}")
    started = time.time()
    results: list[Result] = []
    modules: list[dict[str, Any]] = []
    for each in (list(names) if name == "all" else [name]):
        if name == "all":
            from dsql.bench import progress

            progress.note(f"bench {each} ...")
        try:
            got, info = _run_module(each, quick)
        except Exception as e:  # noqa: BLE001 - "all" records the failure and goes on
            if name != "all":
                raise
            got, info = [], {"name": each, "error": f"{type(e).__name__}: {e}"}
            print(f"dsql bench: {each} failed: {info['error']}", file=sys.stderr)
        results.extend(got)
        modules.append(info)
    report = {
        "schema": SCHEMA,
        "benchmark": name,
        "dsql_version": dsql.__version__,
        "quick": quick,
        "started_unix": started,
        "seconds": round(time.time() - started, 3),
        "machine": machine(),
        "modules": modules,
        "results": [r.as_json() for r in results],
    }
    text = json.dumps(report, indent=2) + "\n"
    if json_path:
        Path(json_path).write_text(text, encoding="utf-8")
    if report_dir:
        from dsql.bench import report as reporting

        out = Path(report_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{name}.json").write_text(text, encoding="utf-8")
        reporting.write(report, out)
    return results


def format_table(results: list[Result]) -> str:
    with_latency = any(r.latency for r in results)
    head = ("result", "value", "baseline", "ratio", "target")
    rows = [head + (("p99 us (baseline)",) if with_latency else ())]
    for r in results:
        base = "" if r.baseline is None else f"{r.baseline:,.1f} ({r.baseline_name})"
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}x ({r.better} is better)"
        target = ""
        if r.target:
            target = f"{r.target}: {'met' if r.meets_target else 'NOT met'}"
        row: tuple[str, ...] = (r.name, f"{r.value:,.1f} {r.unit}", base, ratio, target)
        if with_latency:
            p99 = "" if not r.latency else f"{r.latency.get('p99_us', 0):,.0f}"
            if r.baseline_latency:
                p99 += f" ({r.baseline_latency.get('p99_us', 0):,.0f})"
            row += (p99,)
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)

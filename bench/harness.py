"""Runs benchmark modules and writes their results.

Every result names what was measured, its value and unit, and, where a baseline was measured
in the same run, the baseline's value and the ratio value / baseline, with which direction is
better. Machines here are noisy, so only same-run ratios are meaningful; absolute numbers are
reported for context.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import platform
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
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def available() -> dict[str, str]:
    """Benchmark name -> description, for every module in this package with a run()."""
    import dsql.bench as pkg

    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_") or info.name == "harness":
            continue
        module = importlib.import_module(f"dsql.bench.{info.name}")
        if callable(getattr(module, "run", None)):
            found[info.name] = str(getattr(module, "DESCRIPTION", ""))
    return dict(sorted(found.items()))


def run(name: str, *, quick: bool, json_path: str | None) -> list[Result]:
    names = available()
    if name not in names:
        raise KeyError(f"no benchmark named {name!r}; available: {', '.join(names)}")
    module = importlib.import_module(f"dsql.bench.{name}")
    started = time.time()
    results: list[Result] = module.run(quick)
    report = {
        "benchmark": name,
        "dsql_version": dsql.__version__,
        "quick": quick,
        "started_unix": started,
        "seconds": round(time.time() - started, 3),
        "machine": machine(),
        "results": [r.as_json() for r in results],
    }
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return results


def format_table(results: list[Result]) -> str:
    rows = [("result", "value", "baseline", "ratio", "target")]
    for r in results:
        base = "" if r.baseline is None else f"{r.baseline:,.1f} ({r.baseline_name})"
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}x ({r.better} is better)"
        target = ""
        if r.target:
            target = f"{r.target}: {'met' if r.meets_target else 'NOT met'}"
        rows.append((r.name, f"{r.value:,.1f} {r.unit}", base, ratio, target))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)

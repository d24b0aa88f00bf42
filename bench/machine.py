"""What ran a benchmark: the machine, the disk's fdatasync rate, dsql's version, peak RSS.

Every report carries `describe(data_dir)` so a figure can be read against the machine that
produced it: CPU model, core count, memory, kernel, Python version, the measured fdatasync
rate of the filesystem holding the benchmark data directories (durable commits are bounded by
it), dsql's version and the git commit of the source tree when it is a checkout.

Peak RSS comes from /proc/PID/status (VmHWM). `reset_peak_rss(pid)` writes 5 to
/proc/PID/clear_refs so that the next reading covers only what ran since (Linux >= 4.0; a
silent no-op where not permitted).

Thread-safety: the functions are safe to call from any thread; `describe` caches the
fdatasync measurement per directory under a lock.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import dsql

FSYNC_PROBE_S = 0.5
FSYNC_PROBE_MAX = 2000
_fsync_cache: dict[str, float] = {}
_fsync_lock = threading.Lock()


def bench_dir() -> Path:
    """Where benchmarks put data directories: $DSQL_BENCH_DIR, else the system temp dir."""
    path = Path(os.environ.get("DSQL_BENCH_DIR") or tempfile.gettempdir())
    path.mkdir(parents=True, exist_ok=True)
    return path


def fdatasync_per_s(directory: Path, seconds: float = FSYNC_PROBE_S) -> float:
    """Measured 4 KiB write + fdatasync round trips per second on `directory`'s filesystem."""
    key = str(directory.resolve())
    with _fsync_lock:
        if key in _fsync_cache:
            return _fsync_cache[key]
        fd, name = tempfile.mkstemp(prefix="dsql-fsync-probe-", dir=key)
        try:
            block = b"\xa5" * 4096
            os.write(fd, block)
            os.fsync(fd)
            done = 0
            start = time.perf_counter()
            while done < FSYNC_PROBE_MAX and time.perf_counter() - start < seconds:
                os.pwrite(fd, block, 0)
                os.fdatasync(fd)
                done += 1
            rate = done / (time.perf_counter() - start)
        finally:
            os.close(fd)
            os.unlink(name)
        assert rate > 0
        _fsync_cache[key] = rate
        return rate


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_kb() -> int | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def git_commit() -> str | None:
    """The commit of the checkout dsql runs from (editable installs), or None."""
    here = Path(dsql.__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5)
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    commit = out.stdout.strip()
    return commit + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


def describe(data_dir: Path | None = None) -> dict[str, Any]:
    """The machine and software description stored in every JSON and report."""
    directory = data_dir or bench_dir()
    mem = _memory_kb()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_mib": None if mem is None else mem // 1024,
        "kernel": platform.release(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "data_dir": str(directory),
        "fdatasync_per_s": round(fdatasync_per_s(directory), 1),
        "dsql_version": dsql.__version__,
        "git_commit": git_commit(),
    }


def _status_kb(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def peak_rss_kb(pid: int | None = None) -> int | None:
    """VmHWM of `pid` (default: this process) in KiB, None when unreadable."""
    return _status_kb(os.getpid() if pid is None else pid, "VmHWM")


def reset_peak_rss(pid: int | None = None) -> bool:
    """Restart the peak-RSS count of `pid` at its current RSS; False if not permitted."""
    try:
        with open(f"/proc/{os.getpid() if pid is None else pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def children(pid: int) -> list[int]:
    """The direct children of `pid` (from /proc/PID/task/*/children)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks[:4096]:
        try:
            text = Path(f"/proc/{pid}/task/{tid}/children").read_text()
        except OSError:
            continue
        found.extend(int(x) for x in text.split())
    return found


def tree_peak_rss_kb(pid: int) -> dict[str, int] | None:
    """Peak RSS over a process and its children (PostgreSQL's postmaster and backends):
    `sum_kb` adds every process's VmHWM (shared buffers are counted in each process that
    touched them, so it overstates), `max_kb` is the largest single process."""
    pids = [pid, *children(pid)]
    values = [v for v in (peak_rss_kb(p) for p in pids) if v is not None]
    if not values:
        return None
    return {"sum_kb": sum(values), "max_kb": max(values), "processes": len(values)}


def reset_tree_peak_rss(pid: int) -> None:
    for p in [pid, *children(pid)]:
        reset_peak_rss(p)

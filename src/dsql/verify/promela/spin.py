"""Runs spin on the commit-protocol model (commit.pml beside this file) and reads its verdict.

    from dsql.verify.promela import CHECKS, run_check
    result = run_check(CHECKS[0])
    result.errors, result.states_stored, result.violation

`spin -a` turns the model into a C verifier (pan.c), gcc compiles it with -DSAFETY (the model
asks only safety questions: assertions and invalid end states) and pan searches every
reachable state. A failed search leaves a trail, which `spin -t` replays into the
counterexample kept in SpinResult.trail, one line per step.

Thread-safety: run_check may be called from several threads; each run works in its own
temporary directory.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

MODEL = Path(__file__).with_name("commit.pml")

SEARCH_DEPTH_MAX = 10_000  # pan -m: far above the model's longest run (~100 steps)
TRAIL_STEPS_MAX = 400      # counterexample lines kept


class SpinMissing(RuntimeError):
    """spin or a C compiler is not installed."""


class SpinFailed(RuntimeError):
    """spin, gcc or pan did not run to a verdict (syntax error, out of memory, timeout)."""


@dataclass(frozen=True)
class SpinResult:
    """What one pan search found."""

    errors: int
    violation: str | None      # "snapshot_exact", "lost_none", "invalid end state", ...
    violation_depth: int       # the counterexample's length in steps (0: none)
    complete: bool             # the whole state space was searched (or an error stopped it)
    states_stored: int
    states_matched: int
    transitions: int
    depth: int
    state_vector_bytes: int
    memory_mb: float
    search_s: float            # pan's own figure
    wall_s: float              # spin -a + gcc + pan (+ trail replay)
    trail: tuple[str, ...] = ()
    output: str = field(default="", repr=False)


_RE_VECTOR = re.compile(r"State-vector (\d+) byte, depth reached (\d+), errors: (\d+)")
_RE_STORED = re.compile(r"^\s*([\d.e+]+) states, stored", re.M)
_RE_MATCHED = re.compile(r"^\s*([\d.e+]+) states, matched", re.M)
_RE_TRANSITIONS = re.compile(r"^\s*([\d.e+]+) transitions", re.M)
_RE_MEMORY = re.compile(r"^\s*([\d.]+)\s+total actual memory usage", re.M)
_RE_ELAPSED = re.compile(r"pan: elapsed time ([\d.e+]+) seconds")
_RE_ASSERT = re.compile(r"pan:\d+: assertion violated (.+?) \(at depth (\d+)\)")
_RE_END_STATE = re.compile(r"pan:\d+: invalid end state \(at depth (\d+)\)")
_RE_STEP = re.compile(r"^\s*(\d+):\s+proc\s+(\d+) \((\w+):\d+\) \S+:(\d+) ")


def _count(pattern: re.Pattern[str], text: str) -> int:
    m = pattern.search(text)
    return int(float(m.group(1))) if m else 0


def parse_pan_output(text: str) -> SpinResult:
    """Reads pan's report. Raises SpinFailed when it holds no verdict."""
    vector = _RE_VECTOR.search(text)
    if vector is None:
        raise SpinFailed(f"pan printed no verdict:\n{text[-2000:]}")
    errors = int(vector.group(3))
    violation: str | None = None
    violation_depth = 0
    if (m := _RE_ASSERT.search(text)) is not None:
        violation, violation_depth = m.group(1), int(m.group(2))
    elif (m := _RE_END_STATE.search(text)) is not None:
        violation, violation_depth = "invalid end state", int(m.group(1))
    assert errors == 0 or violation is not None or "acceptance cycle" in text, text[-2000:]
    limited = ("max search depth too small" in text or "reached -DMEMLIM bound" in text
               or "out of memory" in text)
    complete = errors > 0 or ("Search not completed" not in text and not limited)
    memory = _RE_MEMORY.search(text)
    elapsed = _RE_ELAPSED.search(text)
    return SpinResult(
        errors=errors, violation=violation, violation_depth=violation_depth, complete=complete,
        states_stored=_count(_RE_STORED, text), states_matched=_count(_RE_MATCHED, text),
        transitions=_count(_RE_TRANSITIONS, text), depth=int(vector.group(2)),
        state_vector_bytes=int(vector.group(1)),
        memory_mb=float(memory.group(1)) if memory else 0.0,
        search_s=float(elapsed.group(1)) if elapsed else 0.0, wall_s=0.0, output=text)


_RE_LOCAL = re.compile(r"^(::.*->|:: skip|:: else -> (break|skip)|skip;.*|lsn = 0;)$")


def _step_text(model_lines: list[str], lineno: int) -> str | None:
    """The model text of the step starting at `lineno` (a d_step's first lines), or None for
    a step that only moves a process along (a branch guard, a loop exit)."""
    if not 0 < lineno <= len(model_lines):
        return ""
    text = model_lines[lineno - 1].strip()
    if _RE_LOCAL.match(text):
        return None
    if text.endswith("{"):
        parts = [text]
        for more in model_lines[lineno:lineno + 6]:
            more = more.strip()
            if more and not more.startswith(("#", "*", "/*")):
                parts.append(more)
            if more.startswith("}"):
                break
        text = " ".join(parts)
    text = re.sub(r"/\*.*?(\*/|$)", "", text)
    return re.sub(r"\s+", " ", text).strip()[:140]


def compact_trail(replay: str, model_lines: list[str]) -> tuple[str, ...]:
    """One line per step of `spin -t -p` output: step, process, model line and its text (spin
    prints every statement inside a d_step under the step's number; the first one stands for
    the step)."""
    out: list[str] = []
    last_step = -1
    for line in replay.splitlines():
        m = _RE_STEP.match(line)
        if m is None:
            if "assertion violated" in line or "invalid end state" in line:
                out.append(line.strip())
            continue
        step, pid, name, lineno = int(m.group(1)), m.group(2), m.group(3), int(m.group(4))
        if step == last_step or name == "init":
            continue
        last_step = step
        text = _step_text(model_lines, lineno)
        if text is None:
            continue
        out.append(f"{step:4d} {name}[{pid}] line {lineno}: {text}")
        if len(out) >= TRAIL_STEPS_MAX:
            out.append("... (trail cut)")
            break
    return tuple(out)


def tools_missing() -> list[str]:
    """The programs run_check needs that are not on PATH."""
    return [tool for tool in ("spin", "gcc") if shutil.which(tool) is None]


def _run(argv: list[str], cwd: Path, timeout_s: float) -> str:
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
    except subprocess.TimeoutExpired as e:
        raise SpinFailed(f"{' '.join(argv)} ran longer than {timeout_s:.0f} s") from e
    return done.stdout + done.stderr


def run_spin(defines: tuple[str, ...], *, memory_mb: int = 1024, hash_bits: int = 22,
             optimize: bool = False, collapse: bool = False, timeout_s: float = 600.0,
             want_trail: bool = True) -> SpinResult:
    """Verifies the model with `-D` defines (e.g. ("NW=2", "WS1=4", "BUG_SKIP_KEY")).
    memory_mb bounds pan (an incomplete search is reported, never passed); hash_bits sizes its
    hash table (2**hash_bits slots); optimize compiles pan with -O2 (slower to build, faster
    to search); collapse stores states compressed (less memory, more time).

    REQUIRES: spin and gcc on PATH (SpinMissing otherwise); memory_mb > 0; 16 <= hash_bits
    <= 30.
    """
    missing = tools_missing()
    if missing:
        raise SpinMissing(
            f"{' and '.join(missing)} not found: the Promela model needs spin and a C compiler "
            "(Debian/Ubuntu: apt-get install spin gcc)")
    assert memory_mb > 0 and timeout_s > 0 and 16 <= hash_bits <= 30
    assert all(re.fullmatch(r"[A-Z_][A-Z0-9_]*(=\d+)?", d) for d in defines), defines
    began = time.monotonic()
    flags = [f"-D{d}" for d in defines]
    with tempfile.TemporaryDirectory(prefix="dsql-spin-") as tmp:
        work = Path(tmp)
        shutil.copyfile(MODEL, work / MODEL.name)
        text = _run(["spin", *flags, "-a", MODEL.name], work, timeout_s)
        if not (work / "pan.c").exists():
            raise SpinFailed(f"spin -a {' '.join(flags)} failed:\n{text}")
        cflags = ["-O2" if optimize else "-O0", "-w", "-DSAFETY", f"-DMEMLIM={memory_mb}"]
        if collapse:
            cflags.append("-DCOLLAPSE")
        text = _run(["gcc", *cflags, "-o", "pan", "pan.c"], work, timeout_s)
        if not (work / "pan").exists():
            raise SpinFailed(f"gcc could not compile pan.c:\n{text}")
        text = _run(["./pan", f"-m{SEARCH_DEPTH_MAX}", f"-w{hash_bits}", "-n"], work, timeout_s)
        result = parse_pan_output(text)
        trail: tuple[str, ...] = ()
        if result.errors and want_trail and (work / f"{MODEL.name}.trail").exists():
            replay = _run(["spin", *flags, "-t", "-p", MODEL.name], work, timeout_s)
            trail = compact_trail(replay, MODEL.read_text().splitlines())
    wall = time.monotonic() - began
    return replace(result, wall_s=wall, trail=trail)

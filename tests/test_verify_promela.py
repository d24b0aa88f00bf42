"""The Promela model of the commit protocol, checked with spin (docs/promela-model.md).

Goal: the model holds its four properties over every reachable state of each quick universe;
every injected bug is caught, by the property it breaks; and the model, the code and the
document still name the same functions.
Method: each check of dsql.verify.promela runs spin -a, compiles pan with gcc and searches
exhaustively; the verdict is parsed from pan's report and, when a check comes out otherwise,
the failure shows spin's counterexample. DSQL_PROMELA_FULL=1 adds the three-writer universes
(minutes, a few GB). spin and gcc are required, not optional: CI installs spin.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from dsql.verify.promela import MODEL, SpinMissing, checks, parse_pan_output, run_check
from dsql.verify.promela.checks import CHECKS
from dsql.verify.promela.mapping import LINKS
from dsql.verify.promela.spin import compact_trail, tools_missing

FULL = os.environ.get("DSQL_PROMELA_FULL") == "1"
DOC = Path(__file__).resolve().parents[1] / "docs" / "promela-model.md"


def _require_tools() -> None:
    missing = tools_missing()
    if missing:
        pytest.fail(f"{' and '.join(missing)} not installed: the Promela model test needs spin "
                    "and gcc (Debian/Ubuntu: apt-get install spin gcc; CI: add spin to "
                    ".ci/run's apt list)", pytrace=False)


@pytest.mark.parametrize("check", checks(full=FULL), ids=lambda c: c.name)
def test_check(check) -> None:
    _require_tools()
    try:
        verdict = run_check(check)
    except SpinMissing as e:  # raced with an uninstall; same message
        pytest.fail(str(e), pytrace=False)
    assert verdict.met, verdict.describe()
    if check.breaks is not None:
        assert verdict.result.trail, "a caught bug must come with spin's counterexample"


def test_every_injected_bug_has_a_check() -> None:
    in_model = set(re.findall(r"\bBUG_[A-Z_]+\b", MODEL.read_text()))
    checked = {d for c in CHECKS for d in c.defines if d.startswith("BUG_")}
    assert in_model == checked, (in_model - checked, checked - in_model)
    assert all((c.breaks is not None) == any(d.startswith("BUG_") for d in c.defines)
               for c in CHECKS)


def test_model_code_and_doc_name_the_same_things(repo_root: Path) -> None:
    model = MODEL.read_text()
    doc = DOC.read_text()
    for link in LINKS:
        assert re.search(rf"\b{re.escape(link.model)}\b", model), f"{link.model} not in the model"
        source = (repo_root / link.path).read_text()
        assert link.symbol in source, f"{link.symbol} no longer in {link.path}: update the model"
        assert link.path in doc and link.symbol.removeprefix("def ") in doc, (
            f"docs/promela-model.md does not map {link.model} to {link.path} {link.symbol}")
    for check in CHECKS:
        assert check.name in doc, f"docs/promela-model.md does not describe {check.name}"


PASSED = """\
(Spin Version 6.5.2 -- 6 December 2019)
	+ Partial Order Reduction

Full statespace search for:
	assertion violations	+
	invalid end states	+

State-vector 88 byte, depth reached 54, errors: 0
    24640 states, stored
    13868 states, matched
    38508 transitions (= stored+matched)
   35.121	total actual memory usage

pan: elapsed time 0.02 seconds
"""

FAILED = """\
pan:1: assertion violated snapshot_exact (at depth 31)
pan: wrote commit.pml.trail
Warning: Search not completed
State-vector 88 byte, depth reached 54, errors: 1
    11768 states, stored
     7352 states, matched
    19120 transitions (= stored+matched)
pan: elapsed time 0.01 seconds
"""

DEADLOCK = "pan:1: invalid end state (at depth 35)\nState-vector 88 byte, depth reached 54, " \
           "errors: 1\n    10632 states, stored\n"

OUT_OF_MEMORY = "pan: reached -DMEMLIM bound\nWarning: Search not completed\nState-vector 104 " \
                "byte, depth reached 99, errors: 0\n 27083218 states, stored\n"


def test_parse_pan_output() -> None:
    ok = parse_pan_output(PASSED)
    assert (ok.errors, ok.violation, ok.complete) == (0, None, True)
    assert (ok.states_stored, ok.states_matched, ok.transitions) == (24640, 13868, 38508)
    assert (ok.depth, ok.state_vector_bytes, ok.memory_mb) == (54, 88, 35.121)
    bad = parse_pan_output(FAILED)
    assert (bad.errors, bad.violation, bad.complete) == (1, "snapshot_exact", True)
    assert parse_pan_output(DEADLOCK).violation == "invalid end state"
    partial = parse_pan_output(OUT_OF_MEMORY)
    assert (partial.errors, partial.complete) == (0, False)


def test_compact_trail_keeps_one_line_per_step() -> None:
    lines = ["byte x;", "d_step {", "  x = 1;", "  x = 2", "};", ":: x > 1 ->"]
    replay = "\n".join([
        " 17:\tproc  3 (Writer:1) commit.pml:2 (state 5)\t[x = 1]",
        " 17:\tproc  3 (Writer:1) commit.pml:4 (state 6)\t[x = 2]",
        " 18:\tproc  3 (Writer:1) commit.pml:6 (state 7)\t[((x>1))]",
        "spin: commit.pml:3, Error: assertion violated",
    ])
    assert compact_trail(replay, lines) == (
        "  17 Writer[3] line 2: d_step { x = 1; x = 2 };",
        "spin: commit.pml:3, Error: assertion violated")

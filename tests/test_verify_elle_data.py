"""The checker on Elle's own example histories, the history format, and the command line.

Goal: agree with Elle where Elle's test suite records an answer, build exactly the graph the
histories' authors describe, read and write the JSON Lines format faithfully (and reject bad
input with a message that says where), and give `python -m dsql.verify.elle` the right exit
codes. Method: load the shared histories from `<repo>/../shared/data/elle` (CI places a copy
of shared/ beside the clone), compare against the edges and verdicts stated in the histories'
comments and in Elle's tests, round-trip generated histories, and run the module as a
subprocess.

The histories come from github.com/jepsen-io/elle (mirror commit ccdee6f, `histories/`),
Copyright 2019-2020 Jepsen, LLC and Peter Alvaro, EPL-2.0 (or GPL-2.0 with classpath
exception); converted mechanically from EDN to JSON (see shared/data/elle/README.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dsql.verify.anomalies import G2_ITEM, SI_FORBIDDEN
from dsql.verify.elle import check
from dsql.verify.graph import kinds_of
from dsql.verify.history import (
    HistoryError,
    dump_jsonl,
    load_history,
    pair_transactions,
    parse_jsonl,
)
from dsql.verify.sim_engine import Flaw, simulate

REPO = Path(__file__).resolve().parents[1]
ELLE_DATA = REPO.parent / "shared" / "data" / "elle"


def _edges(result: object) -> set[tuple[int, int, str]]:
    g = result.graph  # type: ignore[attr-defined]
    return {(u, v, k) for u, v, m in g.edges() for k in kinds_of(m)}


def test_shared_data_is_present() -> None:
    assert (ELLE_DATA / "README.md").exists(), f"shared Elle histories missing at {ELLE_DATA}"


def test_si_without_g_single_is_valid_under_si() -> None:
    """Elle's answer (list_append_test.clj): anomaly types [G2-item]; valid under SI."""
    result = check(load_history(ELLE_DATA / "si-without-g-single.jsonl"))
    assert not (result.types & SI_FORBIDDEN), result.report()
    assert result.valid and result.strong_valid  # all times are 0: no real-time order
    assert result.types == {G2_ITEM}, result.report()
    # The edges the .edn's comments list (T1..T4 = ops 11, 21, 31, 41), and no others. T3's
    # append of 5 to key 9 is never read; it must come after the 2 that T4 saw.
    assert _edges(result) == {
        (11, 31, "ww"),  # T1 ww T3 on 9
        (11, 41, "wr"),  # T1 wr T4 on 9
        (21, 11, "rw"),  # T2 rw T1 on 9
        (31, 21, "rw"),  # T3 rw T2 on 8
        (31, 41, "rw"),  # T3 rw T4 on 6
        (41, 31, "rw"),  # T4 rw T3 on 9
    }
    for a in result.of_type(G2_ITEM):
        kinds = [s.kind for s in a.steps]
        assert any(kinds[i] == kinds[(i + 1) % len(kinds)] == "rw" for i in range(len(kinds)))


def test_paper_example_graph() -> None:
    """The Elle paper's worked example: no process field (ops pair in order), and the graph
    derived by hand: T1 = op 1 writes 253/255/256; T3 = op 3; T5 = op 5; T7 = op 7, whose
    append of 3 to key 256 nobody read, so it follows the 4 that T5 saw."""
    ops = load_history(ELLE_DATA / "paper-example.jsonl")
    txns = pair_transactions(ops)
    assert [t.id for t in txns] == [1, 3, 5, 7] and all(t.type == "ok" for t in txns)
    result = check(ops)
    assert _edges(result) == {
        (1, 3, "ww"), (1, 3, "wr"),  # 255: 5 -> 8; T3 read 253 = [1, 3, 4]
        (1, 5, "ww"), (1, 5, "wr"),  # 256: 2 -> 4; T5 read 256 = [1, 2] + its own 4
        (1, 7, "wr"),  # T7 read 253 and 255 ending in T1's elements
        (3, 5, "wr"),  # T5 read 255 ending in T3's 8
        (5, 7, "ww"),  # 256: T7's unread 3 after T5's 4
        (7, 3, "rw"),  # T7 read 255 ending at 5; T3 appended 8 next
    }
    orders = result.observations.orders
    assert orders[255].order == (2, 3, 4, 5, 8)
    assert orders[256].order == (1, 2, 4) and orders[256].unread == {7: (3,)}
    # One cycle: T3 -wr-> T5 -ww-> T7 -rw-> T3, a G-single (one anti-dependency).
    assert result.types == {"G-single"}
    (a,) = result.anomalies
    assert [(s.src, s.kind, s.dst) for s in a.steps] == [(3, "wr", 5), (5, "ww", 7), (7, "rw", 3)]
    assert "T7 -rw-> T3" in a.render()


def test_jsonl_round_trip() -> None:
    ops = simulate(Flaw.NONE, seed=3, clients=3, txns=12, keys=3, abort_probability=0.2,
                   info_probability=0.1)
    text = dump_jsonl(ops)
    assert parse_jsonl(text.splitlines()) == ops
    for line in text.splitlines():
        raw = json.loads(line)
        assert set(raw) <= {"index", "type", "time", "process", "f", "value"}


@pytest.mark.parametrize("line,needle", [
    ('{"index": 0, "type": "invoke", "value": [["append", 1]]}', "[f, key, value]"),
    ('{"index": 0, "type": "ok", "value": [["w", 1, 2]]}', "unknown micro-op"),
    ('{"index": 0, "type": "done", "value": []}', "type must be"),
    ('{"index": 0, "type": "ok", "value": [["r", 1, 5]]}', "list or null"),
    ('{"index": 0, "type": "ok", "value": [["append", 1, "x"]]}', "expected an int"),
    ('{"type": "ok", "value": []}', "needs 'index'"),
    ("not json", "not JSON"),
])
def test_bad_lines_are_rejected_with_their_place(line: str, needle: str) -> None:
    with pytest.raises(HistoryError, match="h.jsonl:2") as info:
        parse_jsonl(["", line], "h.jsonl")
    assert needle in str(info.value)


def test_ambiguous_histories_are_rejected() -> None:
    dup = ['{"index": 0, "type": "ok", "process": 0, "value": [["append", "k", 1]]}',
           '{"index": 1, "type": "ok", "process": 1, "value": [["append", "k", 1]]}']
    with pytest.raises(HistoryError, match="appended to key 'k' by both T0 and T1"):
        check(parse_jsonl(dup))
    order = ['{"index": 1, "type": "ok", "value": []}', '{"index": 1, "type": "ok", "value": []}']
    with pytest.raises(HistoryError, match="does not increase"):
        check(parse_jsonl(order))
    twice = ['{"index": 0, "type": "invoke", "process": 0, "value": []}',
             '{"index": 1, "type": "invoke", "process": 0, "value": []}']
    with pytest.raises(HistoryError, match="while its op 0 is pending"):
        check(parse_jsonl(twice))


def test_pairing_rules() -> None:
    """An uncompleted invoke is info; fail/info reads are unknown; other f's are skipped."""
    lines = [
        '{"index": 0, "type": "invoke", "process": 0, "time": 5, "value": [["r", "x", null]]}',
        '{"index": 1, "type": "invoke", "process": "nemesis", "f": "kill", "value": null}',
        '{"index": 2, "type": "invoke", "process": 1, "value": [["append", "x", 1]]}',
        '{"index": 3, "type": "fail", "process": 0, "time": 9, "value": [["r", "x", [7]]]}',
    ]
    txns = pair_transactions(parse_jsonl(lines))
    assert [(t.id, t.type) for t in txns] == [(2, "info"), (3, "fail")]
    assert txns[1].invoke_ns == 5 and txns[1].complete_ns == 9
    assert txns[1].mops[0].value is None  # a failed op's read tells nothing


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dsql.verify.elle", *args],
                          capture_output=True, text=True, timeout=60)


def test_cli_verdicts_and_exit_codes(tmp_path: Path) -> None:
    ok = _run_cli(str(ELLE_DATA / "si-without-g-single.jsonl"))
    assert ok.returncode == 0, ok.stderr
    assert "snapshot isolation: valid" in ok.stdout and "G2-item" in ok.stdout
    assert ok.stderr == ""  # e.g. no runpy double-import warning
    bad = _run_cli(str(ELLE_DATA / "paper-example.jsonl"), "--json")
    assert bad.returncode == 1
    doc = json.loads(bad.stdout)
    assert doc["valid"] is False and doc["anomaly_types"] == ["G-single"]
    assert doc["anomalies"][0]["cycle"][0]["kind"] in ("ww", "wr", "rw")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"index": 0}\n')
    err = _run_cli(str(broken))
    assert err.returncode == 2 and "broken.jsonl:1" in err.stderr
    assert _run_cli(str(tmp_path / "missing.jsonl")).returncode == 2

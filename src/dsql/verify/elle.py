"""A snapshot-isolation checker for list-append histories, in the manner of Jepsen's Elle.

Written from the ideas of Kingsbury & Alvaro, "Elle: Inferring Isolation Anomalies from
Experimental Observations" (VLDB 2020), and Cerone & Gotsman's characterisation of SI; no code
of Elle's is used. Pipeline:

    ops --pair--> txns --infer--> version orders, read views   (versions.py)
        --> read anomalies: G1a, G1b, lost-update                (reads.py)
        --> dependency graph ww / wr / rw                       (graph.py)
        --> cycles, classified G0 .. G2-item                    (cycles.py)
        --> + rt edges: realtime cycles and stale reads         (realtime.py)

Verdicts: ``valid`` -- snapshot isolation holds: none of G0, G1a, G1b, G1c, G-single,
G-nonadjacent, nor the observation errors (internal, incompatible-order, duplicate-elements,
garbage-read, lost-update); G2-item (write skew) is allowed. ``strong_valid`` -- additionally
no ``realtime`` violation (strong SI, as Aurora DSQL gives).

Usage::

    result = check(load_history("h.jsonl"))
    print(result.report())

    python -m dsql.verify.elle h.jsonl [--json] [--no-realtime]

exits 0 when the history is valid (strong-valid unless --no-realtime), 1 when not, 2 when the
history cannot be read.

Thread-safety: check() is a pure function; results are not shared.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from dsql.verify.anomalies import REALTIME, SI_FORBIDDEN, STRONG_FORBIDDEN, Anomaly
from dsql.verify.cycles import SEARCH_STEPS_MAX, Budget, realtime_cycles, si_cycles
from dsql.verify.graph import DepGraph, build_graph
from dsql.verify.history import (
    FAIL,
    INFO,
    OK,
    HistoryError,
    Op,
    Txn,
    load_history,
    pair_transactions,
)
from dsql.verify.reads import aborted_reads, intermediate_reads, lost_updates
from dsql.verify.realtime import add_realtime_edges, stale_reads
from dsql.verify.versions import Observations, infer


@dataclass
class CheckResult:
    """The verdicts and the anomalies found, with the graph for those who want to look."""

    anomalies: list[Anomaly]
    valid: bool
    strong_valid: bool | None  # None when the real-time check was not run
    txns: int
    committed: int
    failed: int
    indeterminate: int
    edges: dict[str, int]
    search_exhausted: bool
    observations: Observations = field(repr=False)
    graph: DepGraph = field(repr=False)

    @property
    def types(self) -> set[str]:
        return {a.type for a in self.anomalies}

    def of_type(self, kind: str) -> list[Anomaly]:
        return [a for a in self.anomalies if a.type == kind]

    def report(self) -> str:
        """Verdict lines, counts, then every anomaly rendered."""
        def word(ok: bool | None) -> str:
            return "not checked" if ok is None else ("valid" if ok else "INVALID")
        lines = [f"snapshot isolation: {word(self.valid)}",
                 f"strong snapshot isolation (real time): {word(self.strong_valid)}",
                 f"transactions: {self.txns} ({self.committed} ok, {self.failed} fail, "
                 f"{self.indeterminate} info)",
                 "edges: " + ", ".join(f"{k} {n}" for k, n in self.edges.items())]
        counts: dict[str, int] = {}
        for a in self.anomalies:
            counts[a.type] = counts.get(a.type, 0) + 1
        lines.append("anomalies: " + (", ".join(f"{k} x{n}" for k, n in sorted(counts.items()))
                                      or "none"))
        if self.search_exhausted:
            lines.append("note: the cycle search budget ran out; verdicts are exact, but some "
                         "classes may be unreported")
        lines.extend(a.render() for a in self.anomalies)
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        return {
            "valid": self.valid, "strong_valid": self.strong_valid,
            "txns": self.txns, "committed": self.committed, "failed": self.failed,
            "indeterminate": self.indeterminate, "edges": self.edges,
            "anomaly_types": sorted(self.types),
            "anomalies": [{"type": a.type, "txns": list(a.txns), "description": a.description,
                           "cycle": [{"from": s.src, "kind": s.kind, "to": s.dst, "why": s.why}
                                     for s in a.steps]} for a in self.anomalies],
        }


def check(history: Sequence[Op], *, realtime: bool = True,
          search_steps_max: int = SEARCH_STEPS_MAX) -> CheckResult:
    """Checks a list-append history for snapshot isolation (and real time, if asked).

    REQUIRES: `history` is a sequence of Op (see history.py); raises HistoryError if it cannot
    be analysed (e.g. an append value used twice on one key).
    """
    txns = pair_transactions(history)
    return check_txns(txns, realtime=realtime, search_steps_max=search_steps_max)


def check_txns(txns: Sequence[Txn], *, realtime: bool = True,
               search_steps_max: int = SEARCH_STEPS_MAX) -> CheckResult:
    """check() on already-paired transactions."""
    assert search_steps_max > 0
    obs = infer(txns)
    anomalies = list(obs.anomalies)
    anomalies += aborted_reads(obs)
    anomalies += intermediate_reads(obs)
    anomalies += lost_updates(obs)
    graph = build_graph(obs)
    budget = Budget(steps_left=search_steps_max)
    cycles = si_cycles(graph, budget)
    anomalies += cycles.anomalies
    types = {a.type for a in anomalies}
    valid = not (types & SI_FORBIDDEN) and not cycles.forbidden
    strong: bool | None = None
    edges = graph.edge_counts()
    if realtime:
        g_rt = graph.copy()
        add_realtime_edges(g_rt, txns)
        edges = g_rt.edge_counts()
        anomalies += stale_reads(obs)
        rt_cycles = realtime_cycles(g_rt, budget)
        anomalies += rt_cycles.anomalies
        types = {a.type for a in anomalies}
        strong = valid and REALTIME not in types and not rt_cycles.forbidden
        assert not strong or not (types & STRONG_FORBIDDEN)
    assert valid == (not (types & SI_FORBIDDEN)), "a forbidden cycle always gets a witness"
    return CheckResult(
        anomalies=anomalies, valid=valid, strong_valid=strong, txns=len(txns),
        committed=sum(t.type == OK for t in txns), failed=sum(t.type == FAIL for t in txns),
        indeterminate=sum(t.type == INFO for t in txns), edges=edges,
        search_exhausted=budget.exhausted, observations=obs, graph=graph)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dsql.verify.elle",
        description="Check a list-append history (.jsonl) for snapshot isolation.")
    parser.add_argument("history", help="a JSON Lines history file (see dsql.verify.history)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--no-realtime", action="store_true",
                        help="skip the real-time (strong SI) check")
    args = parser.parse_args(argv)
    try:
        ops = load_history(args.history)
        result = check(ops, realtime=not args.no_realtime)
    except (OSError, HistoryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(result.report())
    ok = result.valid if result.strong_valid is None else result.strong_valid
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""`python -m dsql.verify.promela`: runs the model's checks and prints spin's figures.

Exit status 0 when every check came out as it must (no error, or the injected bug caught),
1 otherwise, 2 when spin or gcc is missing.
"""

from __future__ import annotations

import argparse
import json
import sys

from dsql.verify.promela.checks import Verdict, by_name, checks, run_check
from dsql.verify.promela.spin import SpinMissing


def _row(v: Verdict) -> dict[str, object]:
    r = v.result
    return {"check": v.check.name, "expect": v.check.breaks or "no error",
            "found": r.violation or ("no error" if r.errors == 0 else "error"),
            "met": v.met, "complete": r.complete, "violation_depth": r.violation_depth,
            "states_stored": r.states_stored,
            "states_matched": r.states_matched, "transitions": r.transitions, "depth": r.depth,
            "state_vector_bytes": r.state_vector_bytes, "memory_mb": r.memory_mb,
            "search_s": r.search_s, "wall_s": round(r.wall_s, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dsql.verify.promela",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="add the three-writer universes")
    parser.add_argument("--check", action="append", default=[], metavar="NAME",
                        help="run only this check (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the checks and exit")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--trail", action="store_true", help="print counterexamples")
    args = parser.parse_args(argv)
    selected = [by_name(n) for n in args.check] if args.check else checks(full=args.full)
    if args.list:
        for c in selected:
            print(f"{c.name:34} {c.breaks or 'no error':18} {c.why}")
        return 0
    rows = []
    ok = True
    print(f"{'check':34} {'expect':18} {'found':18} {'stored':>10} {'matched':>10} "
          f"{'depth':>5} {'MB':>7} {'s':>6}")
    for check in selected:
        try:
            verdict = run_check(check)
        except SpinMissing as e:
            print(e, file=sys.stderr)
            return 2
        row = _row(verdict)
        rows.append(row)
        ok = ok and verdict.met
        mark = "" if verdict.met else "   <-- NOT AS EXPECTED"
        print(f"{check.name:34} {row['expect']:18} {row['found']:18} "
              f"{verdict.result.states_stored:>10} {verdict.result.states_matched:>10} "
              f"{verdict.result.depth:>5} {verdict.result.memory_mb:>7.0f} "
              f"{verdict.result.wall_s:>6.1f}{mark}", flush=True)
        if args.trail or not verdict.met:
            print(verdict.describe())
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

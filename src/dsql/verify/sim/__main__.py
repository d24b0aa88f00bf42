"""`python -m dsql.verify.sim --seed N [--seeds K] [--bug NAME] [--faults PROFILE] [--json]
[--trace] [--history DIR] [--lenient-promises] [--verbose]`.

Runs seeds N .. N+K-1 and prints one line per seed; a failing seed prints its findings and
the command that replays it. Exit status 0 when every seed passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from dsql.verify.history import save_history
from dsql.verify.sim.bugs import Bug
from dsql.verify.sim.faults import PROFILES
from dsql.verify.sim.harness import SimConfig, run_seed, summarize


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dsql.verify.sim",
                                     description="Deterministic simulation of the commit path.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1, help="how many seeds from --seed")
    parser.add_argument("--bug", choices=[b.value for b in Bug], default="none",
                        help="inject a deliberate bug (the checks must catch it)")
    parser.add_argument("--faults", choices=PROFILES, default="default",
                        help="the fault profile (default: the quick runs' mix)")
    parser.add_argument("--lenient-promises", action="store_true",
                        help="count reads that a commit decided after a later crash lands below "
                             "as retroactive instead of failing (docs/simulation.md, Findings)")
    parser.add_argument("--history", metavar="DIR",
                        help="write each seed's list-append history to DIR/seed-N.jsonl "
                             "(check one with python -m dsql.verify.elle)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--verbose", action="store_true",
                        help="show the components' own log lines (journal recovery, ...)")
    parser.add_argument("--trace", action="store_true",
                        help="print the last events of each failing run")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be >= 1")
    if not args.verbose:
        logging.getLogger("dsql").setLevel(logging.ERROR)
    bug = Bug(args.bug)
    config = SimConfig(profile=args.faults, strict_promises=not args.lenient_promises)
    results = []
    for seed in range(args.seed, args.seed + args.seeds):
        r = run_seed(seed, bug, config)
        results.append(r)
        if args.history:
            Path(args.history).mkdir(parents=True, exist_ok=True)
            save_history(r.history, Path(args.history) / f"seed-{seed}.jsonl")
        if not args.json:
            status = "ok" if r.ok else "FAILED"
            faults = sum(r.faults_injected.values())
            print(f"seed {seed}: {status}  txns {r.transactions} (ok {r.committed}, fail "
                  f"{r.aborted}, info {r.indeterminate})  faults {faults}  events {r.events}  "
                  f"retroactive {r.retroactive_reads}  trace {r.trace_hash[:16]}  "
                  f"{r.elapsed_s:.2f}s")
            if not r.ok:
                print(r.failure_message())
                if args.trace:
                    print("\n".join("    " + line for line in r.trace_tail))
    summary = summarize(results)
    if args.json:
        print(json.dumps(summary, indent=2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""`dsql verify`: runs the machine checks of dsql's guarantees and prints a summary table.

    dsql verify --quick                 # every check at its quick size (a few minutes)
    dsql verify --kills 50 --seed 7     # the full sizes, a 50-kill crash loop
    dsql verify --quick --only crash-loop --json out.json

Exit status: 0 when every check passed or was skipped, 1 when any failed, 2 on bad arguments.
The checks themselves are in suite.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from dsql.verify.suite import CHECKS, FAIL, Sizes, format_table, run_checks


def add_verify_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="the quick sizes (5 kills, 3 runs ...)")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON")
    p.add_argument("--seed", type=int, default=None,
                   help="the seed of every random choice (default: from the clock, printed)")
    p.add_argument("--kills", type=int, default=None,
                   help="SIGKILLs in the crash loop (quick 5, full 50)")
    p.add_argument("--only", action="append", default=[], choices=sorted(CHECKS),
                   metavar="CHECK", help=f"run only this check (repeatable): {', '.join(CHECKS)}")
    p.add_argument("--skip", action="append", default=[], choices=sorted(CHECKS),
                   metavar="CHECK", help="leave this check out (repeatable)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the table")


def verify_command(args: argparse.Namespace) -> int:
    if args.kills is not None and args.kills < 1:
        print("dsql verify: --kills must be at least 1", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else int(time.time()) % 1_000_000
    sizes = Sizes.quick(args.kills) if args.quick else Sizes(
        **({} if args.kills is None else {"kills": args.kills}))
    names = [n for n in (args.only or list(CHECKS)) if n not in args.skip]

    def log(line: str) -> None:
        if not args.quiet:
            print(f"  {line}", flush=True)

    print(f"dsql verify: seed {seed}, {'quick' if args.quick else 'full'} sizes, "
          f"checks: {', '.join(names)}", flush=True)
    rows = run_checks(names, sizes, seed, log)
    print(format_table(rows))
    failed = [r.check for r in rows if r.result == FAIL]
    print(f"result: {'FAIL (' + ', '.join(failed) + ')' if failed else 'pass'} "
          f"(seed {seed})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seed": seed, "quick": args.quick, "ok": not failed,
                       "checks": [r.to_json() for r in rows]}, f, indent=1, default=str)
        print(f"wrote {args.json}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dsql verify", description=__doc__.splitlines()[0])
    add_verify_arguments(parser)
    return verify_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

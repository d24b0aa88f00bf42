"""The ``dsql`` command: ``dsql serve``, ``dsql clock``, ``dsql bench``, ``dsql verify``,
``dsql --version``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

import dsql


def _cmd_clock(args: argparse.Namespace) -> int:
    from dsql import clock as dclock
    from dsql._core import _kernels

    settings = dclock.ClockSettings.from_env()
    overrides = {
        "source": args.source or settings.source,
        "clockbound_path": args.clockbound_path or settings.clockbound_path,
        "ptp_path": args.ptp_path or settings.ptp_path,
    }
    try:
        clock = dclock.Clock.open(dclock.ClockSettings(**{**settings.__dict__, **overrides}))
    except ValueError as e:
        print(f"dsql clock: {e}", file=sys.stderr)
        return 2
    reading = clock.now()
    cost_ns = min(_kernels.clock.mean_read_cost_ns(clock.source, 200_000) for _ in range(3))
    info = {
        "source": clock.name,
        "status": reading.status,
        "earliest_ns": reading.earliest,
        "latest_ns": reading.latest,
        "bound_ns": reading.bound,
        "read_cost_ns": round(cost_ns, 1),
        "selection": clock.selection_log,
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"source:     {info['source']}")
    print(f"status:     {info['status']}")
    print(f"bound:      {reading.bound:,} ns ({reading.bound / 1e6:.3f} ms)")
    print(f"earliest:   {reading.earliest}")
    print(f"latest:     {reading.latest}")
    print(f"read cost:  {cost_ns:.1f} ns (C++)")
    for line in clock.selection_log:
        print(f"selection:  {line}")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from dsql.bench import harness, progress

    available = harness.available()
    if not args.name:
        for name, desc in available.items():
            print(f"{name:16} {desc}")
        print(f"{'all':16} every benchmark above, one after another")
        return 0
    if args.name != "all" and args.name not in available:
        print(f"dsql bench: no benchmark named {args.name!r}; available: "
              f"{', '.join(available)}, all", file=sys.stderr)
        return 2
    if args.quiet:
        progress.configure(False)
    results = harness.run(args.name, quick=args.quick, json_path=args.json,
                          report_dir=args.report)
    print(harness.format_table(results))
    if args.json:
        print(f"wrote {args.json}")
    if args.report:
        print(f"wrote {args.report}/{args.name}.md, {args.name}.json and plots")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from dsql.server import runner

    return runner.serve_command(args)


def _cmd_verify(args: argparse.Namespace) -> int:
    from dsql.verify.cli import verify_command

    return verify_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dsql", description=dsql.__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"dsql {dsql.__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("serve", help="serve the PostgreSQL wire protocol (psql, drivers)")
    from dsql.server.options import add_serve_arguments

    add_serve_arguments(p)
    p.set_defaults(fn=_cmd_serve)

    p = sub.add_parser("clock", help="show the clock source, status, error bound and read cost")
    p.add_argument("--source", choices=["auto", "clockbound", "ptp", "system", "simulated"])
    p.add_argument("--clockbound-path", default="")
    p.add_argument("--ptp-path", default="")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(fn=_cmd_clock)

    p = sub.add_parser("bench", help="run a benchmark from bench/ or all (no NAME: list them)")
    p.add_argument("name", nargs="?")
    p.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON")
    p.add_argument("--report", metavar="DIR",
                   help="write DIR/NAME.md with tables and PNG plots, and DIR/NAME.json")
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    p.set_defaults(fn=_cmd_bench)

    p = sub.add_parser("verify", help="run the machine checks of dsql's guarantees")
    from dsql.verify.cli import add_verify_arguments

    add_verify_arguments(p)
    p.set_defaults(fn=_cmd_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "fn", None):
        parser.print_help()
        return 2
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main())

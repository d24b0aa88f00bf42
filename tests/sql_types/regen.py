"""Fills in the expected results of tests/sql_types/*.txt from a real PostgreSQL 15.

Usage (as a developer, not in the test suite):

    python tests/sql_types/regen.py [file.txt ...]

Each case's expression is evaluated by a throwaway server (tests/pg_server.py) and the line
is rewritten as `expression => <PostgreSQL's result>`. Lines marked '!' (dsql-only
expectations) are left alone; a line may be written as just an expression to be filled in.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import all_files, outcome_key, render  # noqa: E402

from pg_server import PostgresServer  # noqa: E402


def regen(server: PostgresServer, path: Path) -> int:
    lines = path.read_text().splitlines()
    tz = "UTC"
    todo: dict[str, list[tuple[int, str]]] = {}
    for i, line in enumerate(lines):
        if not line.strip() or line.startswith("#") or line.startswith("!"):
            continue
        if line.startswith("@timezone "):
            tz = line.split(None, 1)[1].strip()
            continue
        expr = line.rsplit(" => ", 1)[0].strip() if " => " in line else line.strip()
        todo.setdefault(tz, []).append((i, expr))
    changed = 0
    for tz, items in todo.items():
        results = server.evaluate([e for _, e in items], settings={"TimeZone": tz})
        for (i, expr), res in zip(items, results, strict=True):
            new = f"{expr} => {render(outcome_key(res.value, res.sqlstate, res.message))}"
            if new != lines[i]:
                lines[i] = new
                changed += 1
    path.write_text("\n".join(lines) + "\n")
    return changed


def main() -> None:
    files = [Path(a) for a in sys.argv[1:]] or all_files()
    with PostgresServer() as server:
        for f in files:
            print(f"{f.name}: {regen(server, f)} lines updated")


if __name__ == "__main__":
    main()

"""dsql's SQL engine against a real PostgreSQL 15 on generated tables and generated queries.

Goal: the same rows (as PostgreSQL text output) and the same SQLSTATEs as PostgreSQL for
queries of every shape the engine supports, for DML and its effect on the tables, and for
statements PostgreSQL rejects. Method: for each seed, tests/sql_gen draws 2-4 tables with
data, creates them in a fresh dsql database and in a fresh schema of a private PostgreSQL
(tests/pg_server.py), then draws cases (each from its own random stream) and runs every case
on both; the rows are compared as sequences when the ORDER BY is total, else as multisets.
DML runs in a transaction that reads every table afterwards and rolls back.

Knobs: DSQL_DIFF_SEED=<n> runs that seed alone; DSQL_DIFF_QUERIES=<n> cases per seed (the
default, 6 seeds x 100 = 600 cases, runs in ~15 s; DSQL_DIFF_QUERIES=5000 is the long run);
DSQL_DIFF_CASE=<i> replays case i alone; DSQL_DIFF_PENDING=1 also draws the shapes dsql does
not support yet (correlated subqueries, WITH). Every failure names its seed and case and
prints the command that replays it. Known differences that are not fixed yet are pinned in
test_sql_differential_known.py, and the generator avoids them.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from pg_server import PostgresServer
from sql_gen.queries import gen_case
from sql_gen.runner import Case, DsqlSide, PgSide, compare, run_case
from sql_gen.schema import Schema, gen_schema

DEFAULT_SEEDS = [101, 202, 303, 404, 505, 606]
SEEDS = ([int(os.environ["DSQL_DIFF_SEED"])] if os.environ.get("DSQL_DIFF_SEED")
         else DEFAULT_SEEDS)
QUERIES = int(os.environ.get("DSQL_DIFF_QUERIES", "100"))
PENDING = os.environ.get("DSQL_DIFF_PENDING") == "1"
ONLY_CASE = os.environ.get("DSQL_DIFF_CASE")
SHOW_MAX = 15


class Pair:
    """One generated schema created in both engines."""

    def __init__(self, server: PostgresServer, seed: int) -> None:
        self.seed = seed
        self.schema: Schema = gen_schema(random.Random(f"{seed}:schema"))
        self.pg = PgSide(server.dsn)
        ns = f"diff_{seed}".replace("-", "m")
        self.pg.conn.execute(f"DROP SCHEMA IF EXISTS {ns} CASCADE")
        self.pg.conn.execute(f"CREATE SCHEMA {ns}")
        self.pg.conn.execute(f"SET search_path = {ns}")
        self.ns = ns
        self.dsql = DsqlSide()
        for stmt in self.schema.ddl() + self.schema.inserts():
            p, m = self.pg.run(stmt), self.dsql.run(stmt)
            assert p.sqlstate is None, f"seed {seed}: PostgreSQL rejects setup {stmt}: {p.show()}"
            assert m.sqlstate is None, f"seed {seed}: dsql rejects setup {stmt}: {m.show()}"

    def close(self) -> None:
        self.pg.conn.execute(f"DROP SCHEMA IF EXISTS {self.ns} CASCADE")
        self.pg.close()
        self.dsql.close()


@pytest.fixture
def pair_factory(postgres_server: PostgresServer) -> Iterator[Callable[[int], Pair]]:
    made: list[Pair] = []

    def make(seed: int) -> Pair:
        p = Pair(postgres_server, seed)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def case_of(pair: Pair, i: int) -> Case:
    return gen_case(pair.schema, random.Random(f"{pair.seed}:q{i}"), PENDING)


def replay_hint(seed: int, i: int) -> str:
    pending = "DSQL_DIFF_PENDING=1 " if PENDING else ""
    return (f"{pending}DSQL_DIFF_SEED={seed} DSQL_DIFF_CASE={i} "
            f"pytest -q tests/test_sql_differential.py::test_generated_cases_agree")


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_cases_agree(pair_factory: Callable[[int], Pair], seed: int) -> None:
    pair = pair_factory(seed)
    cases = [int(ONLY_CASE)] if ONLY_CASE else range(QUERIES)
    diffs: list[str] = []
    stats: Counter[str] = Counter()
    for i in cases:
        case = case_of(pair, i)
        pg = run_case(pair.pg, case)
        mine = run_case(pair.dsql, case)
        stats["error" if pg[0].sqlstate else "rows"] += 1
        d = compare(case, pg, mine)
        if d is not None:
            diffs.append(f"seed {seed} case {i}: {case.sql}\n  {d}\n  replay: "
                         f"{replay_hint(seed, i)}")
    if diffs:
        setup = "\n".join(pair.schema.ddl() + pair.schema.inserts())
        pytest.fail(f"seed {seed}: {len(diffs)} of {len(cases)} cases differ "
                    f"({dict(stats)}):\n\n" + "\n\n".join(diffs[:SHOW_MAX])
                    + f"\n\nsetup (seed {seed}):\n{setup}", pytrace=False)


def test_comparison_rules() -> None:
    """The comparator itself (no server): ties may swap only where SQL calls them equal."""
    from sql_gen.runner import Outcome, same

    def out(*rows: tuple[str | None, ...], types: tuple[int, ...] = (1700,)) -> Outcome:
        return Outcome(len(types), tuple(rows), types=types, names=("x",) * len(types))

    ordered = Case("q", ordered=True)
    assert same(ordered, out(("1",), ("2",)), out(("1",), ("2",)), True)
    assert not same(ordered, out(("1",), ("2",)), out(("2",), ("1",)), True)
    # numeric 1.5 and 1.50 are one sort key: their order is free, their text is not
    assert same(ordered, out(("1.5",), ("1.50",)), out(("1.50",), ("1.5",)), True)
    assert not same(ordered, out(("1.5",), ("1.50",)), out(("1.5",), ("1.5",)), True)
    # interval '1 day' and '24:00:00' are equal in SQL
    iv = (1186,)
    assert same(ordered, out(("1 day",), ("24:00:00",), types=iv),
                out(("24:00:00",), ("1 day",), types=iv), True)
    assert not same(ordered, out(("1 day",), ("25:00:00",), types=iv),
                    out(("25:00:00",), ("1 day",), types=iv), True)
    # a representative chosen by DISTINCT / set operations may print differently
    loose = Case("q", loose=True)
    assert same(loose, out(("2",),), out(("2.000",),), False)
    assert not same(Case("q"), out(("2",),), out(("2.000",),), False)
    # errors: equal SQLSTATEs only; types and names count
    assert same(Case("q"), Outcome(sqlstate="22012"), Outcome(sqlstate="22012"), False)
    assert not same(Case("q"), Outcome(sqlstate="22012"), Outcome(sqlstate="22003"), False)
    assert not same(Case("q"), out(("1",), types=(23,)), out(("1",), types=(20,)), False)


TO_CHAR_FORMATS = ["999", "999D99", "FM999990.00", "S9999", "0000", "9.99EEEE", "FM9999",
                   "9,999.9", "99MI", "PL99", "SG99", "999PR", "FM9.9", "00.00", "9990",
                   "FM0.999", "99V9", "9999S", "FM999.999", "990.0", "FM90.99", ".99",
                   "9G999D9", "FM9,999", '"n="999']
TO_CHAR_VALUES = ["0", "0.5", "-0.5", "5", "-5", "12.345", "-1234.5", "123456", "0.005",
                  "-0.004", "1.005", "-12.5", "99.995", "7"]


def test_to_char_numbers_agree(postgres_server: PostgresServer) -> None:
    """to_char(number, template) on the usual templates, for int4/int8/numeric/float8."""
    pg, mine = PgSide(postgres_server.dsn), DsqlSide()
    r = random.Random(f"{SEEDS[0]}:to_char")
    diffs = []
    try:
        for f in TO_CHAR_FORMATS:
            for v in r.sample(TO_CHAR_VALUES, 6):
                for cast in ("numeric", "int4", "float8", "int8"):
                    if cast.startswith("int") and "." in v:
                        continue
                    case = Case(f"SELECT to_char({v}::{cast}, '{f}')")
                    d = compare(case, run_case(pg, case), run_case(mine, case))
                    if d is not None:
                        diffs.append(f"{case.sql}\n  {d}")
    finally:
        pg.close()
        mine.close()
    assert not diffs, f"{len(diffs)} differ:\n" + "\n".join(diffs[:SHOW_MAX])

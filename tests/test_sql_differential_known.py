"""Known differences between dsql and PostgreSQL 15, each pinned down by one statement.

Goal: record precisely (SQL, PostgreSQL's outcome, dsql's outcome) what the generated
differential test (test_sql_differential.py) found but could not fix locally, so each can be
fixed later and the generator stays quiet meanwhile (it avoids these forms). Method: a small
fixed schema is created in dsql and in a private PostgreSQL; every case runs on both and must
agree. Cases marked xfail are open; the marker is not strict, so a fix that lands elsewhere
(for instance correlated subqueries and WITH from the SQL helpers) shows up as XPASS rather
than breaking the suite: then drop the marker.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pg_server import PostgresServer
from sql_gen.runner import Case, DsqlSide, PgSide, compare, run_case

SETUP = [
    "CREATE TABLE kt (k int4 PRIMARY KEY, v text, n numeric(10,2), s int2, d date)",
    "CREATE TABLE ku (k int4 PRIMARY KEY, w text)",
    "INSERT INTO kt (k, v, n, s, d) VALUES (1, 'a', 1.50, 1, '2024-01-02'), "
    "(2, 'b', NULL, 32767, '2024-02-03'), (3, NULL, -2.25, 3, NULL)",
    "INSERT INTO ku (k, w) VALUES (1, 'x'), (3, 'y'), (5, NULL)",
]
TABLES = [("kt", "k"), ("ku", "k")]


def known(sql: str, reason: str | None = None, *, ordered: bool = False, dml: bool = False
          ) -> object:
    case = Case(sql, ordered=ordered, dml=dml, tables=TABLES if dml else [])
    marks = [pytest.mark.xfail(reason=reason, strict=False)] if reason else []
    return pytest.param(case, marks=marks, id=sql[:60])


CASES = [
    # -- open: planner / executor (select.py, dml.py) --------------------------------------------
    known("SELECT k FROM kt WHERE k > 5 AND k < (SELECT k FROM ku)",
          "plan-dependent: PostgreSQL makes both conjuncts index conditions on kt_pkey, so "
          "its InitPlan runs when the scan starts (21000: more than one row) although no row "
          "has k > 5 (a seq scan would never run it); dsql short-circuits AND per row"),
    # -- fixed (kept as regression tests) --------------------------------------------------------
    known("SELECT string_agg(v, ',' ORDER BY v DESC), count(*) FILTER (WHERE n > 0) FROM kt"),
    known("SELECT k, (SELECT max(k) FROM ku) FROM kt ORDER BY k", ordered=True),
    known("SELECT kt.k FROM kt, ku JOIN kt c ON kt.k = c.k"),
    known("SELECT x.k FROM kt x, ku JOIN kt c ON c.k = ku.k JOIN ku d ON x.k = d.k"),
    known("SELECT kt.k, c.k FROM kt, ku JOIN kt c ON ku.k = c.k"),
    known("SELECT * FROM ku, LATERAL (SELECT ku.k + 1 AS z) s JOIN kt ON kt.k = s.z"),
    known("SELECT min(v), max(v::varchar) FROM kt"),
    known("SELECT lpad(v, 3, '*'), rpad(v, 2), initcap(v), date_trunc('week', d) FROM kt"),
    known("SELECT k FROM kt WHERE k BETWEEN SYMMETRIC 3 AND 2"),
    known("SELECT NULLIF(k, 1.5::float8) % 2 FROM kt"),
    known("SELECT CASE WHEN k > 1 THEN v::varchar ELSE v END FROM kt"),
    known("SELECT k FROM kt WHERE v || 'x' IN (1)"),
    known("SELECT 1.5 UNION SELECT NULL"),
    known("SELECT 1 UNION SELECT '2' ORDER BY 1", ordered=True),
    known("SELECT k AS n, n AS k FROM kt ORDER BY n", ordered=True),
    known("SELECT k FROM kt GROUP BY k, 'x'"),
    known("SELECT k FROM kt ORDER BY (-1)"),
    known("SELECT k FROM kt LIMIT -1"),
    known("SELECT k FROM kt t JOIN ku t ON true"),
    known("SELECT k FROM kt UNION SELECT k, k FROM ku"),
    known("SELECT k FROM kt WHERE (SELECT k, w FROM ku) IS NULL"),
    known("SELECT k FROM kt WHERE count(*) > 1"),
    known("SELECT sum('1') FROM kt"),
    known("SELECT 'x' + extract(day FROM d) FROM kt WHERE false"),
    known("SELECT format('%s|%L|%I|%-3s|', v, v, v, k), div(k, 2), to_hex(k), log10(k + 9) "
          "FROM kt WHERE v IS NOT NULL"),
    known("SELECT to_char(d, 'DD Mon YYYY') FROM kt"),
    known("SELECT to_char(n, 'FM999990.00'), to_char(k, '0000'), to_char(s, 'S9G999') FROM kt"),
    known("SELECT E'a\\tb'"),
    # PostgreSQL's planner folds immutable casts only: a stable one fails for a row it reaches
    known("UPDATE kt SET s = ((DATE '2024-05-11')::timestamp)::text::int2 WHERE false",
          dml=True),
    known("SELECT (DATE '2024-05-11')::text::int2 FROM kt WHERE false"),
    known("SELECT (DATE '2024-05-11')::text::int2"),
    known("SELECT 'x'::text::int FROM kt WHERE false"),
    known("SELECT '2024-13-01'::text::date FROM kt WHERE false"),
    known("SELECT (TIMESTAMP '2024-01-01')::timestamptz::text::int FROM kt WHERE false"),
    known("SELECT (INTERVAL '1 day')::text::int FROM kt WHERE false"),
    known("SELECT (TIME '10:00')::text::int FROM kt WHERE false"),
    known("SELECT k FROM kt WHERE d = '2024-01-02'::text::date"),
    known("SELECT format('%z', 1), to_char(1, 'EEEE9') FROM kt WHERE false"),
    known("SELECT date_trunc('foo', TIMESTAMPTZ '2024-01-01') FROM kt WHERE false"),
    known("SELECT date_trunc('foo', TIMESTAMP '2024-01-01') FROM kt WHERE false"),
    known("SELECT date_part('foo', TIMESTAMPTZ '2024-01-01') FROM kt WHERE false"),
    known("SELECT extract(foo FROM TIMESTAMP '2024-01-01') FROM kt WHERE false"),
    known("SELECT make_timestamptz(2024, 13, 1, 0, 0, 0) FROM kt WHERE false"),
    known("SELECT format('%z', 1)"),
    known("SELECT concat(1/0) FROM kt WHERE false"),
    # parsed as PostgreSQL parses them (dsql/sql/dialect.py)
    known("SELECT k,, k FROM kt"),
    known("SELECT k, FROM kt"),
    known("SELECT DATE '2024-01-16'::timestamp"),
    known("SELECT DATE '2024-01-16'::text, TIMESTAMP '2024-01-01 10:00'::date, "
          "INTERVAL '1 day'::text, '5'::int"),
    known("SELECT 1 IS DISTINCT FROM 2 IS NOT DISTINCT FROM NULL"),
    known("SELECT 1 IS DISTINCT FROM 2 ISNULL"),
    known("SELECT 1 IS NULL IS NULL, true IS TRUE IS NOT FALSE, 1 = 1 IS DISTINCT FROM false"),
    known("SELECT date_part('day', d), extract(day FROM d) FROM kt ORDER BY k", ordered=True),
    known("SELECT date_part('epoch', TIMESTAMP '2024-01-01'), "
          "date_part('month', INTERVAL '3 months')"),
    known("SELECT upper(to_hex(k + 10)), lower(to_hex(k + 10)) FROM kt"),
    known("SELECT substr(v, 2), mod(k, 2), char_length(v), position('a' in v) FROM kt"),
    known("SELECT character_length(v), strpos(v, 'a'), substring(v from 1 for 1), length(v), "
          "mod(7.5, 2) FROM kt"),
    known("SELECT CASE NULL WHEN 1 THEN 'x' END"),
    known("SELECT CASE WHEN k > 1 THEN v ELSE upper(v) END, k > 1 AND k < 3, INTERVAL '1 day' "
          "FROM kt"),
    known("INSERT INTO kt (k, n) SELECT 9, NULL UNION ALL SELECT 10, '2.5'", dml=True),
    known("INSERT INTO ku (k, w) SELECT 7, 'a' UNION ALL SELECT 7, 'b' "
          "UNION ALL SELECT 2147483647 + k, 'c' FROM kt", dml=True),
    known("INSERT INTO ku (k, w) SELECT 7, 'a' UNION ALL SELECT 2147483647 + k, 'c' FROM kt "
          "UNION ALL SELECT 7, 'b'", dml=True),
    known("INSERT INTO ku (k, w) SELECT 1, 'a' UNION ALL SELECT k + 10, v FROM kt", dml=True),
    known("INSERT INTO ku (k, w) VALUES (8, 'a'), (8, 'b') "
          "ON CONFLICT (k) DO UPDATE SET w = EXCLUDED.w", dml=True),
    known("INSERT INTO ku (k, w) VALUES (1, 'a'), (1, 'b') "
          "ON CONFLICT (k) DO UPDATE SET w = EXCLUDED.w", dml=True),
    known("INSERT INTO ku (k, w) VALUES (8, 'a'), (8, 'b') "
          "ON CONFLICT (k) DO UPDATE SET w = EXCLUDED.w WHERE false", dml=True),
    known("INSERT INTO ku (k, w) VALUES (1, 'a'), (1, 'b') "
          "ON CONFLICT (k) DO UPDATE SET w = EXCLUDED.w WHERE false", dml=True),
    known("INSERT INTO ku (k, w) VALUES (8, 'a'), (8, 'b') ON CONFLICT (k) DO NOTHING",
          dml=True),
    known("SELECT 1/(k-k) FROM kt LIMIT 0"),
    known("SELECT 1/(k-k) FROM kt ORDER BY k LIMIT 0"),
    known("SELECT sum(1/(k-k)) FROM kt LIMIT 0"),
    known("SELECT 1/(k-k) FROM kt UNION SELECT 1 ORDER BY 1 LIMIT 0"),
    known("SELECT 1/(k-k) FROM kt LIMIT -1 OFFSET -1"),
    known("SELECT * FROM kt JOIN ku USING (k) ORDER BY k", ordered=True),
    known("SELECT k, count(*) FROM kt LEFT JOIN ku USING (k) GROUP BY k ORDER BY k",
          ordered=True),
    known("SELECT * FROM kt FULL JOIN ku USING (k) ORDER BY k", ordered=True),
    known("SELECT * FROM kt NATURAL JOIN ku"),
    known("SELECT k FROM kt o WHERE EXISTS (SELECT 1 FROM ku i WHERE i.k = o.k)"),
    known("SELECT k, (SELECT max(i.k) FROM ku i WHERE i.k <= o.k) FROM kt o"),
    known("WITH w AS (SELECT k, v FROM kt) SELECT * FROM w"),
]


@pytest.fixture(scope="module")
def sides(postgres_server: PostgresServer) -> Iterator[tuple[PgSide, DsqlSide]]:
    pg = PgSide(postgres_server.dsn)
    pg.conn.execute("DROP SCHEMA IF EXISTS diff_known CASCADE")
    pg.conn.execute("CREATE SCHEMA diff_known")
    pg.conn.execute("SET search_path = diff_known")
    mine = DsqlSide()
    for stmt in SETUP:
        assert pg.run(stmt).sqlstate is None, stmt
        assert mine.run(stmt).sqlstate is None, stmt
    yield pg, mine
    pg.conn.execute("DROP SCHEMA IF EXISTS diff_known CASCADE")
    pg.close()
    mine.close()


@pytest.mark.parametrize("case", CASES)
def test_known_case(sides: tuple[PgSide, DsqlSide], case: Case) -> None:
    pg, mine = sides
    d = compare(case, run_case(pg, case), run_case(mine, case))
    assert d is None, f"{case.sql}\n  {d}"

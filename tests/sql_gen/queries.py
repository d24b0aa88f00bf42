"""Generated statements over a Schema: queries of many shapes, DML, and statements to reject.

`gen_case(schema, r)` draws one Case. Shapes: single-table SELECT (projections, WHERE,
DISTINCT, ORDER BY, LIMIT/OFFSET), joins (inner/left/right/full/cross, equality and
non-equality ON), GROUP BY/HAVING with aggregates, subqueries (scalar, IN, EXISTS, derived
tables; uncorrelated), set operations, INSERT ... SELECT / VALUES, UPDATE, DELETE (with
RETURNING), and statements PostgreSQL rejects (unknown names, bad syntax, grouping errors,
type mismatches).

Order: a query whose ORDER BY lists every output column is compared as a sequence (its order
is total up to rows that print alike or compare equal); any other query as a multiset. LIMIT
and OFFSET are only generated under such a total order, so the rows chosen are determined.
"""

from __future__ import annotations

import random

from sql_gen.exprs import FAMILIES, E, ExprGen, Ref
from sql_gen.runner import Case
from sql_gen.schema import INT_KINDS, Schema, Table, family, gen_value, quote

SHAPES = [("select", 22), ("join", 13), ("group", 15), ("subquery", 10), ("setop", 8),
          ("derived", 5), ("from_fn", 3), ("dml", 15), ("reject", 9)]
# Shapes dsql does not support yet (correlated subqueries, WITH): generated only when
# DSQL_DIFF_PENDING=1, so that the day they land they are compared too.
PENDING_SHAPES = [("correlated", 8), ("cte", 5), ("using", 4)]


def refs(t: Table, alias: str | None = None) -> list[Ref]:
    q = f"{alias}." if alias else ""
    return [Ref(q + c.name, c.kind, not c.not_null) for c in t.columns]


def order_clause(r: random.Random, n: int, names: list[str] | None = None) -> str:
    """ORDER BY every output column (positions or names), in a random order and direction."""
    idx = list(range(n))
    r.shuffle(idx)
    parts = []
    for i in idx:
        key = names[i] if names is not None and r.random() < 0.5 else str(i + 1)
        d = r.choice(["", " ASC", " DESC"])
        nl = r.choice(["", "", " NULLS FIRST", " NULLS LAST"])
        parts.append(key + d + nl)
    return " ORDER BY " + ", ".join(parts)


def limit_clause(r: random.Random, risky: bool = False) -> str:
    """LIMIT/OFFSET. No LIMIT when rows may raise: PostgreSQL may stop reading early (LIMIT 0,
    or an incremental sort over an index), so whether the error is met depends on its plan."""
    x = r.random()
    if risky:
        return f" OFFSET {r.randint(0, 6)}" if x < 0.5 else ""
    if x < 0.4:
        return f" LIMIT {r.randint(0, 6)}"
    if x < 0.6:
        return f" OFFSET {r.randint(0, 6)}"
    if x < 0.8:
        return f" LIMIT {r.randint(1, 6)} OFFSET {r.randint(0, 4)}"
    return ""


def select_items(g: ExprGen, r: random.Random, n: int) -> tuple[list[E], list[str]]:
    items, names = [], []
    for i in range(n):
        fam = r.choice(FAMILIES)
        items.append(g.gen(fam))
        names.append(f"x{i}")
    return items, names


def render_items(items: list[E], names: list[str], r: random.Random) -> str:
    out = []
    for e, n in zip(items, names, strict=True):
        out.append(f"{e.sql} AS {n}")
    return ", ".join(out)


class QueryGen:
    def __init__(self, schema: Schema, r: random.Random, pending: bool = False) -> None:
        assert schema.tables
        self.s = schema
        self.r = r
        self.pending = pending

    def case(self) -> Case:
        r = self.r
        shapes = SHAPES + (PENDING_SHAPES if self.pending else [])
        shape = r.choices([s for s, _ in shapes], [w for _, w in shapes])[0]
        c: Case = getattr(self, f"_{shape}")()
        assert c.sql
        return c

    def table(self) -> Table:
        return self.r.choice(self.s.tables)

    # -- single table -------------------------------------------------------------------------

    def _select(self) -> Case:
        r = self.r
        t = self.table()
        alias = r.choice([None, None, "s"])
        scope = refs(t, alias)
        g = ExprGen(r, scope, risky=r.random() < 0.5)
        items, names = select_items(g, r, r.randint(1, 4))
        if r.random() < 0.1:
            sel = "*"
            n = len(t.columns)
        else:
            sel = render_items(items, names, r)
            n = len(items)
        distinct = "DISTINCT " if r.random() < 0.15 else ""
        frm = t.name + (f" AS {alias}" if alias else "")
        sql = f"SELECT {distinct}{sel} FROM {frm}"
        if r.random() < 0.6:
            sql += f" WHERE {g.gen('bool').sql}"
        ordered = False
        if r.random() < 0.55:
            ordered = True
            sql += order_clause(r, n, names if sel != "*" else None)
            sql += limit_clause(r, g.risky)
        elif r.random() < 0.2 and not distinct:
            # an order that is not total: compared as a multiset, no LIMIT
            sql += f" ORDER BY {g.gen(r.choice(FAMILIES)).sql}"
        return Case(sql, ordered=ordered, loose=bool(distinct))

    # -- joins --------------------------------------------------------------------------------

    def _on(self, left: list[Ref], right: list[Ref], kind: str) -> str | None:
        r = self.r
        pairs = [(a, b) for a in left for b in right if family(a.kind) == family(b.kind)
                 and family(a.kind) != "bool"]
        if not pairs:
            return None
        a, b = r.choice(pairs)
        conds = [f"{a.sql} = {b.sql}"]
        if r.random() < 0.3:
            a2, b2 = r.choice(pairs)
            op = "=" if kind == "FULL" else r.choice(["=", "<", ">=", "<>"])
            conds.append(f"{a2.sql} {op} {b2.sql}")
        if kind != "FULL" and r.random() < 0.2:
            a2, b2 = r.choice(pairs)
            conds = [f"{a2.sql} {r.choice(['<', '<=', '>', '<>'])} {b2.sql}"]
        return " AND ".join(conds)

    def _join(self) -> Case:
        r = self.r
        t1, t2 = self.table(), self.table()
        left, right = refs(t1, "a"), refs(t2, "b")
        kind = r.choice(["INNER", "LEFT", "RIGHT", "FULL", "CROSS", "JOIN", "LEFT OUTER",
                         "comma"])
        on = self._on(left, right, kind.split()[0])
        if on is None and kind not in ("CROSS", "comma"):
            kind = "CROSS"
        if kind == "comma":
            frm = f"{t1.name} a, {t2.name} b"
        elif kind == "CROSS":
            frm = f"{t1.name} a CROSS JOIN {t2.name} b"
        elif kind == "JOIN":
            frm = f"{t1.name} a JOIN {t2.name} b ON {on}"
        else:
            frm = f"{t1.name} a {kind} JOIN {t2.name} b ON {on}"
        scope = left + right
        if len(self.s.tables) > 2 and r.random() < 0.25:
            t3 = self.table()
            third = refs(t3, "c")
            # after a comma only the right-hand table is visible to ON (else 42P01)
            on3 = self._on(right if kind == "comma" else left + right, third, "LEFT")
            if on3 is not None:
                frm += f" {r.choice(['JOIN', 'LEFT JOIN'])} {t3.name} c ON {on3}"
                scope += third
        g = ExprGen(r, scope, risky=False)
        items, names = select_items(g, r, r.randint(1, 4))
        sql = f"SELECT {render_items(items, names, r)} FROM {frm}"
        if r.random() < 0.5:
            sql += f" WHERE {g.gen('bool').sql}"
        ordered = r.random() < 0.4
        if ordered:
            sql += order_clause(r, len(items), names) + limit_clause(r)
        return Case(sql, ordered=ordered)

    # -- aggregation --------------------------------------------------------------------------

    def _agg(self, g: ExprGen, scope: list[Ref]) -> str:
        a = self._agg_call(g, scope)
        if self.r.random() < 0.1:
            a += f" FILTER (WHERE {g.gen('bool').sql})"
        return a

    def _agg_call(self, g: ExprGen, scope: list[Ref]) -> str:
        r = self.r
        x = r.random()
        nums = [c for c in scope if family(c.kind) == "num"]
        texts = [c for c in scope if family(c.kind) == "text"]
        bools = [c for c in scope if c.kind == "bool"]
        if x < 0.15:
            return "count(*)"
        if x < 0.25:
            return f"count({r.choice(scope).sql})"
        if x < 0.32:
            return f"count(DISTINCT {r.choice(scope).sql})"
        if x < 0.55 and nums:
            c = r.choice(nums)
            f = r.choice(["sum", "avg", "sum", "avg", "min", "max"])
            arg = c.sql
            if r.random() < 0.25:
                arg = f"{c.sql}::numeric * 2" if c.kind in INT_KINDS else f"{c.sql} + 1"
            dist = "DISTINCT " if r.random() < 0.15 else ""
            return f"{f}({dist}{arg})"
        if x < 0.7:
            c = r.choice([c for c in scope if family(c.kind) != "bool"] or scope)
            return f"{r.choice(['min', 'max'])}({c.sql})"
        if x < 0.78 and bools:
            return f"{r.choice(['bool_and', 'bool_or'])}({r.choice(bools).sql})"
        if x < 0.84:
            return f"{r.choice(['bool_and', 'bool_or'])}({g.gen('bool').sql})"
        if x < 0.95 and texts:
            c = r.choice(texts)
            d = r.choice(["", " DESC"])
            sep = quote(r.choice([",", "", " | "]))
            dist = "DISTINCT " if r.random() < 0.2 else ""
            return f"string_agg({dist}{c.sql}, {sep} ORDER BY {c.sql}{d})"
        return "count(*)"

    def _group(self) -> Case:
        r = self.r
        if r.random() < 0.75:
            t = self.table()
            scope = refs(t)
            frm = t.name
        else:
            t1, t2 = self.table(), self.table()
            left, right = refs(t1, "a"), refs(t2, "b")
            on = self._on(left, right, "INNER")
            scope = left + right
            kind = r.choice(["JOIN", "LEFT JOIN"])
            frm = (f"{t1.name} a {kind} {t2.name} b ON {on}" if on
                   else f"{t1.name} a CROSS JOIN {t2.name} b")
        g = ExprGen(r, scope, risky=False, max_depth=2)
        nkeys = r.choice([0, 1, 1, 2, 2, 3])
        keys: list[str] = []
        for _ in range(nkeys):
            if r.random() < 0.75:
                keys.append(r.choice(scope).sql)
            else:
                keys.append(g.gen(r.choice(FAMILIES)).sql)
        keys = list(dict.fromkeys(keys))
        aggs = [self._agg(g, scope) for _ in range(r.randint(1, 3))]
        items = keys + aggs
        names = [f"x{i}" for i in range(len(items))]
        sel = ", ".join(f"{e} AS {n}" for e, n in zip(items, names, strict=True))
        sql = f"SELECT {sel} FROM {frm}"
        if r.random() < 0.4:
            sql += f" WHERE {g.gen('bool').sql}"
        if keys:
            if r.random() < 0.3:
                sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(keys)))
            else:
                sql += " GROUP BY " + ", ".join(keys)
        if r.random() < 0.35:
            agg = self._agg(g, scope)
            op = r.choice([">", "<", ">=", "=", "<>"])
            if agg.startswith(("count", "sum", "avg", "min", "max")) and not agg.startswith(
                    ("min", "max")):
                sql += f" HAVING {agg} {op} {r.randint(0, 5)}"
            else:
                sql += f" HAVING {agg} IS NOT NULL"
        ordered = r.random() < 0.6
        if ordered:
            sql += order_clause(r, len(items), names) + limit_clause(r)
        return Case(sql, ordered=ordered, loose=True)

    # -- subqueries ---------------------------------------------------------------------------

    def _subquery(self) -> Case:
        r = self.r
        t, u = self.table(), self.table()
        scope = refs(t)
        inner = refs(u)
        g = ExprGen(r, scope, risky=False, max_depth=2)
        gi = ExprGen(r, inner, risky=False, max_depth=2)
        items, names = select_items(g, r, r.randint(1, 3))
        x = r.random()
        where = ""
        extra_item = ""
        if x < 0.35:
            fam = r.choice(["num", "num", "text", "time"])
            a = g.gen(fam)
            cands = [c for c in inner if family(c.kind) == fam]
            b = r.choice(cands).sql if cands else gi.gen(fam).sql
            iw = f" WHERE {gi.gen('bool').sql}" if r.random() < 0.5 else ""
            neg = "NOT " if r.random() < 0.35 else ""
            where = f" WHERE {a.sql} {neg}IN (SELECT {b} FROM {u.name}{iw})"
        elif x < 0.55:
            iw = f" WHERE {gi.gen('bool').sql}"
            neg = "NOT " if r.random() < 0.4 else ""
            where = f" WHERE {neg}EXISTS (SELECT 1 FROM {u.name}{iw})"
            if r.random() < 0.5:
                where += f" AND {g.gen('bool').sql}"
        elif x < 0.8:
            c = r.choice(inner)
            f = r.choice(["max", "min", "count"])
            sub = f"(SELECT {f}({c.sql}) FROM {u.name})"
            if family(c.kind) == "num" and r.random() < 0.5:
                a = g.gen("num")
                where = f" WHERE {a.sql} {r.choice(['<', '>=', '='])} {sub}"
            else:
                extra_item = f", {sub} AS sq"
        else:
            c = r.choice(inner)
            # a scalar subquery that may return several rows: 21000 when it does
            sub = (f"(SELECT {c.sql} FROM {u.name} WHERE {gi.gen('bool').sql}"
                   f" ORDER BY 1 LIMIT {r.randint(1, 2)})")
            extra_item = f", {sub} AS sq"
        sql = f"SELECT {render_items(items, names, r)}{extra_item} FROM {t.name}{where}"
        n = len(items) + (1 if extra_item else 0)
        ordered = r.random() < 0.5
        if ordered:
            sql += order_clause(r, n, names if not extra_item else None)
        return Case(sql, ordered=ordered)

    def _from_fn(self) -> Case:
        """generate_series / VALUES in FROM, joined to a table or alone."""
        r = self.r
        if r.random() < 0.5:
            lo, hi = r.randint(-3, 3), r.randint(-2, 8)
            step = r.choice(["", "", ", 2", ", -1"])
            src = f"generate_series({lo}, {hi}{step}) AS g(v)"
            scope = [Ref("g.v", "int4", False)]
        else:
            rows = [f"({r.randint(-3, 9)}, {quote(r.choice(['a', 'b', 'zz', '']))})"
                    for _ in range(r.randint(1, 5))]
            src = f"(VALUES {', '.join(rows)}) AS g(v, w)"
            scope = [Ref("g.v", "int4", False), Ref("g.w", "text", False)]
        frm = src
        if r.random() < 0.5:
            t = self.table()
            tr = refs(t, "a")
            ints = [c for c in tr if family(c.kind) == "num"]
            if ints:
                frm += f" {r.choice(['JOIN', 'LEFT JOIN'])} {t.name} a ON {ints[0].sql} = g.v"
                scope = scope + tr
        g = ExprGen(r, scope, risky=False, max_depth=2)
        items, names = select_items(g, r, r.randint(1, 3))
        sql = f"SELECT {render_items(items, names, r)} FROM {frm}"
        if r.random() < 0.4:
            sql += f" WHERE {g.gen('bool').sql}"
        ordered = r.random() < 0.5
        if ordered:
            sql += order_clause(r, len(items), names) + limit_clause(r)
        return Case(sql, ordered=ordered)

    def _correlated(self) -> Case:
        """EXISTS / IN / scalar subqueries that refer to the outer row (pending in dsql)."""
        r = self.r
        t, u = self.table(), self.table()
        outer, inner = refs(t, "o"), refs(u, "i")
        pairs = [(a, b) for a in outer for b in inner if family(a.kind) == family(b.kind)
                 and family(a.kind) != "bool"]
        if not pairs:
            return self._subquery()
        a, b = r.choice(pairs)
        corr = f"{b.sql} {r.choice(['=', '<', '<>', '>='])} {a.sql}"
        g = ExprGen(r, outer, risky=False, max_depth=2)
        items, names = select_items(g, r, r.randint(1, 3))
        x = r.random()
        where = ""
        extra = ""
        if x < 0.4:
            neg = "NOT " if r.random() < 0.3 else ""
            where = f" WHERE {neg}EXISTS (SELECT 1 FROM {u.name} i WHERE {corr})"
        elif x < 0.7:
            c = r.choice(inner)
            f = r.choice(["max", "min", "count"])
            extra = f", (SELECT {f}({c.sql}) FROM {u.name} i WHERE {corr}) AS sq"
        else:
            a2, b2 = r.choice(pairs)
            where = f" WHERE {a2.sql} IN (SELECT {b2.sql} FROM {u.name} i WHERE {corr})"
        sql = f"SELECT {render_items(items, names, r)}{extra} FROM {t.name} o{where}"
        return Case(sql)

    def _using(self) -> Case:
        """JOIN ... USING on the key column both tables have (pending in dsql)."""
        r = self.r
        t1, t2 = self.table(), self.table()
        kind = r.choice(["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"])
        if family(t1.column("k0").kind) != family(t2.column("k0").kind):
            return self._join()
        sel = r.choice(["*", "k0", "k0, count(*)"])
        sql = f"SELECT {sel} FROM {t1.name} a {kind} {t2.name} b USING (k0)"
        if "count" in sel:
            sql += " GROUP BY k0"
        return Case(sql)

    def _cte(self) -> Case:
        """WITH queries (pending in dsql)."""
        r = self.r
        t = self.table()
        g = ExprGen(r, refs(t), risky=False, max_depth=2)
        items, names = select_items(g, r, r.randint(1, 3))
        inner = f"SELECT {render_items(items, names, r)} FROM {t.name}"
        if r.random() < 0.5:
            inner += f" WHERE {g.gen('bool').sql}"
        scope = [Ref(f"w.{n}", e.kind) for e, n in zip(items, names, strict=True)]
        go = ExprGen(r, scope, risky=False, max_depth=2)
        oitems, onames = select_items(go, r, r.randint(1, 2))
        sql = f"WITH w AS ({inner}) SELECT {render_items(oitems, onames, r)} FROM w"
        if r.random() < 0.5:
            sql += f" WHERE {go.gen('bool').sql}"
        return Case(sql)

    def _derived(self) -> Case:
        r = self.r
        t = self.table()
        g = ExprGen(r, refs(t), risky=False, max_depth=2)
        items, names = select_items(g, r, r.randint(1, 3))
        inner = f"SELECT {render_items(items, names, r)} FROM {t.name}"
        if r.random() < 0.5:
            inner += f" WHERE {g.gen('bool').sql}"
        if r.random() < 0.3:
            inner += order_clause(r, len(items), names) + f" LIMIT {r.randint(1, 8)}"
        outer_scope = [Ref(f"d.{n}", e.kind) for e, n in zip(items, names, strict=True)]
        go = ExprGen(r, outer_scope, risky=False, max_depth=2)
        oitems, onames = select_items(go, r, r.randint(1, 3))
        sql = f"SELECT {render_items(oitems, onames, r)} FROM ({inner}) AS d"
        if r.random() < 0.5:
            sql += f" WHERE {go.gen('bool').sql}"
        ordered = r.random() < 0.5
        if ordered:
            sql += order_clause(r, len(oitems), onames)
        return Case(sql, ordered=ordered)

    # -- set operations -----------------------------------------------------------------------

    def _setop(self) -> Case:
        r = self.r
        n = r.randint(1, 3)
        fams = [r.choice(["num", "num", "text", "time", "bool", "interval"]) for _ in range(n)]
        parts = []
        nparts = r.choice([2, 2, 2, 3])
        # at most one branch gets an extra column (42601); two would agree again
        extra = r.randrange(nparts) if r.random() < 0.08 else None
        for k in range(nparts):
            t = self.table()
            g = ExprGen(r, refs(t), risky=False, max_depth=1)
            items = [g.gen(f) for f in fams]
            if k == extra:
                items.append(g.gen("num"))  # column-count mismatch: 42601
            part = f"SELECT {', '.join(e.sql for e in items)} FROM {t.name}"
            if r.random() < 0.5:
                part += f" WHERE {g.gen('bool').sql}"
            parts.append(part)
        sql = parts[0]
        for p in parts[1:]:
            op = r.choice(["UNION", "INTERSECT", "EXCEPT", "UNION"])
            sql += f" {op}{r.choice(['', ' ALL'])} {p}"
        ordered = r.random() < 0.5
        if ordered:
            sql += order_clause(r, n)
        return Case(sql, ordered=ordered, loose=True)

    # -- DML ----------------------------------------------------------------------------------

    def _dml(self) -> Case:
        r = self.r
        t = self.table()
        kind = r.choice(["insert_values", "insert_select", "update", "update", "delete"])
        g = ExprGen(r, refs(t), risky=r.random() < 0.3, max_depth=2)
        if kind == "insert_values":
            rows = []
            for _ in range(r.randint(1, 3)):
                vals = []
                for c in t.columns:
                    if not c.not_null and r.random() < 0.15 or r.random() < 0.02:
                        vals.append("NULL")
                    else:
                        vals.append(gen_value(c.kind, c.sql_type, r, small=c.name in t.pk))
                rows.append("(" + ", ".join(vals) + ")")
            cols = ", ".join(c.name for c in t.columns)
            sql = f"INSERT INTO {t.name} ({cols}) VALUES {', '.join(rows)}"
            x = r.random()
            nonkey = [c for c in t.columns if c.name not in t.pk]
            if x < 0.2:
                sql += f" ON CONFLICT ({', '.join(t.pk)}) DO NOTHING"
            elif x < 0.4 and nonkey:
                # two rows with one key: PostgreSQL raises 21000 (cannot affect row twice)
                c = r.choice(nonkey)
                sql += (f" ON CONFLICT ({', '.join(t.pk)}) DO UPDATE SET {c.name} = "
                        f"EXCLUDED.{c.name}")
                if r.random() < 0.4:
                    sql += f" WHERE {t.name}.{c.name} IS NOT DISTINCT FROM EXCLUDED.{c.name}"
        elif kind == "insert_select":
            src = self.table()
            gs = ExprGen(r, refs(src), risky=False, max_depth=1)
            vals = []
            for c in t.columns:
                if c.name in t.pk and src is t:
                    # new keys, all distinct: a duplicate would raise 23505 at a point that
                    # depends on evaluation order (PostgreSQL goes row by row; recorded)
                    shift = {"text": f"{c.name} || '#'", "varchar": f"{c.name} || '#'",
                             "date": f"{c.name} + 5000"}.get(c.kind, f"{c.name} + 100")
                    vals.append(shift)
                elif c.name in t.pk and c.kind in INT_KINDS and r.random() < 0.8:
                    vals.append(f"{r.randint(1000, 2000)} + {r.randint(0, 5)}")
                elif r.random() < 0.5 and src is t:
                    vals.append(c.name)
                else:
                    fam = family(c.kind)
                    if fam == "num" and r.random() < 0.1:
                        # a text value for a number: 42804 (a bare literal would be read by
                        # the column's input function in PostgreSQL; recorded separately)
                        vals.append(f"({gs.gen('text').sql})::text")
                    else:
                        vals.append(gs.gen(fam).sql)
            sql = (f"INSERT INTO {t.name} ({', '.join(c.name for c in t.columns)}) "
                   f"SELECT {', '.join(vals)} FROM {src.name}")
            if r.random() < 0.6:
                sql += f" WHERE {gs.gen('bool').sql}"
            if src is not t:
                # constant keys: one row, or the second would be a duplicate (PostgreSQL
                # checks row by row, dsql after evaluating all rows: recorded separately)
                sql += f" ORDER BY {src.order_by_all()} LIMIT 1"
        elif kind == "update":
            sets = []
            cols = r.sample(t.columns, min(len(t.columns), r.randint(1, 2)))
            for c in cols:
                if c.name in t.pk:
                    if c.kind in INT_KINDS:
                        sets.append(f"{c.name} = {c.name} + 1000")
                    elif family(c.kind) == "text":
                        sets.append(f"{c.name} = {c.name} || '#'")
                    continue
                fam = family(c.kind)
                if r.random() < 0.05:
                    fam = r.choice(FAMILIES)  # a mismatch: assignment cast or 42804
                sets.append(f"{c.name} = {g.gen(fam).sql}")
            if not sets:
                sets.append(f"{t.columns[-1].name} = {t.columns[-1].name}")
            sql = f"UPDATE {t.name} SET {', '.join(sets)}"
            if r.random() < 0.7:
                sql += f" WHERE {g.gen('bool').sql}"
        else:
            sql = f"DELETE FROM {t.name}"
            x = r.random()
            if x < 0.2:
                u = self.table()
                pairs = [(a, b) for a in t.columns for b in u.columns
                         if family(a.kind) == family(b.kind) and family(a.kind) != "bool"]
                if pairs:
                    a, b = r.choice(pairs)
                    sql += f" WHERE {a.name} {r.choice(['', 'NOT '])}IN (SELECT {b.name} " \
                           f"FROM {u.name})"
            elif x < 0.9:
                sql += f" WHERE {g.gen('bool').sql}"
        if r.random() < 0.4:
            if r.random() < 0.5:
                sql += " RETURNING *"
            else:
                gr = ExprGen(r, refs(t), risky=False, max_depth=1)
                sql += " RETURNING " + ", ".join(gr.gen(r.choice(FAMILIES)).sql
                                                 for _ in range(r.randint(1, 2)))
        tables = [(x.name, x.order_by_all()) for x in self.s.tables]
        return Case(sql, dml=True, tables=tables)

    # -- statements to reject -----------------------------------------------------------------

    def _reject(self) -> Case:
        r = self.r
        t = self.table()
        u = self.table()
        g = ExprGen(r, refs(t), risky=False, max_depth=1)
        c = r.choice(t.columns).name
        cu = r.choice(u.columns).name
        forms = [
            f"SELECT nosuch FROM {t.name}",
            f"SELECT {c} FROM nosuch_table",
            f"SELECT {c} FROM {t.name} WHERE",
            f"SELECT {c} FROM {t.name} WHERE {c} =",
            f"SELEC {c} FROM {t.name}",
            f"SELECT {c} FROM {t.name} ORDER BY 9",
            f"SELECT {c}, count(*) FROM {t.name}",
            f"SELECT {c} FROM {t.name} WHERE count(*) > 1",
            f"SELECT {c} FROM {t.name} a, {u.name} b",
            f"SELECT a.{c} FROM {t.name} a JOIN {u.name} b ON k0 = k0",
            f"SELECT {g.gen('text').sql} + {g.gen('num').sql} FROM {t.name}",
            f"SELECT nosuch_fn({c}) FROM {t.name}",
            f"SELECT {c} FROM {t.name} UNION SELECT {c}, {c} FROM {t.name}",
            f"SELECT DISTINCT {c} FROM {t.name} ORDER BY {g.gen('num').sql}",
            f"SELECT {c} FROM {t.name} GROUP BY nosuch",
            f"SELECT sum({g.gen('text').sql}) FROM {t.name}",
            f"SELECT {g.gen('bool').sql} AND {g.gen('num').sql} FROM {t.name}",
            f"INSERT INTO {t.name} ({c}, {c}) VALUES (1, 1)",
            f"INSERT INTO {t.name} (nosuch) VALUES (1)",
            f"UPDATE {t.name} SET nosuch = 1",
            "DELETE FROM nosuch_table",
            f"SELECT * FROM {t.name} LIMIT -1",
            f"SELECT CASE WHEN true THEN 1 ELSE 'x'::text END FROM {t.name}",
            f"SELECT {c} FROM {t.name} WHERE {g.gen('num').sql}",
            f"SELECT {c} FROM {t.name} WHERE (SELECT {cu}, {cu} FROM {u.name}) IS NULL",
            f"SELECT 'abc'::int4 FROM {t.name}",
            f"SELECT {quote('2024-13-01')}::date FROM {t.name}",
            f"SELECT {c} FROM {t.name} t JOIN {u.name} t ON true",
        ]
        sql = r.choice(forms)
        if sql.startswith(("INSERT", "UPDATE", "DELETE")):
            tables = [(x.name, x.order_by_all()) for x in self.s.tables]
            return Case(sql, dml=True, tables=tables)
        return Case(sql)


def gen_case(schema: Schema, r: random.Random, pending: bool = False) -> Case:
    return QueryGen(schema, r, pending).case()

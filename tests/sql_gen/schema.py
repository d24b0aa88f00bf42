"""Generated tables: typed columns, keys, indexes and rows, as SQL both engines run.

A Schema is plain data; `ddl()` and `inserts()` give the statements that create it. Values
are SQL literals drawn from small pools (so joins match and GROUP BY finds duplicates), with
NULLs, negatives and a few extremes (type bounds, 1e300, NaN/Infinity) that make arithmetic
overflow. Choices that would make the comparison ill-defined are avoided on purpose:
  1. float8 values are multiples of 1/8 (plus the rare extreme), so sums are exact whatever
     the order rows are added in;
  2. intervals keep days < 30 and hours < 24, so two intervals that compare equal print alike
     ('1 mon' = '30 days' would sort as ties yet print differently);
  3. text is ASCII plus one non-ASCII letter; the PostgreSQL cluster uses C.UTF-8 (code point
     order), which is dsql's order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# kind -> SQL type name used in CREATE TABLE
KINDS = ["int2", "int4", "int8", "numeric", "float8", "text", "varchar", "bool", "date",
         "timestamp", "timestamptz", "interval"]
NUMERIC_KINDS = {"int2", "int4", "int8", "numeric", "float8"}
INT_KINDS = {"int2", "int4", "int8"}
TEXT_KINDS = {"text", "varchar"}
KEY_KINDS = ["int4", "int8", "int2", "text", "date", "int4", "int4"]

TEXTS = ["a", "b", "ab", "abc", "Abc", "b%c", "a_c", "x y", "", "zz", "it's", "é", "a b c",
         "10", "-1", "B"]
BOUNDS = {"int2": 2**15, "int4": 2**31, "int8": 2**63}


def family(kind: str) -> str:
    """The comparison family: kinds within one family compare and combine."""
    if kind in NUMERIC_KINDS:
        return "num"
    if kind in TEXT_KINDS:
        return "text"
    if kind in ("date", "timestamp", "timestamptz"):
        return "time"
    return kind


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    sql_type: str  # e.g. "numeric(10,2)", "varchar(8)"
    not_null: bool = False


@dataclass
class Table:
    name: str
    columns: list[Column]
    pk: list[str]
    indexes: list[list[str]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def order_by_all(self) -> str:
        """An ORDER BY that is total over the table's rows (the key first, then the rest)."""
        names = self.pk + [c.name for c in self.columns if c.name not in self.pk]
        return ", ".join(names)


@dataclass
class Schema:
    tables: list[Table]

    def ddl(self) -> list[str]:
        out = []
        for t in self.tables:
            cols = []
            for c in t.columns:
                cols.append(f"{c.name} {c.sql_type}" + (" NOT NULL" if c.not_null else ""))
            cols.append(f"PRIMARY KEY ({', '.join(t.pk)})")
            out.append(f"CREATE TABLE {t.name} ({', '.join(cols)})")
            for i, ix in enumerate(t.indexes):
                out.append(f"CREATE INDEX {t.name}_ix{i} ON {t.name} ({', '.join(ix)})")
        return out

    def inserts(self) -> list[str]:
        out = []
        for t in self.tables:
            if not t.rows:
                continue
            names = ", ".join(c.name for c in t.columns)
            vals = ", ".join("(" + ", ".join("NULL" if v is None else v for v in row) + ")"
                             for row in t.rows)
            out.append(f"INSERT INTO {t.name} ({names}) VALUES {vals}")
        return out

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_type(kind: str, r: random.Random) -> str:
    if kind == "numeric":
        return r.choice(["numeric(10,2)", "numeric(12,3)", "numeric"])
    if kind == "varchar":
        return r.choice(["varchar(8)", "varchar(20)", "varchar"])
    return kind


def gen_value(kind: str, sql_type_text: str, r: random.Random, small: bool = False) -> str:
    """A literal of `kind`; `small` keeps to the pools (no extremes), for keys."""
    x = r.random()
    if kind in INT_KINDS:
        if not small and x < 0.06:
            b = BOUNDS[kind]
            return str(r.choice([b - 1, -b, b // 2 + 7, -(b // 3)]))
        return str(r.randint(-5, 12))
    if kind == "numeric":
        scale = 3 if "12,3" in sql_type_text else 2
        if not small and x < 0.05:
            return r.choice(["99999999.99", "-12345678.5"])
        k = r.randint(-400, 1200)
        if sql_type_text == "numeric":
            # unconstrained: the scale varies with the value but one value has one text
            scale = 2 + k % 3
        return f"{k / 4:.{scale}f}"
    if kind == "float8":
        if not small and x < 0.05:
            return r.choice(["1e300", "-1e300", "'NaN'", "'Infinity'", "'-Infinity'", "2.5e-310"])
        return repr(r.randint(-200, 400) / 8)
    if kind in TEXT_KINDS:
        s = r.choice(TEXTS)
        if sql_type_text == "varchar(8)":
            s = s[:8]
        return quote(s)
    if kind == "bool":
        return r.choice(["true", "false"])
    if kind == "date":
        return quote(f"{r.choice([1999, 2000, 2024, 2024, 2024])}-"
                     f"{r.randint(1, 12):02d}-{r.randint(1, 28):02d}")
    if kind == "timestamp":
        return quote(f"2024-{r.randint(1, 3):02d}-{r.randint(1, 28):02d} "
                     f"{r.randint(0, 23):02d}:{r.choice([0, 15, 30, 59]):02d}:00"
                     + r.choice(["", "", ".5", ".123456"]))
    if kind == "timestamptz":
        return quote(f"2024-{r.randint(1, 3):02d}-{r.randint(1, 28):02d} "
                     f"{r.randint(0, 23):02d}:{r.choice([0, 30]):02d}:00"
                     + r.choice(["+00", "+02", "-05:30", ""]))
    if kind == "interval":
        parts = []
        if r.random() < 0.3:
            parts.append(f"{r.randint(-2, 14)} mons")
        if r.random() < 0.6:
            parts.append(f"{r.randint(-3, 29)} days")
        if r.random() < 0.5 or not parts:
            parts.append(f"{r.randint(0, 23):02d}:{r.choice([0, 30]):02d}:00")
        return quote(" ".join(parts))
    raise AssertionError(kind)


def gen_table(name: str, r: random.Random) -> Table:
    ncols = r.randint(3, 6)
    npk = 1 if r.random() < 0.7 else 2
    columns: list[Column] = []
    for i in range(npk):
        kind = r.choice(KEY_KINDS)
        columns.append(Column(f"k{i}", kind, sql_type(kind, r), not_null=True))
    for i in range(ncols - npk):
        kind = r.choice(KINDS)
        columns.append(Column(f"c{i}", kind, sql_type(kind, r), not_null=r.random() < 0.15))
    pk = [c.name for c in columns[:npk]]
    t = Table(name, columns, pk)
    nonkey = [c.name for c in columns[npk:]]
    if nonkey and r.random() < 0.5:
        t.indexes.append(r.sample(nonkey, min(len(nonkey), r.randint(1, 2))))
    nrows = r.choice([0, 3, 8, 12, 15, 20, 25])
    seen: set[tuple[str, ...]] = set()
    for _ in range(nrows * 3):
        if len(t.rows) >= nrows:
            break
        key = tuple(gen_value(c.kind, c.sql_type, r, small=True) for c in columns[:npk])
        if key in seen:
            continue
        seen.add(key)
        row: list[str | None] = list(key)
        for c in columns[npk:]:
            null = not c.not_null and r.random() < 0.18
            row.append(None if null else gen_value(c.kind, c.sql_type, r))
        t.rows.append(row)
    assert len(seen) == len(t.rows)
    # insert in key order: PostgreSQL's heap order then matches dsql's key order, so scans
    # meet rows (and the first row-dependent error) in the same order
    t.rows.sort(key=lambda row: tuple(_sort_key(columns[i].kind, row[i]) for i in range(npk)))
    return t


def _sort_key(kind: str, literal: str | None) -> tuple[int, object]:
    assert literal is not None, "key columns are never NULL"
    if kind in INT_KINDS:
        return (0, int(literal))
    assert literal.startswith("'") and literal.endswith("'"), literal
    return (1, literal[1:-1].replace("''", "'"))


def gen_schema(r: random.Random) -> Schema:
    n = r.randint(2, 4)
    tables = [gen_table(f"t{i}", r) for i in range(n)]
    assert 2 <= len(tables) <= 4
    return Schema(tables)

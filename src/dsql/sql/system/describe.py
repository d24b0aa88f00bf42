"""The text pg_get_indexdef(), pg_get_constraintdef() and friends give for catalog objects.

    pg_get_indexdef(16390)       -> 'CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id)'
    pg_get_constraintdef(oid)    -> 'PRIMARY KEY (id)' | 'UNIQUE (a, b)' | 'CHECK ((v > 0))'
"""

from __future__ import annotations

from dsql.catalog.objects import Catalog
from dsql.sql.system import oids
from dsql.sql.system.relations import (
    CHECK_OID_BASE,
    CONSTRAINT_OID_BASE,
    _quote_ident,
    index_columns,
    relation_by_oid,
)


def index_def(cat: Catalog, oid: int, column: int = 0) -> str | None:
    rel = relation_by_oid(cat, oid)
    if rel is None or rel.kind != "i" or rel.table is None:
        return None
    t = rel.table
    keys = index_columns(cat, rel)
    parts = []
    for n, attnum in enumerate(keys):
        part = _quote_ident(t.columns[attnum - 1].name)
        if rel.index is not None:
            ic = rel.index.columns[n]
            if ic.descending:
                part += " DESC"
                if not ic.nulls_first:
                    part += " NULLS LAST"
            elif ic.nulls_first:
                part += " NULLS FIRST"
        parts.append(part)
    if column > 0:
        return parts[column - 1].split(" ")[0] if column <= len(parts) else ""
    unique = rel.index is None or rel.index.unique
    return (f"CREATE {'UNIQUE ' if unique else ''}INDEX {_quote_ident(rel.name)} ON "
            f"{_quote_ident(t.schema)}.{_quote_ident(t.name)} USING btree ({', '.join(parts)})")


def constraint_def(cat: Catalog, oid: int) -> str | None:
    oid = int(oid)
    if oid >= CHECK_OID_BASE:
        rest = oid - CHECK_OID_BASE
        t = cat.tables.get(rest >> 8)
        if t is None or (rest & 0xFF) >= len(t.checks):
            return None
        return f"CHECK (({t.checks[rest & 0xFF].sql}))"
    if oid >= CONSTRAINT_OID_BASE:
        rel = relation_by_oid(cat, oid - CONSTRAINT_OID_BASE)
        if rel is None or rel.table is None:
            return None
        t = rel.table
        if rel.kind == "r":
            cols = [t.columns[t.position(c)].name for c in t.pk]
            return f"PRIMARY KEY ({', '.join(map(_quote_ident, cols))})"
        if rel.index is not None:
            cols = [t.columns[n - 1].name for n in index_columns(cat, rel)]
            return f"UNIQUE ({', '.join(map(_quote_ident, cols))})"
    return None


_ = oids

"""Names in statements: identifiers, qualified table names and type names from sqlglot nodes."""

from __future__ import annotations

import re

from sqlglot import exp

from dsql.errors import FeatureNotSupported
from dsql.sql.types import registry as r
from dsql.sql.types.registry import SqlType

_TYPE_TEXT = re.compile(r"^\s*([A-Za-z_][A-Za-z_0-9 ]*?)\s*(?:\(([^)]*)\))?\s*(\[\])?\s*"
                        r"(WITH(?:OUT)? TIME ZONE)?\s*$", re.IGNORECASE)
_SQLGLOT_NAMES = {"int": "integer", "double precision": "double precision",
                  "double": "double precision", "decimal": "numeric", "timestamptz":
                  "timestamptz", "char": "char", "smallint": "smallint", "bigint": "bigint"}


def sqltype_of(dt: exp.Expression) -> SqlType:
    """The SqlType a sqlglot DataType denotes ('INT', 'VARCHAR(10)', 'NUMERIC(5, 2)', ...)."""
    text = dt.sql(dialect="postgres")
    text = re.sub(r'(?i)(^|\s)"?pg_catalog"?\.', r"\1", text)
    if text.strip() in ('"char"', "\"char\"[]"):
        from dsql.sql.system.types import CHAR, CHAR_ARRAY
        return CHAR if not text.strip().endswith("[]") else CHAR_ARRAY
    m = _TYPE_TEXT.match(text)
    if m is None:
        raise FeatureNotSupported(f'type "{text}" is not supported')
    name = m.group(1).strip().lower()
    mods = [int(x) for x in m.group(2).split(",")] if m.group(2) else []
    if m.group(4):
        name = f"{name} {m.group(4).lower()}"
    name = _SQLGLOT_NAMES.get(name, name)
    if m.group(3):
        from dsql.sql.system.types import array_type_of
        at = array_type_of(r.lookup_type(name, mods))
        if at is None:
            raise FeatureNotSupported(f"array type {name}[] is not supported")
        return at
    return r.lookup_type(name, mods)


def table_parts(t: exp.Table, default_schema: str) -> tuple[str, str]:
    """(schema, name) of a table reference; identifiers are already case-folded by sqlglot's
    normalisation in the parser step (unquoted -> lower case)."""
    return (t.db or default_schema), t.name

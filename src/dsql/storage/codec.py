"""The key and row codecs: SQL values <-> byte strings, in batches.

Keys (:class:`KeyLayout`) compare bytewise in PostgreSQL's order of the values they hold, so an
ordered byte store serves ``ORDER BY`` and range scans directly; rows (:class:`RowLayout`) are a
compact tuple of the non-key columns. The byte formats are written out in docs/encodings.md.

Both layouts are compiled once and then convert whole batches in one C loop
(``encode_many`` / ``decode_many``); the single-value ``encode`` / ``decode`` exist for
convenience and cost one call each.

Column types use PostgreSQL's names (:data:`TYPE_NAMES`). Python values per type:

============================  ==========================================================
bool                          bool
int2, int4, int8              int (bool rejected); range-checked
float4, float8                float (or int); float4 rounds to single precision and
                              rejects overflow / underflow, as PostgreSQL's cast does
numeric                       decimal.Decimal (or int), incl. NaN and +-Infinity; within
                              PostgreSQL's limits (131072 digits before the point, 16383
                              after)
text, varchar, bpchar         str (UTF-8; C collation = code point order)
bytea                         bytes (bytearray and memoryview accepted)
date                          datetime.date, INFINITY, NEG_INFINITY
time                          naive datetime.time
timestamp                     naive datetime.datetime, INFINITY, NEG_INFINITY
timestamptz                   aware datetime.datetime (decoded in UTC), INFINITY,
                              NEG_INFINITY
interval                      dsql.storage.interval.Interval
uuid                          uuid.UUID
NULL                          None, in any column
============================  ==========================================================

What a key gives back is *equal* to what went in, in PostgreSQL's sense; rows give back
exactly what went in. Keys normalise: numeric drops trailing zeros (``1.50`` and ``1.5`` are one
key; decode gives the smallest scale >= 0, so ``1.5``, and ``1E+2`` comes back as ``100``);
bpchar drops trailing spaces (PostgreSQL ignores them); float ``-0.0`` becomes ``0.0`` and
every NaN one NaN; intervals stay exact (``'1 mon'`` and ``'30 days'`` are equal in PostgreSQL
but are adjacent, distinct keys). Timestamps are microseconds, as in PostgreSQL; values that
Python cannot hold (years outside 1..9999, ``24:00:00``) raise ValueError on decode.

Wrong Python types raise TypeError and out-of-range values ValueError, both naming the column
position (from 0) and type; bytes that are not a key or row of the layout raise
:class:`DecodeError` (a ValueError).

>>> keys = KeyLayout(7, [key_column("text"), key_column("int8", descending=True)])
>>> lo, hi = keys.prefix_bounds(("alice",))
>>> lo <= keys.encode(("alice", 5)) < hi
True
>>> keys.decode(keys.encode(("alice", 5)))
('alice', 5)
>>> rows = RowLayout(["int4", "text"])
>>> rows.decode_many(rows.encode_many([(1, "a"), (None, "b")]))
[(1, 'a'), (None, 'b')]
"""

from __future__ import annotations

from typing import Literal

from dsql._core.codec import MAX_KEY_PREFIX, TYPE_NAMES, DecodeError, KeyLayout, RowLayout
from dsql._core.codec import successor as key_successor
from dsql.storage.interval import Interval
from dsql.storage.values import INFINITY, NEG_INFINITY, InfiniteTime

__all__ = [
    "INFINITY",
    "MAX_KEY_PREFIX",
    "NEG_INFINITY",
    "TYPE_NAMES",
    "DecodeError",
    "InfiniteTime",
    "Interval",
    "KeyColumn",
    "KeyLayout",
    "RowLayout",
    "TypeName",
    "key_column",
    "key_successor",
]

TypeName = Literal[
    "bool", "int2", "int4", "int8", "float4", "float8", "numeric", "text", "varchar", "bpchar",
    "bytea", "date", "time", "timestamp", "timestamptz", "interval", "uuid",
]
# (type_name, descending, nulls_first), as KeyLayout takes its columns.
KeyColumn = tuple[str, bool, bool]


def key_column(type_name: TypeName, *, descending: bool = False,
               nulls_first: bool | None = None) -> KeyColumn:
    """One key column; NULL placement defaults to PostgreSQL's (last for ASC, first for DESC).

    >>> key_column("int4", descending=True)
    ('int4', True, True)
    """
    if type_name not in TYPE_NAMES:
        raise ValueError(f"unknown column type {type_name!r}; expected one of "
                         f"{', '.join(TYPE_NAMES)}")
    return (type_name, descending, descending if nulls_first is None else nulls_first)

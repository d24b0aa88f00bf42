"""Schema objects: the plain data the catalog holds, and its JSON form in the store.

A Catalog is immutable once built: DDL copies it (`Catalog.copy`), edits the copy and writes it
back with `version + 1`. Object ids (tables and indexes share one space) are the 4-byte key
prefixes of their rows in storage; ids are never reused, so rows of a dropped table can never
be read as rows of a later one.

Invariants:
  1. Every table, index and view id is >= FIRST_OBJECT_ID and < next_id (one id space).
  2. A table's `layouts[-1]` lists, in order, the ids of its current non-key columns; older
     layouts describe rows written before an ALTER TABLE and are kept for decoding them.
  3. A table's primary key lists column ids of NOT NULL columns; an empty primary key means a
     hidden int8 row id is the key.
  4. Every id in a view's `depends` is a live table or view (DROP ... CASCADE drops dependent
     views; RESTRICT refuses with 2BP01).
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from dsql.catalog.roles import RoleDef
from dsql.sql.types import registry as r
from dsql.sql.types.registry import SqlType

FIRST_OBJECT_ID = 16  # 0 .. 15: system key prefixes (0 holds the catalog itself)


@dataclass
class Column:
    id: int
    name: str
    type_oid: int
    typmod: int = -1
    not_null: bool = False
    default: str | None = None  # SQL text of the DEFAULT expression
    # the value rows written before this column existed read as (text output, None = NULL)
    missing: str | None = None

    @property
    def type(self) -> SqlType:
        return r.type_by_oid(self.type_oid, self.typmod)


@dataclass
class Check:
    name: str
    sql: str


@dataclass
class Table:
    id: int
    schema: str
    name: str
    columns: list[Column]
    pk: list[int]  # column ids; [] = hidden row id
    checks: list[Check] = field(default_factory=list)
    layouts: list[list[int]] = field(default_factory=list)
    next_column_id: int = 1
    dropped: list[Column] = field(default_factory=list)  # kept to decode old layouts
    # CREATE TABLE ... WITH (fillfactor=90): stored for pg_class.reloptions, no effect
    storage_params: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> Column | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    def position(self, column_id: int) -> int:
        for i, c in enumerate(self.columns):
            if c.id == column_id:
                return i
        raise KeyError(column_id)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class IndexColumn:
    column_id: int
    descending: bool = False
    nulls_first: bool = False


@dataclass
class Index:
    id: int
    schema: str
    name: str
    table_id: int
    columns: list[IndexColumn]
    unique: bool = False
    constraint: bool = False  # made by a UNIQUE constraint (error names it as a constraint)
    building: bool = False  # CREATE INDEX ASYNC still filling it: maintained, never read


@dataclass
class View:
    """A stored query (its `*` expanded at CREATE VIEW), read-only, bound again at each use."""

    id: int
    schema: str
    name: str
    sql: str  # the defining query, PostgreSQL dialect
    columns: list[str]  # output names, in order
    type_oids: list[int]
    typmods: list[int]
    depends: list[int] = field(default_factory=list)  # ids of the tables and views it reads


@dataclass
class Catalog:
    version: int = 0
    next_id: int = FIRST_OBJECT_ID
    schemas: list[str] = field(default_factory=lambda: ["public"])
    tables: dict[int, Table] = field(default_factory=dict)
    indexes: dict[int, Index] = field(default_factory=dict)
    roles: dict[str, RoleDef] = field(default_factory=dict)  # by name (catalog/roles.py)
    views: dict[int, View] = field(default_factory=dict)

    # -- lookups --------------------------------------------------------------------------------
    def find_table(self, schema: str, name: str) -> Table | None:
        for t in self.tables.values():
            if t.name == name and t.schema == schema:
                return t
        return None

    def find_index(self, schema: str, name: str) -> Index | None:
        for i in self.indexes.values():
            if i.name == name and i.schema == schema:
                return i
        return None

    def find_view(self, schema: str, name: str) -> View | None:
        for v in self.views.values():
            if v.name == name and v.schema == schema:
                return v
        return None

    def relation_exists(self, schema: str, name: str) -> bool:
        return self.find_table(schema, name) is not None or \
            self.find_index(schema, name) is not None or self.find_view(schema, name) is not None

    def table_indexes(self, table_id: int) -> list[Index]:
        return [i for i in self.indexes.values() if i.table_id == table_id]

    def allocate_id(self) -> int:
        i = self.next_id
        self.next_id += 1
        assert i >= FIRST_OBJECT_ID
        return i

    def copy(self) -> Catalog:
        return copy.deepcopy(self)

    # -- the stored form ------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        doc = {"version": self.version, "next_id": self.next_id, "schemas": self.schemas,
               "tables": [asdict(t) for t in self.tables.values()],
               "indexes": [asdict(i) for i in self.indexes.values()],
               "views": [asdict(v) for v in self.views.values()]}
        if self.roles:
            doc["roles"] = [asdict(ro) for ro in self.roles.values()]
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Catalog:
        doc: dict[str, Any] = json.loads(raw)
        tables = {}
        for t in doc["tables"]:
            t["columns"] = [Column(**c) for c in t["columns"]]
            t["checks"] = [Check(**c) for c in t["checks"]]
            t["dropped"] = [Column(**c) for c in t["dropped"]]
            tables[t["id"]] = Table(**t)
        indexes = {}
        for i in doc["indexes"]:
            i["columns"] = [IndexColumn(**c) for c in i["columns"]]
            indexes[i["id"]] = Index(**i)
        roles = {d["name"]: RoleDef(**d) for d in doc.get("roles", [])}
        views = {v["id"]: View(**v) for v in doc.get("views", [])}
        cat = cls(doc["version"], doc["next_id"], doc["schemas"], tables, indexes, roles=roles,
                  views=views)
        assert all(tid >= FIRST_OBJECT_ID for tid in tables)
        return cat

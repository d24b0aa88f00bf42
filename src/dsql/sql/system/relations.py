"""The pg_catalog relations, computed from the catalog a statement's transaction sees.

Each SystemRelation has PostgreSQL's column names and types and a row builder
`rows(view) -> list[dict]` over a CatalogView (the Catalog plus the session's settings and
roles). Missing keys take the column type's zero (false, 0, NULL for the rest), so builders
only name what dsql knows. Queries over them run through the ordinary executor (joins, WHERE,
ORDER BY, subqueries), as PostgreSQL's own catalog tables do.

Unqualified names resolve in pg_catalog first (PostgreSQL puts pg_catalog implicitly at the
front of the search path); information_schema relations need their schema.

Thread-safety: stateless; row builders read an immutable Catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from dsql.catalog.objects import Catalog, Index, Table
from dsql.catalog.roles import BOOTSTRAP_ROLE_OID, RoleDef
from dsql.sql.system import oids
from dsql.sql.system import types as st
from dsql.sql.types import registry as r
from dsql.sql.types.registry import SqlType

# spec letters -> types, to keep the column lists readable
_T: dict[str, SqlType] = {
    "oid": st.OID, "name": st.NAME, "char": st.CHAR, "bool": r.BOOL, "int2": r.INT2,
    "int4": r.INT4, "int8": r.INT8, "float4": r.FLOAT4, "text": r.TEXT, "regproc": st.REGPROC,
    "regclass": st.REGCLASS, "regtype": st.REGTYPE, "int2vector": st.INT2VECTOR,
    "oidvector": st.OIDVECTOR, "node": st.PG_NODE_TREE, "acl": st.ACLITEM_ARRAY,
    "text[]": r.TEXT_ARRAY, "oid[]": st.OID_ARRAY, "int2[]": st.INT2_ARRAY,
    "char[]": st.CHAR_ARRAY, "name[]": st.NAME_ARRAY, "float4[]": st.FLOAT4_ARRAY,
    "timestamptz": r.TIMESTAMPTZ, "varchar": r.VARCHAR, "bytea": r.BYTEA,
}
_ZERO = {r.BOOL.oid: False, r.INT2.oid: 0, r.INT4.oid: 0, r.INT8.oid: 0, st.OID.oid: 0,
         r.FLOAT4.oid: 0.0, st.REGPROC.oid: 0, st.REGCLASS.oid: 0, st.REGTYPE.oid: 0}
PKEY_INDEX_OID_BASE = 0x20000000
CONSTRAINT_OID_BASE = 0x30000000
CHECK_OID_BASE = 0x38000000
ATTRDEF_OID_BASE = 0x28000000


@dataclass
class RoleInfo:
    oid: int
    name: str
    superuser: bool
    login: bool
    createrole: bool = False
    createdb: bool = False
    password: str | None = None


@dataclass
class CatalogView:
    catalog: Catalog
    session: Any

    @property
    def database(self) -> str:
        return str(getattr(self.session, "database", None) or "postgres")

    def setting(self, name: str) -> str:
        show = getattr(self.session, "_show", None)
        if show is None:
            from dsql.sql import settings as gucs
            return gucs.lookup(name).default
        return str(show(name))

    @property
    def search_path(self) -> list[str]:
        return list(getattr(self.session, "_search_path", None) or ["public"])


@dataclass
class SystemRelation:
    schema: str
    name: str
    oid: int
    columns: list[tuple[str, SqlType]]
    build: Callable[[CatalogView], Iterator[dict[str, Any]]] = field(repr=False)

    def rows(self, view: CatalogView) -> list[tuple[Any, ...]]:
        # pg_catalog columns are NOT NULL in PostgreSQL (zero when unknown); the standard's
        # views leave what is unknown NULL
        zero = _ZERO if self.schema == "pg_catalog" else {}
        defaults = [zero.get(t.oid) for _, t in self.columns]
        names = [n for n, _ in self.columns]
        out = []
        for d in self.build(view):
            out.append(tuple(d.get(n, z) for n, z in zip(names, defaults, strict=True)))
        return out


def _cols(spec: str) -> list[tuple[str, SqlType]]:
    out = []
    for item in spec.split():
        n, _, t = item.partition(":")
        out.append((n, _T[t]))
    return out


PG_CATALOG: dict[str, SystemRelation] = {}
INFORMATION_SCHEMA: dict[str, SystemRelation] = {}


def relation(schema: str, name: str, oid: int, spec: str
             ) -> Callable[[Callable[[CatalogView], Iterator[dict[str, Any]]]],
                           Callable[[CatalogView], Iterator[dict[str, Any]]]]:
    def deco(fn: Callable[[CatalogView], Iterator[dict[str, Any]]]
             ) -> Callable[[CatalogView], Iterator[dict[str, Any]]]:
        rel = SystemRelation(schema, name, oid, _cols(spec), fn)
        (PG_CATALOG if schema == "pg_catalog" else INFORMATION_SCHEMA)[name] = rel
        return fn
    return deco


def lookup(schema: str | None, name: str, search_path: list[str]) -> SystemRelation | None:
    """The system relation `schema.name` (or `name` through the search path) denotes."""
    if schema == "pg_catalog" or schema is None:
        rel = PG_CATALOG.get(name)
        if rel is not None:
            return rel
    if schema == "information_schema" or (schema is None and "information_schema"
                                          in search_path):
        return INFORMATION_SCHEMA.get(name)
    return None


# -- helpers over the catalog ----------------------------------------------------------------------

def roles_of(cat: Catalog, session: Any) -> list[RoleInfo]:
    """The roles pg_roles shows: the catalog's, or (a catalog without roles: embedded use)
    one bootstrap superuser named after the session user."""
    if cat.roles:
        return [_role_info(d) for d in cat.roles.values()]
    user = str(getattr(session, "user", None) or "postgres")
    return [RoleInfo(BOOTSTRAP_ROLE_OID, user, True, True, True, True)]


def _role_info(d: RoleDef) -> RoleInfo:
    return RoleInfo(d.oid, d.name, d.superuser, d.login, d.createrole or d.superuser,
                    d.createdb or d.superuser, d.password)


def owner_oid(cat: Catalog) -> int:
    """Objects do not record an owner: they belong to the bootstrap superuser."""
    if cat.roles:
        boot = [d.oid for d in cat.roles.values() if d.superuser]
        return BOOTSTRAP_ROLE_OID if BOOTSTRAP_ROLE_OID in boot or not boot else min(boot)
    return BOOTSTRAP_ROLE_OID


def pkey_name(t: Table) -> str:
    return f"{t.name}_pkey"


def pkey_index_oid(t: Table) -> int:
    return PKEY_INDEX_OID_BASE + oids.relation_oid(t.id)


def visible_schemas(view: CatalogView) -> list[str]:
    return ["pg_catalog", *[s for s in view.search_path if s != "pg_catalog"]]


def find_relation_oid(cat: Catalog, session: Any, schema: str | None, name: str) -> int | None:
    """The OID 'name'::regclass denotes (search path order when unqualified)."""
    view = CatalogView(cat, session)
    schemas = [schema] if schema else visible_schemas(view)
    for s in schemas:
        sysrel = lookup(s, name, []) if s in ("pg_catalog", "information_schema") else None
        if sysrel is not None:
            return sysrel.oid
        t = cat.find_table(s, name)
        if t is not None:
            return oids.relation_oid(t.id)
        i = cat.find_index(s, name)
        if i is not None:
            return oids.relation_oid(i.id)
        for t in cat.tables.values():
            if t.schema == s and t.pk and pkey_name(t) == name:
                return pkey_index_oid(t)
    return None


@dataclass
class RelInfo:
    oid: int
    schema: str
    name: str
    kind: str  # 'r' table, 'i' index, 'v' view
    table: Table | None = None
    index: Index | None = None
    system: SystemRelation | None = None


def all_relations(cat: Catalog) -> list[RelInfo]:
    out: list[RelInfo] = []
    for rel in list(PG_CATALOG.values()) + list(INFORMATION_SCHEMA.values()):
        out.append(RelInfo(rel.oid, rel.schema, rel.name, "v" if rel.schema ==
                           "information_schema" or rel.name in _VIEWS else "r", system=rel))
    for t in cat.tables.values():
        out.append(RelInfo(oids.relation_oid(t.id), t.schema, t.name, "r", table=t))
        if t.pk:
            out.append(RelInfo(pkey_index_oid(t), t.schema, pkey_name(t), "i", table=t))
    for i in cat.indexes.values():
        out.append(RelInfo(oids.relation_oid(i.id), i.schema, i.name, "i",
                           table=cat.tables.get(i.table_id), index=i))
    return out


def relation_by_oid(cat: Catalog, oid: int) -> RelInfo | None:
    oid = int(oid)
    cid = oids.catalog_id(oid)
    if cid is not None:
        t = cat.tables.get(cid)
        if t is not None:
            return RelInfo(oid, t.schema, t.name, "r", table=t)
        i = cat.indexes.get(cid)
        if i is not None:
            return RelInfo(oid, i.schema, i.name, "i", table=cat.tables.get(i.table_id), index=i)
    for rel in all_relations(cat):
        if rel.oid == oid:
            return rel
    return None


def relation_label(cat: Catalog, session: Any, oid: int) -> str | None:
    rel = relation_by_oid(cat, oid)
    if rel is None:
        return None
    view = CatalogView(cat, session)
    if rel.schema in visible_schemas(view):
        return _quote_ident(rel.name)
    return f"{_quote_ident(rel.schema)}.{_quote_ident(rel.name)}"


def _quote_ident(s: str) -> str:
    if s and (s[0].isalpha() or s[0] == "_") and all(c.islower() or c.isdigit() or c == "_"
                                                      for c in s):
        return s
    return '"' + s.replace('"', '""') + '"'


def index_columns(cat: Catalog, rel: RelInfo) -> list[int]:
    """attnums (1-based column positions) of an index relation's key."""
    t = rel.table
    if t is None:
        return []
    if rel.index is None:
        return [t.position(c) + 1 for c in t.pk]
    return [t.position(c.column_id) + 1 for c in rel.index.columns]


_VIEWS = {"pg_roles", "pg_user", "pg_settings", "pg_tables", "pg_indexes", "pg_views",
          "pg_stat_activity", "pg_matviews", "pg_sequences"}

# registers the relations (import for effect)
from dsql.sql.system import information_schema as _is  # noqa: E402,F401
from dsql.sql.system import pg_catalog as _pg  # noqa: E402,F401

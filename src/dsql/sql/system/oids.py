"""Object identifiers as clients see them in pg_catalog: stable OIDs for schemas, relations,
roles and built-in types.

    relation oid := FIRST_NORMAL_OID - FIRST_OBJECT_ID + catalog id      (tables and indexes)
    schema oid   := 11 (pg_catalog) | 2200 (public) | 13000 (information_schema)
                    | 0x40000000 + crc32(name) mod 2^30                  (user schemas)
    role oid     := the oid stored with the role in the catalog (10: the bootstrap superuser)
    type oid     := PostgreSQL's own (pg_type.dat)
    system relation oid := PostgreSQL's own (pg_class 1259, pg_type 1247, ...) or 12000 + n

So the first table created gets 16384, as in a fresh PostgreSQL cluster, and OIDs never change
for the life of an object (catalog ids are never reused).
"""

from __future__ import annotations

import zlib

from dsql.catalog.objects import FIRST_OBJECT_ID

FIRST_NORMAL_OID = 16384
RELATION_OID_BASE = FIRST_NORMAL_OID - FIRST_OBJECT_ID
PG_CATALOG_OID = 11
PUBLIC_OID = 2200
INFORMATION_SCHEMA_OID = 13000
PG_TOAST_OID = 99
BOOTSTRAP_SUPERUSER_OID = 10
DATABASE_OID = 5
HEAP_AM_OID = 2
BTREE_AM_OID = 403
DEFAULT_COLLATION_OID = 100
C_COLLATION_OID = 950

_FIXED_SCHEMAS = {"pg_catalog": PG_CATALOG_OID, "public": PUBLIC_OID,
                  "information_schema": INFORMATION_SCHEMA_OID, "pg_toast": PG_TOAST_OID}


def relation_oid(catalog_id: int) -> int:
    assert catalog_id >= FIRST_OBJECT_ID, catalog_id
    return RELATION_OID_BASE + catalog_id


def catalog_id(oid: int) -> int | None:
    """The catalog id of a table or index OID, or None when it cannot be one."""
    i = int(oid) - RELATION_OID_BASE
    return i if i >= FIRST_OBJECT_ID else None


def schema_oid(name: str) -> int:
    fixed = _FIXED_SCHEMAS.get(name)
    if fixed is not None:
        return fixed
    return 0x40000000 + zlib.crc32(name.encode("utf-8")) % (1 << 30)


def schema_names(user_schemas: list[str]) -> list[str]:
    """Every schema a catalog shows: the system ones, then the user's."""
    out = ["pg_catalog", "information_schema"]
    out.extend(s for s in user_schemas if s not in out)
    return out

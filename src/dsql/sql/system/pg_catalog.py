"""pg_catalog's tables and views, as row builders over a CatalogView (see relations.py).

Only what dsql has is shown: tables (relkind 'r'), secondary indexes and the primary key's
index (relkind 'i', named <table>_pkey as PostgreSQL names it), columns, NOT NULL, defaults,
primary-key / unique / check constraints, roles, settings and the built-in types and
functions. Catalogs of features dsql lacks (inheritance, policies, triggers, publications,
extensions, enums, ranges, descriptions) exist and are empty, so client queries over them bind
and return no rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dsql.sql import settings as gucs
from dsql.sql.system import oids, procs
from dsql.sql.system import types as st
from dsql.sql.system.relations import (
    ATTRDEF_OID_BASE,
    CHECK_OID_BASE,
    CONSTRAINT_OID_BASE,
    PG_CATALOG,
    CatalogView,
    all_relations,
    index_columns,
    owner_oid,
    pkey_index_oid,
    pkey_name,
    relation,
    roles_of,
)
from dsql.sql.types import registry as r

Rows = Iterator[dict[str, Any]]
PC = "pg_catalog"


def _empty(view: CatalogView) -> Rows:
    return iter(())


@relation(PC, "pg_namespace", 2615, "oid:oid nspname:name nspowner:oid nspacl:acl")
def pg_namespace(view: CatalogView) -> Rows:
    owner = owner_oid(view.catalog)
    for s in ["pg_toast", *oids.schema_names(view.catalog.schemas)]:
        yield {"oid": oids.schema_oid(s), "nspname": s, "nspowner": owner}


@relation(PC, "pg_class", 1259,
          "oid:oid relname:name relnamespace:oid reltype:oid reloftype:oid relowner:oid "
          "relam:oid relfilenode:oid reltablespace:oid relpages:int4 reltuples:float4 "
          "relallvisible:int4 reltoastrelid:oid relhasindex:bool relisshared:bool "
          "relpersistence:char relkind:char relnatts:int2 relchecks:int2 relhasrules:bool "
          "relhastriggers:bool relhassubclass:bool relrowsecurity:bool "
          "relforcerowsecurity:bool relispopulated:bool relreplident:char relispartition:bool "
          "relrewrite:oid relacl:acl reloptions:text[] relpartbound:node")
def pg_class(view: CatalogView) -> Rows:
    cat = view.catalog
    owner = owner_oid(cat)
    for rel in all_relations(cat):
        d: dict[str, Any] = {
            "oid": rel.oid, "relname": rel.name, "relnamespace": oids.schema_oid(rel.schema),
            "relowner": owner, "relkind": rel.kind, "relpersistence": "p",
            "relispopulated": True, "relreplident": "d" if rel.kind == "r" else "n",
            "relfilenode": rel.oid if rel.kind != "v" else 0, "reltuples": -1.0,
        }
        if rel.kind == "r":
            d["relam"] = oids.HEAP_AM_OID
        elif rel.kind == "i":
            d["relam"] = oids.BTREE_AM_OID
        if rel.system is not None:
            d["relnatts"] = len(rel.system.columns)
        elif rel.kind == "r" and rel.table is not None:
            t = rel.table
            d["relnatts"] = len(t.columns)
            d["relchecks"] = len(t.checks)
            d["relhasindex"] = bool(t.pk) or bool(cat.table_indexes(t.id))
        elif rel.kind == "i":
            d["relnatts"] = len(index_columns(cat, rel))
        yield d


@relation(PC, "pg_attribute", 1249,
          "attrelid:oid attname:name atttypid:oid attstattarget:int4 attlen:int2 attnum:int2 "
          "attndims:int4 attcacheoff:int4 atttypmod:int4 attbyval:bool attalign:char "
          "attstorage:char attcompression:char attnotnull:bool atthasdef:bool "
          "atthasmissing:bool attidentity:char attgenerated:char attisdropped:bool "
          "attislocal:bool attinhcount:int4 attcollation:oid attacl:acl attoptions:text[] "
          "attfdwoptions:text[]")
def pg_attribute(view: CatalogView) -> Rows:
    cat = view.catalog
    for rel in all_relations(cat):
        cols: list[tuple[str, Any, bool, bool]] = []
        if rel.system is not None:
            cols = [(n, t, False, False) for n, t in rel.system.columns]
        elif rel.kind == "r" and rel.table is not None:
            cols = [(c.name, c.type, c.not_null, c.default is not None)
                    for c in rel.table.columns]
        elif rel.kind == "i" and rel.table is not None:
            t = rel.table
            cols = [(t.columns[n - 1].name, t.columns[n - 1].type, False, False)
                    for n in index_columns(cat, rel)]
        for num, (name, typ, nn, hasdef) in enumerate(cols, 1):
            yield _attribute(rel.oid, name, typ, num, nn, hasdef)


def _attribute(relid: int, name: str, typ: r.SqlType, num: int, not_null: bool,
               hasdef: bool) -> dict[str, Any]:
    coll = oids.DEFAULT_COLLATION_OID if typ.category == "S" and typ.oid != st.NAME.oid \
        else (oids.C_COLLATION_OID if typ.oid == st.NAME.oid else 0)
    return {"attrelid": relid, "attname": name, "atttypid": typ.oid, "attstattarget": -1,
            "attlen": typ.typlen, "attnum": num, "attndims": 1 if typ.category == "A" else 0,
            "attcacheoff": -1, "atttypmod": typ.typmod, "attbyval": 0 < typ.typlen <= 8,
            "attalign": _align(typ), "attstorage": "p" if typ.typlen > 0 else "x",
            "attcompression": "", "attnotnull": not_null, "atthasdef": hasdef,
            "attidentity": "", "attgenerated": "", "attislocal": True, "attcollation": coll}


def _align(t: r.SqlType) -> str:
    return {1: "c", 2: "s", 4: "i", 8: "d"}.get(t.typlen, "i")


def _all_types() -> list[r.SqlType]:
    seen: dict[int, r.SqlType] = {}
    for t in r._BY_OID.values():
        seen.setdefault(t.oid, t)
    return sorted(seen.values(), key=lambda t: t.oid)


# non-array types with a typelem, as in PostgreSQL (name is subscriptable as "char"s)
_VECTOR_ELEMENT = {st.INT2VECTOR.oid: r.INT2, st.OIDVECTOR.oid: st.OID, st.NAME.oid: st.CHAR}


@relation(PC, "pg_type", 1247,
          "oid:oid typname:name typnamespace:oid typowner:oid typlen:int2 typbyval:bool "
          "typtype:char typcategory:char typispreferred:bool typisdefined:bool typdelim:char "
          "typrelid:oid typsubscript:regproc typelem:oid typarray:oid typinput:regproc "
          "typoutput:regproc typreceive:regproc typsend:regproc typmodin:regproc "
          "typmodout:regproc typanalyze:regproc typalign:char typstorage:char "
          "typnotnull:bool typbasetype:oid typtypmod:int4 typndims:int4 typcollation:oid "
          "typdefaultbin:node typdefault:text typacl:acl")
def pg_type(view: CatalogView) -> Rows:
    owner = owner_oid(view.catalog)
    for t in _all_types():
        elem = st.ELEMENT_OF.get(t.oid)
        is_array = elem is not None
        elem = elem or _VECTOR_ELEMENT.get(t.oid)  # int2vector, oidvector, name
        name = t.name
        pseudo = t.oid == r.UNKNOWN.oid
        yield {"oid": t.oid, "typname": name, "typnamespace": oids.PG_CATALOG_OID,
               "typowner": owner, "typlen": t.typlen, "typbyval": 0 < t.typlen <= 8,
               "typtype": "p" if pseudo else "b", "typcategory": t.category,
               "typispreferred": t.preferred, "typisdefined": True, "typdelim": ",",
               "typelem": elem.oid if elem is not None else 0,
               "typarray": 0 if is_array else t.array_oid,
               "typinput": st.RegOid(0, f"{'array' if is_array else name}_in"),
               "typoutput": st.RegOid(0, f"{'array' if is_array else name}_out"),
               "typreceive": st.RegOid(0, f"{'array' if is_array else name}_recv"),
               "typsend": st.RegOid(0, f"{'array' if is_array else name}_send"),
               "typmodin": st.RegOid(0, "-"), "typmodout": st.RegOid(0, "-"),
               "typanalyze": st.RegOid(0, "-"), "typsubscript": st.RegOid(0, "-"),
               "typalign": _align(t), "typstorage": "p" if t.typlen > 0 else "x",
               "typtypmod": -1,
               "typcollation": oids.DEFAULT_COLLATION_OID if t.category == "S"
               and t.oid != st.NAME.oid else (oids.C_COLLATION_OID
                                              if t.oid == st.NAME.oid else 0)}


@relation(PC, "pg_index", 2610,
          "indexrelid:oid indrelid:oid indnatts:int2 indnkeyatts:int2 indisunique:bool "
          "indnullsnotdistinct:bool indisprimary:bool indisexclusion:bool indimmediate:bool "
          "indisclustered:bool indisvalid:bool indcheckxmin:bool indisready:bool "
          "indislive:bool indisreplident:bool indkey:int2vector indcollation:oidvector "
          "indclass:oidvector indoption:int2vector indexprs:node indpred:node")
def pg_index(view: CatalogView) -> Rows:
    cat = view.catalog
    for rel in all_relations(cat):
        if rel.kind != "i" or rel.table is None:
            continue
        keys = index_columns(cat, rel)
        primary = rel.index is None
        unique = primary or bool(rel.index is not None and rel.index.unique)
        opts = [0] * len(keys) if primary or rel.index is None else \
            [(1 if c.descending else 0) | (2 if c.nulls_first else 0) for c in rel.index.columns]
        yield {"indexrelid": rel.oid, "indrelid": oids.relation_oid(rel.table.id),
               "indnatts": len(keys), "indnkeyatts": len(keys), "indisunique": unique,
               "indisprimary": primary, "indimmediate": True, "indisvalid": True,
               "indisready": True, "indislive": True, "indkey": keys,
               "indcollation": [0] * len(keys), "indclass": [0] * len(keys),
               "indoption": opts}


@relation(PC, "pg_constraint", 2606,
          "oid:oid conname:name connamespace:oid contype:char condeferrable:bool "
          "condeferred:bool convalidated:bool conrelid:oid contypid:oid conindid:oid "
          "conparentid:oid confrelid:oid confupdtype:char confdeltype:char "
          "confmatchtype:char conislocal:bool coninhcount:int4 connoinherit:bool "
          "conkey:int2[] confkey:int2[] conpfeqop:oid[] conppeqop:oid[] conffeqop:oid[] "
          "confdelsetcols:int2[] conexclop:oid[] conbin:node")
def pg_constraint(view: CatalogView) -> Rows:
    cat = view.catalog
    for t in cat.tables.values():
        toid = oids.relation_oid(t.id)
        ns = oids.schema_oid(t.schema)
        base = {"connamespace": ns, "conrelid": toid, "convalidated": True,
                "conislocal": True, "confupdtype": " ", "confdeltype": " ",
                "confmatchtype": " "}
        if t.pk:
            yield {**base, "oid": CONSTRAINT_OID_BASE + toid, "conname": pkey_name(t),
                   "contype": "p", "conindid": pkey_index_oid(t),
                   "conkey": [t.position(c) + 1 for c in t.pk]}
        for i in cat.table_indexes(t.id):
            if i.unique and i.constraint:
                ioid = oids.relation_oid(i.id)
                yield {**base, "oid": CONSTRAINT_OID_BASE + ioid, "conname": i.name,
                       "contype": "u", "conindid": ioid,
                       "conkey": [t.position(c.column_id) + 1 for c in i.columns]}
        for n, ck in enumerate(t.checks):
            yield {**base, "oid": CHECK_OID_BASE + (t.id << 8) + n, "conname": ck.name,
                   "contype": "c", "conbin": ck.sql, "conkey": _check_columns(t, ck.sql)}


def _check_columns(t: Any, sql: str) -> list[int]:
    import re
    words = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", sql))
    return [i + 1 for i, c in enumerate(t.columns) if c.name in words]


@relation(PC, "pg_attrdef", 2604, "oid:oid adrelid:oid adnum:int2 adbin:node")
def pg_attrdef(view: CatalogView) -> Rows:
    for t in view.catalog.tables.values():
        for n, c in enumerate(t.columns, 1):
            if c.default is not None:
                yield {"oid": ATTRDEF_OID_BASE + (t.id << 10) + n,
                       "adrelid": oids.relation_oid(t.id), "adnum": n, "adbin": c.default}


@relation(PC, "pg_database", 1262,
          "oid:oid datname:name datdba:oid encoding:int4 datlocprovider:char "
          "datistemplate:bool datallowconn:bool datconnlimit:int4 dattablespace:oid "
          "datcollate:text datctype:text daticulocale:text daticurules:text "
          "datcollversion:text datacl:acl")
def pg_database(view: CatalogView) -> Rows:
    yield {"oid": oids.DATABASE_OID, "datname": view.database,
           "datdba": owner_oid(view.catalog), "encoding": 6, "datlocprovider": "c",
           "datallowconn": True, "datconnlimit": -1, "dattablespace": 1663,
           "datcollate": "C.UTF-8", "datctype": "C.UTF-8"}


_ROLE_SPEC = ("rolname:name rolsuper:bool rolinherit:bool rolcreaterole:bool "
              "rolcreatedb:bool rolcanlogin:bool rolreplication:bool rolconnlimit:int4 "
              "rolpassword:text rolvaliduntil:timestamptz rolbypassrls:bool "
              "rolconfig:text[] oid:oid")


def _role_rows(view: CatalogView, hide_password: bool) -> Rows:
    for ro in sorted(roles_of(view.catalog, view.session), key=lambda x: x.oid):
        yield {"oid": ro.oid, "rolname": ro.name, "rolsuper": ro.superuser,
               "rolinherit": True, "rolcreaterole": ro.createrole, "rolcreatedb": ro.createdb,
               "rolcanlogin": ro.login, "rolconnlimit": -1,
               "rolpassword": ("********" if ro.password is not None else None)
               if hide_password else ro.password, "rolbypassrls": ro.superuser,
               "rolreplication": ro.superuser}


@relation(PC, "pg_roles", 12001, _ROLE_SPEC)
def pg_roles(view: CatalogView) -> Rows:
    return _role_rows(view, True)


@relation(PC, "pg_authid", 1260,
          "oid:oid rolname:name rolsuper:bool rolinherit:bool rolcreaterole:bool "
          "rolcreatedb:bool rolcanlogin:bool rolreplication:bool rolbypassrls:bool "
          "rolconnlimit:int4 rolpassword:text rolvaliduntil:timestamptz")
def pg_authid(view: CatalogView) -> Rows:
    if getattr(view.session, "authenticated", False) and not _session_is_superuser(view):
        from dsql.errors import DsqlError
        raise DsqlError("permission denied for table pg_authid", sqlstate="42501")
    return _role_rows(view, False)


def _session_is_superuser(view: CatalogView) -> bool:
    user = getattr(view.session, "user", None)
    return any(ro.superuser and ro.name == user for ro in roles_of(view.catalog, view.session))


@relation(PC, "pg_user", 12002,
          "usename:name usesysid:oid usecreatedb:bool usesuper:bool userepl:bool "
          "usebypassrls:bool passwd:text valuntil:timestamptz useconfig:text[]")
def pg_user(view: CatalogView) -> Rows:
    for ro in roles_of(view.catalog, view.session):
        if ro.login:
            yield {"usename": ro.name, "usesysid": ro.oid, "usecreatedb": ro.createdb,
                   "usesuper": ro.superuser, "userepl": ro.superuser,
                   "usebypassrls": ro.superuser, "passwd": "********"}


@relation(PC, "pg_auth_members", 1261,
          "oid:oid roleid:oid member:oid grantor:oid admin_option:bool inherit_option:bool "
          "set_option:bool")
def pg_auth_members(view: CatalogView) -> Rows:
    return _empty(view)


@relation(PC, "pg_settings", 12003,
          "name:text setting:text unit:text category:text short_desc:text extra_desc:text "
          "context:text vartype:text source:text min_val:text max_val:text enumvals:text[] "
          "boot_val:text reset_val:text sourcefile:text sourceline:int4 pending_restart:bool")
def pg_settings(view: CatalogView) -> Rows:
    for s in gucs.SETTINGS.values():
        value = view.setting(s.name)
        yield {"name": s.name, "setting": value, "category": "dsql" if s.name.startswith(
            "dsql.") else "Client Connection Defaults", "short_desc": "",
            "context": "internal" if s.read_only else "user",
            "vartype": "string", "source": "default" if value == s.default else "session",
            "boot_val": s.default, "reset_val": s.default}


@relation(PC, "pg_proc", 1255,
          "oid:oid proname:name pronamespace:oid proowner:oid prolang:oid procost:float4 "
          "prorows:float4 provariadic:oid prosupport:regproc prokind:char prosecdef:bool "
          "proleakproof:bool proisstrict:bool proretset:bool provolatile:char "
          "proparallel:char pronargs:int2 pronargdefaults:int2 prorettype:oid "
          "proargtypes:oidvector proallargtypes:oid[] proargmodes:char[] "
          "proargnames:text[] proargdefaults:node protrftypes:oid[] prosrc:text probin:text "
          "prosqlbody:node proconfig:text[] proacl:acl")
def pg_proc(view: CatalogView) -> Rows:
    owner = owner_oid(view.catalog)
    for p in procs.procs():
        yield {"oid": p.oid, "proname": p.name, "pronamespace": oids.PG_CATALOG_OID,
               "proowner": owner, "prolang": 12, "procost": 1.0, "prorows": 0.0,
               "prosupport": st.RegOid(0, "-"), "prokind": "f", "proisstrict": p.strict,
               "provolatile": "i", "proparallel": "s", "pronargs": len(p.arg_oids),
               "prorettype": p.result_oid, "proargtypes": list(p.arg_oids),
               "prosrc": p.name, "provariadic": p.arg_oids[-1] if p.variadic else 0}


@relation(PC, "pg_am", 2601, "oid:oid amname:name amhandler:regproc amtype:char")
def pg_am(view: CatalogView) -> Rows:
    yield {"oid": oids.HEAP_AM_OID, "amname": "heap",
           "amhandler": st.RegOid(0, "heap_tableam_handler"), "amtype": "t"}
    yield {"oid": oids.BTREE_AM_OID, "amname": "btree",
           "amhandler": st.RegOid(0, "bthandler"), "amtype": "i"}


@relation(PC, "pg_tablespace", 1213,
          "oid:oid spcname:name spcowner:oid spcacl:acl spcoptions:text[]")
def pg_tablespace(view: CatalogView) -> Rows:
    owner = owner_oid(view.catalog)
    yield {"oid": 1663, "spcname": "pg_default", "spcowner": owner}
    yield {"oid": 1664, "spcname": "pg_global", "spcowner": owner}


@relation(PC, "pg_collation", 3456,
          "oid:oid collname:name collnamespace:oid collowner:oid collprovider:char "
          "collisdeterministic:bool collencoding:int4 collcollate:text collctype:text "
          "colliculocale:text collicurules:text collversion:text")
def pg_collation(view: CatalogView) -> Rows:
    owner = owner_oid(view.catalog)
    for oid, name, prov, enc, loc in ((oids.DEFAULT_COLLATION_OID, "default", "d", -1, None),
                                      (oids.C_COLLATION_OID, "C", "c", -1, "C"),
                                      (951, "POSIX", "c", -1, "POSIX")):
        yield {"oid": oid, "collname": name, "collnamespace": oids.PG_CATALOG_OID,
               "collowner": owner, "collprovider": prov, "collisdeterministic": True,
               "collencoding": enc, "collcollate": loc, "collctype": loc}


@relation(PC, "pg_depend", 2608,
          "classid:oid objid:oid objsubid:int4 refclassid:oid refobjid:oid refobjsubid:int4 "
          "deptype:char")
def pg_depend(view: CatalogView) -> Rows:
    cat = view.catalog
    for rel in all_relations(cat):
        if rel.kind == "i" and rel.table is not None and rel.system is None:
            yield {"classid": 1259, "objid": rel.oid, "refclassid": 1259,
                   "refobjid": oids.relation_oid(rel.table.id), "deptype": "a"}


@relation(PC, "pg_tables", 12004,
          "schemaname:name tablename:name tableowner:name tablespace:name hasindexes:bool "
          "hasrules:bool hastriggers:bool rowsecurity:bool")
def pg_tables(view: CatalogView) -> Rows:
    cat = view.catalog
    owner = _owner_name(view)
    for rel in all_relations(cat):
        if rel.kind == "r":
            t = rel.table
            yield {"schemaname": rel.schema, "tablename": rel.name, "tableowner": owner,
                   "hasindexes": t is not None and (bool(t.pk) or bool(cat.table_indexes(
                       t.id)))}


@relation(PC, "pg_indexes", 12005,
          "schemaname:name tablename:name indexname:name tablespace:name indexdef:text")
def pg_indexes(view: CatalogView) -> Rows:
    from dsql.sql.system.describe import index_def
    cat = view.catalog
    for rel in all_relations(cat):
        if rel.kind == "i" and rel.table is not None:
            yield {"schemaname": rel.schema, "tablename": rel.table.name,
                   "indexname": rel.name, "indexdef": index_def(cat, rel.oid)}


def _owner_name(view: CatalogView) -> str:
    owner = owner_oid(view.catalog)
    for ro in roles_of(view.catalog, view.session):
        if ro.oid == owner:
            return ro.name
    return "postgres"


for _name, _oid, _spec in (
    ("pg_description", 2609, "objoid:oid classoid:oid objsubid:int4 description:text"),
    ("pg_shdescription", 2396, "objoid:oid classoid:oid description:text"),
    ("pg_inherits", 2611, "inhrelid:oid inhparent:oid inhseqno:int4 inhdetachpending:bool"),
    ("pg_extension", 3079, "oid:oid extname:name extowner:oid extnamespace:oid "
     "extrelocatable:bool extversion:text extconfig:oid[] extcondition:text[]"),
    ("pg_enum", 3501, "oid:oid enumtypid:oid enumsortorder:float4 enumlabel:name"),
    ("pg_range", 3541, "rngtypid:oid rngsubtype:oid rngmultitypid:oid rngcollation:oid "
     "rngsubopc:oid rngcanonical:regproc rngsubdiff:regproc"),
    ("pg_policy", 3256, "oid:oid polname:name polrelid:oid polcmd:char polpermissive:bool "
     "polroles:oid[] polqual:node polwithcheck:node"),
    ("pg_statistic_ext", 3381, "oid:oid stxrelid:oid stxname:name stxnamespace:oid "
     "stxowner:oid stxstattarget:int4 stxkeys:int2vector stxkind:char[] stxexprs:node"),
    ("pg_publication", 6104, "oid:oid pubname:name pubowner:oid puballtables:bool "
     "pubinsert:bool pubupdate:bool pubdelete:bool pubtruncate:bool pubviaroot:bool"),
    ("pg_publication_namespace", 6237, "oid:oid pnpubid:oid pnnspid:oid"),
    ("pg_publication_rel", 6106, "oid:oid prpubid:oid prrelid:oid prqual:node "
     "prattrs:int2vector"),
    ("pg_trigger", 2620, "oid:oid tgrelid:oid tgparentid:oid tgname:name tgfoid:oid "
     "tgtype:int2 tgenabled:char tgisinternal:bool tgconstrrelid:oid tgconstrindid:oid "
     "tgconstraint:oid tgdeferrable:bool tginitdeferred:bool tgnargs:int2 "
     "tgattr:int2vector tgargs:bytea tgqual:node tgoldtable:name tgnewtable:name"),
    ("pg_sequence", 2224, "seqrelid:oid seqtypid:oid seqstart:int8 seqincrement:int8 "
     "seqmax:int8 seqmin:int8 seqcache:int8 seqcycle:bool"),
    ("pg_rewrite", 2618, "oid:oid rulename:name ev_class:oid ev_type:char ev_enabled:char "
     "is_instead:bool ev_qual:node ev_action:node"),
    ("pg_foreign_table", 3118, "ftrelid:oid ftserver:oid ftoptions:text[]"),
    ("pg_partitioned_table", 3350, "partrelid:oid partstrat:char partnatts:int2 "
     "partdefid:oid partattrs:int2vector partclass:oidvector partcollation:oidvector "
     "partexprs:node"),
    ("pg_opclass", 2616, "oid:oid opcmethod:oid opcname:name opcnamespace:oid opcowner:oid "
     "opcfamily:oid opcintype:oid opcdefault:bool opckeytype:oid"),
    ("pg_views", 12006, "schemaname:name viewname:name viewowner:name definition:text"),
    ("pg_matviews", 12007, "schemaname:name matviewname:name matviewowner:name "
     "tablespace:name hasindexes:bool ispopulated:bool definition:text"),
    ("pg_sequences", 12008, "schemaname:name sequencename:name sequenceowner:name "
     "data_type:regtype start_value:int8 min_value:int8 max_value:int8 increment_by:int8 "
     "cycle:bool cache_size:int8 last_value:int8"),
):
    relation(PC, _name, _oid, _spec)(_empty)

assert "pg_class" in PG_CATALOG

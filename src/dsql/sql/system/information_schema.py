"""information_schema views (SQL standard), computed from the catalog like pg_catalog's.

Column types follow PostgreSQL's domains: sql_identifier -> name, cardinal_number -> integer,
character_data / yes_or_no -> character varying.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dsql.sql.system import types as st
from dsql.sql.system.relations import (
    CatalogView,
    all_relations,
    pkey_name,
    relation,
    roles_of,
)
from dsql.sql.types import registry as r

Rows = Iterator[dict[str, Any]]
IS = "information_schema"


def _owner(view: CatalogView) -> str:
    from dsql.sql.system.pg_catalog import _owner_name
    return _owner_name(view)


@relation(IS, "schemata", 13001,
          "catalog_name:name schema_name:name schema_owner:name "
          "default_character_set_catalog:name default_character_set_schema:name "
          "default_character_set_name:name sql_path:varchar")
def schemata(view: CatalogView) -> Rows:
    from dsql.sql.system import oids
    for s in ["pg_toast", *oids.schema_names(view.catalog.schemas)]:
        yield {"catalog_name": view.database, "schema_name": s, "schema_owner": _owner(view)}


@relation(IS, "tables", 13002,
          "table_catalog:name table_schema:name table_name:name table_type:varchar "
          "self_referencing_column_name:name reference_generation:varchar "
          "user_defined_type_catalog:name user_defined_type_schema:name "
          "user_defined_type_name:name is_insertable_into:varchar is_typed:varchar "
          "commit_action:varchar")
def tables(view: CatalogView) -> Rows:
    for rel in all_relations(view.catalog):
        if rel.kind in ("r", "v"):
            yield {"table_catalog": view.database, "table_schema": rel.schema,
                   "table_name": rel.name,
                   "table_type": "BASE TABLE" if rel.kind == "r" else "VIEW",
                   "is_insertable_into": "YES" if rel.system is None else "NO",
                   "is_typed": "NO"}


_DATA_TYPE = {st.NAME.oid: "name", st.OID.oid: "oid", st.CHAR.oid: '"char"'}


def _data_type(t: r.SqlType) -> str:
    if t.category == "A":
        return "ARRAY"
    if t.oid in _DATA_TYPE:
        return _DATA_TYPE[t.oid]
    return r.format_type(t.base) if t.oid != r.BPCHAR.oid else "character"


@relation(IS, "columns", 13003,
          "table_catalog:name table_schema:name table_name:name column_name:name "
          "ordinal_position:int4 column_default:varchar is_nullable:varchar data_type:varchar "
          "character_maximum_length:int4 character_octet_length:int4 numeric_precision:int4 "
          "numeric_precision_radix:int4 numeric_scale:int4 datetime_precision:int4 "
          "interval_type:varchar interval_precision:int4 character_set_catalog:name "
          "character_set_schema:name character_set_name:name collation_catalog:name "
          "collation_schema:name collation_name:name domain_catalog:name domain_schema:name "
          "domain_name:name udt_catalog:name udt_schema:name udt_name:name scope_catalog:name "
          "scope_schema:name scope_name:name maximum_cardinality:int4 dtd_identifier:name "
          "is_self_referencing:varchar is_identity:varchar identity_generation:varchar "
          "identity_start:varchar identity_increment:varchar identity_maximum:varchar "
          "identity_minimum:varchar identity_cycle:varchar is_generated:varchar "
          "generation_expression:varchar is_updatable:varchar")
def columns(view: CatalogView) -> Rows:
    for rel in all_relations(view.catalog):
        if rel.kind == "r" and rel.table is not None:
            cols = [(c.name, c.type, c.not_null, c.default) for c in rel.table.columns]
        elif rel.system is not None:
            cols = [(n, t, False, None) for n, t in rel.system.columns]
        else:
            continue
        for pos, (name, t, nn, default) in enumerate(cols, 1):
            d: dict[str, Any] = {
                "table_catalog": view.database, "table_schema": rel.schema,
                "table_name": rel.name, "column_name": name, "ordinal_position": pos,
                "column_default": default, "is_nullable": "NO" if nn else "YES",
                "data_type": _data_type(t), "udt_catalog": view.database,
                "udt_schema": "pg_catalog", "udt_name": t.name, "dtd_identifier": str(pos),
                "is_self_referencing": "NO", "is_identity": "NO", "is_generated": "NEVER",
                "is_updatable": "YES" if rel.system is None else "NO"}
            d.update(_numeric_facts(t))
            yield d


def _numeric_facts(t: r.SqlType) -> dict[str, Any]:
    from dsql.sql.types import numeric
    if t.oid in (r.VARCHAR.oid, r.BPCHAR.oid):
        n = t.typmod - 4 if t.typmod >= 0 else None
        return {"character_maximum_length": n,
                "character_octet_length": n * 4 if n is not None else 1073741824}
    if t.oid == r.TEXT.oid:
        return {"character_octet_length": 1073741824}
    bits = {r.INT2.oid: 16, r.INT4.oid: 32, r.INT8.oid: 64, r.FLOAT4.oid: 24,
            r.FLOAT8.oid: 53}
    if t.oid in bits:
        return {"numeric_precision": bits[t.oid], "numeric_precision_radix": 2,
                "numeric_scale": 0 if t.category == "N" and t.oid in (
                    r.INT2.oid, r.INT4.oid, r.INT8.oid) else None}
    if t.oid == r.NUMERIC.oid:
        if t.typmod >= 0:
            p, s = numeric.numeric_typmod_parts(t.typmod)
            return {"numeric_precision": p, "numeric_precision_radix": 10, "numeric_scale": s}
        return {"numeric_precision_radix": 10}
    if t.oid in (r.TIMESTAMP.oid, r.TIMESTAMPTZ.oid, r.TIME.oid, r.DATE.oid):
        return {"datetime_precision": 0 if t.oid == r.DATE.oid else
                (t.typmod if t.typmod >= 0 else 6)}
    return {}


def _constraints(view: CatalogView) -> Iterator[tuple[Any, str, str, list[str]]]:
    """(table, constraint name, type, column names) for every key / check constraint."""
    cat = view.catalog
    for t in cat.tables.values():
        if t.pk:
            yield t, pkey_name(t), "PRIMARY KEY", [t.columns[t.position(c)].name for c in t.pk]
        for i in cat.table_indexes(t.id):
            if i.unique and i.constraint:
                yield t, i.name, "UNIQUE", [t.columns[t.position(c.column_id)].name
                                            for c in i.columns]
        for ck in t.checks:
            yield t, ck.name, "CHECK", []


@relation(IS, "table_constraints", 13004,
          "constraint_catalog:name constraint_schema:name constraint_name:name "
          "table_catalog:name table_schema:name table_name:name constraint_type:varchar "
          "is_deferrable:varchar initially_deferred:varchar enforced:varchar "
          "nulls_distinct:varchar")
def table_constraints(view: CatalogView) -> Rows:
    for t, name, kind, _ in _constraints(view):
        yield {"constraint_catalog": view.database, "constraint_schema": t.schema,
               "constraint_name": name, "table_catalog": view.database,
               "table_schema": t.schema, "table_name": t.name, "constraint_type": kind,
               "is_deferrable": "NO", "initially_deferred": "NO", "enforced": "YES",
               "nulls_distinct": "YES" if kind == "UNIQUE" else None}


@relation(IS, "key_column_usage", 13005,
          "constraint_catalog:name constraint_schema:name constraint_name:name "
          "table_catalog:name table_schema:name table_name:name column_name:name "
          "ordinal_position:int4 position_in_unique_constraint:int4")
def key_column_usage(view: CatalogView) -> Rows:
    for t, name, kind, cols in _constraints(view):
        if kind == "CHECK":
            continue
        for pos, c in enumerate(cols, 1):
            yield {"constraint_catalog": view.database, "constraint_schema": t.schema,
                   "constraint_name": name, "table_catalog": view.database,
                   "table_schema": t.schema, "table_name": t.name, "column_name": c,
                   "ordinal_position": pos}


@relation(IS, "views", 13006,
          "table_catalog:name table_schema:name table_name:name view_definition:varchar "
          "check_option:varchar is_updatable:varchar is_insertable_into:varchar "
          "is_trigger_updatable:varchar is_trigger_deletable:varchar "
          "is_trigger_insertable_into:varchar")
def views(view: CatalogView) -> Rows:
    return iter(())


@relation(IS, "enabled_roles", 13007, "role_name:name")
def enabled_roles(view: CatalogView) -> Rows:
    for ro in roles_of(view.catalog, view.session):
        yield {"role_name": ro.name}

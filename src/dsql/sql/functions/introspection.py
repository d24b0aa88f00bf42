"""Functions clients call to introspect the database: format_type, pg_get_indexdef,
pg_get_constraintdef, pg_get_expr, pg_get_userbyid, to_regclass, to_regtype,
pg_table_is_visible, obj_description, current_setting, set_config, has_*_privilege,
array_to_string, array_upper, ... and the regular-expression operators ~ ~* !~ !~*.

They read the catalog of the statement's transaction through dsql.sql.system.context.
Privileges are not modelled yet: has_table_privilege and friends answer true.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from dsql.errors import InvalidRegularExpression
from dsql.sql.functions.catalog import ANY, FunctionDef, add_function, add_operator
from dsql.sql.system import context
from dsql.sql.system import types as st
from dsql.sql.types import registry as r

T, B, I4, N, OI = r.TEXT, r.BOOL, r.INT4, st.NAME, st.OID


def fn(name: str, args: tuple[Any, ...], result: Any, impl: Any, **kw: Any) -> None:
    add_function(FunctionDef(name, args, result, impl, **kw))


# -- regular expressions -------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _regex(pattern: str, flags: int) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as e:
        raise InvalidRegularExpression(f"invalid regular expression: {e}") from None


for _sym, _flags, _neg in (("~", 0, False), ("~*", re.I, False), ("!~", 0, True),
                           ("!~*", re.I, True)):
    add_operator(FunctionDef(_sym, (T, T), B, lambda s, p, f=_flags, n=_neg:
                             (_regex(p, f).search(s) is not None) != n))
fn("regexp_replace", (T, T, T), T, lambda s, p, rep: _regex(p, 0).sub(
    re.sub(r"\\(\d)", r"\\\1", rep), s, count=1))
fn("quote_ident", (T,), T, lambda s: s if re.fullmatch(r"[a-z_][a-z0-9_$]*", s)
   else '"' + s.replace('"', '""') + '"')

# -- comparisons of the catalog types ------------------------------------------------------------

_CMP = {"=": lambda a, b: a == b, "<>": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
for _t in (st.OID, N, st.CHAR):
    for _s, _f in _CMP.items():
        add_operator(FunctionDef(_s, (_t, _t), B, _f))
for _s, _f in _CMP.items():
    add_operator(FunctionDef(_s, (N, T), B, _f))
    add_operator(FunctionDef(_s, (T, N), B, _f))
for _at in st.ARRAYS:
    add_operator(FunctionDef("=", (_at, _at), B, lambda a, b: a == b))
    add_operator(FunctionDef("<>", (_at, _at), B, lambda a, b: a != b))
for _s, _f in (("=", lambda a, b: list(a) == list(b)), ("<>", lambda a, b: list(a) != list(b))):
    add_operator(FunctionDef(_s, (st.INT2VECTOR, st.INT2VECTOR), B, _f))
    add_operator(FunctionDef(_s, (st.OIDVECTOR, st.OIDVECTOR), B, _f))

# -- types ----------------------------------------------------------------------------------------


def format_type(oid: int | None, typmod: int | None) -> str | None:
    if oid is None:
        return None
    try:
        t = r.type_by_oid(int(oid))
    except Exception:
        return "???"
    if typmod is not None and typmod >= 0:
        t = t.with_typmod(typmod)
    return st.type_display(t)


fn("format_type", (OI, I4), T, format_type, strict=False)


def _to_reg(conv: Any) -> Any:
    def f(s: str) -> Any:
        try:
            return conv(s)
        except Exception:
            return None
    return f


def _pg_typeof(types: tuple[r.SqlType, ...], ctx: Any) -> Any:
    """pg_typeof(any): the argument's type (for a NULL argument too), from the bound type."""
    t = st.RegOid(types[0].oid, st.regtype_label(types[0].oid))
    return lambda _v: t


fn("pg_typeof", (ANY,), st.REGTYPE, None, strict=False, binder=_pg_typeof)
fn("to_regtype", (T,), st.REGTYPE, _to_reg(st.regtype_in))
fn("to_regclass", (T,), st.REGCLASS, _to_reg(st.regclass_in))
fn("to_regproc", (T,), st.REGPROC, _to_reg(st.regproc_in))
fn("to_regnamespace", (T,), st.REGNAMESPACE, _to_reg(st.regnamespace_in))
fn("to_regrole", (T,), st.REGROLE, _to_reg(st.regrole_in))
fn("pg_type_is_visible", (OI,), B, lambda oid: True)
fn("pg_function_is_visible", (OI,), B, lambda oid: True)
fn("pg_collation_is_visible", (OI,), B, lambda oid: True)
fn("pg_opclass_is_visible", (OI,), B, lambda oid: True)
fn("pg_encoding_to_char", (I4,), N, lambda e: {6: "UTF8", 0: "SQL_ASCII"}.get(e, ""))
fn("pg_char_to_encoding", (N,), I4, lambda s: 6 if s.upper().replace("-", "") == "UTF8" else -1)

# -- relations --------------------------------------------------------------------------------


def _describe() -> Any:
    from dsql.sql.system import describe
    return describe


def pg_table_is_visible(oid: int) -> bool:
    from dsql.sql.system import relations
    cat, sess = context.catalog(), context.session()
    rel = relations.relation_by_oid(cat, oid)
    if rel is None:
        return False
    found = relations.find_relation_oid(cat, sess, None, rel.name)
    return found == int(oid)


fn("pg_table_is_visible", (OI,), B, pg_table_is_visible)
fn("pg_get_indexdef", (OI,), T, lambda oid: _describe().index_def(context.catalog(), oid))
fn("pg_get_indexdef", (OI, I4, B), T,
   lambda oid, col, pretty: _describe().index_def(context.catalog(), oid, col))
fn("pg_get_constraintdef", (OI,), T,
   lambda oid: _describe().constraint_def(context.catalog(), oid))
fn("pg_get_constraintdef", (OI, B), T,
   lambda oid, pretty: _describe().constraint_def(context.catalog(), oid))
fn("pg_get_expr", (T, OI), T, lambda e, rel: e)
fn("pg_get_expr", (T, OI, B), T, lambda e, rel, pretty: e)
fn("pg_get_viewdef", (OI,), T, lambda oid: None)
fn("pg_get_viewdef", (OI, B), T, lambda oid, pretty: None)
fn("pg_get_serial_sequence", (T, T), T, lambda t, c: None)
fn("pg_get_statisticsobjdef_columns", (OI,), T, lambda oid: None)
fn("pg_relation_is_publishable", (st.REGCLASS,), B, lambda oid: False)
fn("pg_relation_size", (st.REGCLASS,), r.INT8, lambda oid: 0)
fn("pg_total_relation_size", (st.REGCLASS,), r.INT8, lambda oid: 0)
fn("pg_table_size", (st.REGCLASS,), r.INT8, lambda oid: 0)
fn("obj_description", (OI,), T, lambda oid: None)
fn("obj_description", (OI, N), T, lambda oid, cat: None)
fn("shobj_description", (OI, N), T, lambda oid, cat: None)
fn("col_description", (OI, I4), T, lambda oid, n: None)


def pg_get_userbyid(oid: int) -> str:
    from dsql.sql.system import relations
    for ro in relations.roles_of(context.catalog(), context.session()):
        if ro.oid == int(oid):
            return ro.name
    return f"unknown (OID={int(oid)})"


fn("pg_get_userbyid", (OI,), N, pg_get_userbyid)

# -- privileges (not modelled yet: everything is allowed) ------------------------------------------

for _name in ("has_table_privilege", "has_schema_privilege", "has_database_privilege",
              "has_column_privilege", "has_sequence_privilege", "has_function_privilege",
              "has_any_column_privilege"):
    for _args in ((T, T), (OI, T), (N, T, T), (N, OI, T), (OI, T, T), (OI, OI, T), (T, T, T),
                  (N, OI, I4, T), (OI, I4, T), (T, I4, T), (T, T, T, T)):
        fn(_name, _args, B, lambda *a: True)
fn("pg_has_role", (N, T), B, lambda *a: True)
fn("pg_has_role", (N, N, T), B, lambda *a: True)

# -- settings and the server ----------------------------------------------------------------------


def current_setting(name: str, missing_ok: bool = False) -> str | None:
    from dsql.errors import UndefinedObject
    sess = context.session()
    try:
        if sess is None:
            from dsql.sql import settings as gucs
            return gucs.lookup(name).default
        return str(sess._show(name))
    except UndefinedObject:
        if missing_ok:
            return None
        raise


def set_config(name: str, value: str | None, is_local: bool) -> str | None:
    sess = context.session()
    if sess is None:
        return value
    sess._set(name, value, local=bool(is_local) and sess.in_block)
    return str(sess._show(name))


fn("current_setting", (T,), T, current_setting)
fn("current_setting", (T, B), T, current_setting)
fn("set_config", (T, T, B), T, set_config, strict=False)
fn("pg_is_in_recovery", (), B, lambda: False)
fn("inet_server_port", (), I4, lambda: None, strict=False)
fn("pg_postmaster_start_time", (), r.TIMESTAMPTZ, lambda: None, strict=False)


def current_schemas(implicit: bool) -> list[str]:
    sess = context.session()
    path = list(getattr(sess, "_search_path", None) or ["public"])
    cat = context.catalog()
    path = [s for s in path if s in cat.schemas or s in ("pg_catalog", "information_schema")]
    if implicit and "pg_catalog" not in path:
        path.insert(0, "pg_catalog")
    return path


fn("current_schemas", (B,), st.NAME_ARRAY, current_schemas)

# -- arrays ---------------------------------------------------------------------------------------


def _elem_out(t: Any) -> Any:
    elem = st.ELEMENT_OF.get(t.oid)
    if elem is None and t.oid in (st.INT2VECTOR.oid, st.OIDVECTOR.oid):
        return str
    if elem is None:
        from dsql.errors import DatatypeMismatch
        raise DatatypeMismatch(f"function array_to_string({r.format_type(t)}, text) "
                               "does not exist")
    return elem.output_fn()


def _array_to_string_binder(types: tuple[Any, ...], ctx: Any) -> Any:
    out = _elem_out(types[0])
    nargs = len(types)

    def impl(a: Any, sep: Any, null: Any = None) -> Any:
        if a is None or sep is None:
            return None
        parts = []
        for v in a:
            if v is None:
                if null is not None:
                    parts.append(null)
            else:
                parts.append(out(v))
        return sep.join(parts)
    return impl if nargs == 3 else (lambda a, sep: impl(a, sep))


fn("array_to_string", (ANY, T), T, None, binder=_array_to_string_binder, strict=False)
fn("array_to_string", (ANY, T, T), T, None, binder=_array_to_string_binder, strict=False)
fn("array_upper", (ANY, I4), I4, lambda a, d: (len(a) or None) if d == 1 else None)
fn("array_lower", (ANY, I4), I4, lambda a, d: (1 if a else None) if d == 1 else None)
fn("array_length", (ANY, I4), I4, lambda a, d: (len(a) or None) if d == 1 else None)
fn("cardinality", (ANY,), I4, lambda a: len(a))

for _at in (*st.ARRAYS, r.TEXT_ARRAY):
    add_operator(FunctionDef("||", (_at, _at), _at, lambda a, b: list(a) + list(b)))


def pg_size_pretty(n: Any) -> str:
    v = int(n)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(v) < 10 * 1024 or unit == "TB":
            return f"{v} {unit}"
        v = (v + 512) // 1024 if v >= 0 else -((-v + 512) // 1024)
    raise AssertionError("unreachable")


fn("pg_size_pretty", (r.INT8,), T, pg_size_pretty)
fn("pg_size_pretty", (r.NUMERIC,), T, pg_size_pretty)
fn("pg_tablespace_location", (OI,), T, lambda oid: "")
fn("pg_database_size", (N,), r.INT8, lambda d: 0)
fn("pg_database_size", (OI,), r.INT8, lambda d: 0)


def _proc(oid: int) -> Any:
    from dsql.sql.system import procs
    return next((p for p in procs.procs() if p.oid == int(oid)), None)


def pg_get_function_result(oid: int) -> str | None:
    p = _proc(oid)
    return None if p is None else format_type(p.result_oid, -1)


def pg_get_function_arguments(oid: int) -> str | None:
    p = _proc(oid)
    if p is None:
        return None
    names = [format_type(a, -1) or "?" for a in p.arg_oids]
    if p.variadic and names:
        names[-1] = "VARIADIC " + names[-1] + "[]"
    return ", ".join(names)


fn("pg_get_function_result", (OI,), T, pg_get_function_result)
fn("pg_get_function_arguments", (OI,), T, pg_get_function_arguments)
fn("pg_get_function_identity_arguments", (OI,), T, pg_get_function_arguments)

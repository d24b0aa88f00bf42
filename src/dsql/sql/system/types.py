"""The types system catalogs are made of: oid, name, "char", the reg* OID aliases, int2vector,
oidvector, pg_node_tree, aclitem and one-dimensional arrays of them (and of int2/int4/bool).

Importing this module registers them with dsql.sql.types.registry (by OID and name) and adds
PostgreSQL's casts among them to dsql.sql.casts, so `x::regclass`, `oid::int8`,
`'{1,2}'::oid[]` and the wire layer's output by type OID work like the built-in types.

Values: oid and reg* are Python ints; a reg* value made by a cast is a RegOid (an int that
remembers its text form, so output needs no catalog); name and "char" are str; vectors and
arrays are lists.

Thread-safety: registration happens once at import; afterwards everything is read-only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from dsql.errors import InvalidTextRepresentation, NumericValueOutOfRange, UndefinedFunction
from dsql.sql import casts
from dsql.sql.errors import UndefinedTable
from dsql.sql.system import context
from dsql.sql.types import array
from dsql.sql.types import registry as r
from dsql.sql.types.registry import SqlType

NAMEDATALEN = 64


class RegOid(int):
    """A reg* value: the OID, plus the text its output function prints."""

    label: str

    def __new__(cls, oid: int, label: str) -> RegOid:
        v = super().__new__(cls, oid)
        v.label = label
        return v


# -- input / output ------------------------------------------------------------------------------

def oid_in(s: str) -> int:
    try:
        v = int(s.strip())
    except ValueError:
        raise InvalidTextRepresentation(f'invalid input syntax for type oid: "{s}"') from None
    if not -(1 << 31) <= v < (1 << 32):
        raise NumericValueOutOfRange(f'value "{s}" is out of range for type oid')
    return v % (1 << 32)


def name_in(s: str) -> str:
    b = s.encode("utf-8")
    if len(b) < NAMEDATALEN:
        return s
    return b[:NAMEDATALEN - 1].decode("utf-8", "ignore")


def char_in(s: str) -> str:
    return s[:1]


def reg_out(v: Any) -> str:
    label = getattr(v, "label", None)
    return label if label is not None else str(int(v))


def _split_qualified(s: str) -> tuple[str | None, str]:
    s = s.strip()
    parts = re.findall(r'"((?:[^"]|"")*)"|([^."]+)', s)
    names = [q.replace('""', '"') if q else u.strip().lower() for q, u in parts]
    if len(names) == 2:
        return names[0], names[1]
    return None, names[-1] if names else s


def _numeric_oid(s: str) -> int | None:
    t = s.strip()
    return int(t) if t.isdigit() else None


def regclass_in(s: str) -> int:
    n = _numeric_oid(s)
    if n is not None:
        return RegOid(n, regclass_label(n))
    from dsql.sql.system import relations
    schema, name = _split_qualified(s)
    oid = relations.find_relation_oid(context.catalog(), context.session(), schema, name)
    if oid is None:
        shown = f"{schema}.{name}" if schema else name
        raise UndefinedTable(f'relation "{shown}" does not exist')
    return RegOid(oid, regclass_label(oid))


def regclass_label(oid: int) -> str:
    from dsql.sql.system import relations
    return relations.relation_label(context.catalog(), context.session(), oid) or str(oid)


def regtype_in(s: str) -> int:
    n = _numeric_oid(s)
    if n is not None:
        return RegOid(n, regtype_label(n))
    text = s.strip().lower()
    if text.startswith("pg_catalog."):
        text = text[len("pg_catalog."):]
    t = type_by_name(text)
    if t is None:
        from dsql.errors import UndefinedObject
        raise UndefinedObject(f'type "{s.strip()}" does not exist')
    return RegOid(t.oid, regtype_label(t.oid))


def type_by_name(text: str) -> SqlType | None:
    """A type by the names regtype accepts: 'integer', 'int4', 'character varying', 'oid[]'."""
    text = " ".join(text.strip().strip('"').split())
    m = re.match(r"^(.*?)\s*(\(\s*[\d,\s]+\))?\s*(\[\])?$", text)
    base = m.group(1) if m else text
    is_array = bool(m and m.group(3))
    if base.startswith("_"):
        is_array, base = True, base[1:]
    try:
        t = r.lookup_type(base)
    except Exception:
        t = EXTRA_BY_NAME.get(base)
        if t is None:
            return None
    if is_array:
        return array_type_of(t)
    return t


def regtype_label(oid: int) -> str:
    try:
        t = r.type_by_oid(oid)
    except Exception:
        return str(oid)
    elem = ELEMENT_OF.get(t.oid) if t.name.startswith("_") else None
    if (elem or t).oid == r.BPCHAR.oid:  # format_type_be, unlike format_type(oid, NULL)
        return "character[]" if elem is not None else "character"
    return type_display(t)


def type_display(t: SqlType) -> str:
    if t.category == "A" and t.name.startswith("_"):
        elem = ELEMENT_OF.get(t.oid)
        if elem is not None:
            return type_display(elem) + "[]"
    return r.format_type(t)


def regproc_in(s: str) -> int:
    n = _numeric_oid(s)
    if n is not None:
        return RegOid(n, regproc_label(n))
    from dsql.sql.system import procs
    name = s.strip().split("(")[0].strip().lower()
    if name.startswith("pg_catalog."):
        name = name[len("pg_catalog."):]
    oid = procs.proc_oid(name)
    if oid is None:
        raise UndefinedFunction(f'function "{s.strip()}" does not exist')
    return RegOid(oid, name)


def regproc_label(oid: int) -> str:
    if oid == 0:
        return "-"
    from dsql.sql.system import procs
    return procs.proc_name(oid) or str(oid)


def regnamespace_in(s: str) -> int:
    n = _numeric_oid(s)
    if n is not None:
        return RegOid(n, regnamespace_label(n))
    from dsql.sql.system import oids
    name = _split_qualified(s)[1]
    if name not in oids.schema_names(context.catalog().schemas):
        from dsql.errors import UndefinedObject
        raise UndefinedObject(f'schema "{name}" does not exist')
    return RegOid(oids.schema_oid(name), name)


def regnamespace_label(oid: int) -> str:
    from dsql.sql.system import oids
    for name in oids.schema_names(context.catalog().schemas):
        if oids.schema_oid(name) == oid:
            return name
    return str(oid)


def regrole_in(s: str) -> int:
    n = _numeric_oid(s)
    if n is not None:
        return RegOid(n, regrole_label(n))
    from dsql.sql.system import relations
    name = _split_qualified(s)[1]
    for role in relations.roles_of(context.catalog(), context.session()):
        if role.name == name:
            return RegOid(role.oid, name)
    from dsql.errors import UndefinedObject
    raise UndefinedObject(f'role "{name}" does not exist')


def regrole_label(oid: int) -> str:
    from dsql.sql.system import relations
    for role in relations.roles_of(context.catalog(), context.session()):
        if role.oid == oid:
            return role.name
    return str(oid)


def vector_in(s: str) -> list[int]:
    try:
        return [int(x) for x in s.split()]
    except ValueError:
        raise InvalidTextRepresentation(f'invalid input syntax for type oidvector: "{s}"') \
            from None


def vector_out(v: list[int]) -> str:
    return " ".join(str(x) for x in v)


def _array_io(elem: SqlType) -> tuple[Callable[..., Any], Callable[..., str]]:
    """Text input / output of elem[]; they take the session context when the element's do
    (timestamptz follows TimeZone and DateStyle inside arrays too)."""
    ein = elem.in_fn
    eout = elem.out_fn
    assert ein is not None and eout is not None

    def a_in(s: str, ctx: Any = None) -> list[Any]:
        if elem.in_ctx:
            return array.array_in(s, lambda x: ein(x, ctx))
        return array.array_in(s, ein)

    def a_out(v: list[Any], ctx: Any = None) -> str:
        if elem.out_ctx:
            return array.array_out(v, lambda x: eout(x, ctx))
        return array.array_out(v, eout)
    return a_in, a_out


# -- the types -----------------------------------------------------------------------------------

OID = SqlType("oid", 26, array_oid=1028, typlen=4, category="N", display="oid", in_fn=oid_in,
              out_fn=str)
NAME = SqlType("name", 19, array_oid=1003, typlen=64, category="S", display="name",
               in_fn=name_in, out_fn=str)
CHAR = SqlType("char", 18, array_oid=1002, typlen=1, category="Z", display='"char"',
               in_fn=char_in, out_fn=str)
REGPROC = SqlType("regproc", 24, array_oid=1008, typlen=4, category="N", display="regproc",
                  in_fn=regproc_in, out_fn=reg_out)
REGPROCEDURE = SqlType("regprocedure", 2202, array_oid=2207, typlen=4, category="N",
                       display="regprocedure", in_fn=regproc_in, out_fn=reg_out)
REGCLASS = SqlType("regclass", 2205, array_oid=2210, typlen=4, category="N",
                   display="regclass", in_fn=regclass_in, out_fn=reg_out)
REGTYPE = SqlType("regtype", 2206, array_oid=2211, typlen=4, category="N", display="regtype",
                  in_fn=regtype_in, out_fn=reg_out)
REGNAMESPACE = SqlType("regnamespace", 4089, array_oid=4090, typlen=4, category="N",
                       display="regnamespace", in_fn=regnamespace_in, out_fn=reg_out)
REGROLE = SqlType("regrole", 4096, array_oid=4097, typlen=4, category="N", display="regrole",
                  in_fn=regrole_in, out_fn=reg_out)
INT2VECTOR = SqlType("int2vector", 22, array_oid=1006, typlen=-1, category="A",
                     display="int2vector", in_fn=vector_in, out_fn=vector_out)
OIDVECTOR = SqlType("oidvector", 30, array_oid=1013, typlen=-1, category="A",
                    display="oidvector", in_fn=vector_in, out_fn=vector_out)
PG_NODE_TREE = SqlType("pg_node_tree", 194, typlen=-1, category="Z", display="pg_node_tree",
                       in_fn=str, out_fn=str)
ACLITEM = SqlType("aclitem", 1033, array_oid=1034, typlen=12, category="U", display="aclitem",
                  in_fn=str, out_fn=str)

SCALARS = (OID, NAME, CHAR, REGPROC, REGPROCEDURE, REGCLASS, REGTYPE, REGNAMESPACE, REGROLE,
           INT2VECTOR, OIDVECTOR, PG_NODE_TREE, ACLITEM)
REG_TYPES = (REGPROC, REGPROCEDURE, REGCLASS, REGTYPE, REGNAMESPACE, REGROLE)
EXTRA_BY_NAME: dict[str, SqlType] = {t.name: t for t in SCALARS}
ELEMENT_OF: dict[int, SqlType] = {}
_ARRAYS: dict[int, SqlType] = {}


def array_type_of(elem: SqlType) -> SqlType | None:
    """The array type whose elements are `elem` (registered ones only)."""
    if elem.oid == r.TEXT.oid:
        return r.TEXT_ARRAY
    return _ARRAYS.get(elem.base.oid)


def _make_array(elem: SqlType) -> SqlType:
    a_in, a_out = _array_io(elem)
    t = SqlType("_" + elem.name, elem.array_oid, typlen=-1, category="A",
                display=f"{elem.display}[]", in_fn=a_in, out_fn=a_out,
                in_ctx=elem.in_ctx, out_ctx=elem.out_ctx)
    ELEMENT_OF[t.oid] = elem
    _ARRAYS[elem.oid] = t
    return t


ARRAYS = tuple(_make_array(e) for e in (
    OID, NAME, CHAR, r.INT2, r.INT4, r.INT8, r.BOOL, r.FLOAT4, r.FLOAT8, REGTYPE, ACLITEM,
    r.VARCHAR, REGCLASS, REGPROC, REGPROCEDURE, REGNAMESPACE, REGROLE, r.BPCHAR, r.NUMERIC,
    r.DATE, r.TIME, r.TIMESTAMP, r.TIMESTAMPTZ, r.INTERVAL, r.UUID, r.BYTEA, r.JSON, r.JSONB))
ELEMENT_OF[r.TEXT_ARRAY.oid] = r.TEXT
OID_ARRAY = _ARRAYS[OID.oid]
NAME_ARRAY = _ARRAYS[NAME.oid]
CHAR_ARRAY = _ARRAYS[CHAR.oid]
INT2_ARRAY = _ARRAYS[r.INT2.oid]
INT4_ARRAY = _ARRAYS[r.INT4.oid]
BOOL_ARRAY = _ARRAYS[r.BOOL.oid]
ACLITEM_ARRAY = _ARRAYS[ACLITEM.oid]
FLOAT4_ARRAY = _ARRAYS[r.FLOAT4.oid]


# -- registration --------------------------------------------------------------------------------

def _register() -> None:
    for t in SCALARS + ARRAYS:
        r._BY_OID.setdefault(t.oid, t)
        r._BY_NAME.setdefault(t.name, t)
        r._ALIASES.setdefault(t.name, t.name)
    r._ALIASES.setdefault('"char"', "char")
    ident = casts._ident
    add = casts._FUNCS.setdefault
    i, a, e = casts.IMPLICIT, casts.ASSIGNMENT, casts.EXPLICIT
    for src in (r.INT2, r.INT4, r.INT8):
        add((src.oid, OID.oid), (i, ident))
        for reg in REG_TYPES:
            add((src.oid, reg.oid), (i, _to_reg(reg)))
    add((OID.oid, r.INT8.oid), (a, int))
    add((OID.oid, r.INT4.oid), (a, _oid_to_int4))
    for reg in REG_TYPES:
        add((OID.oid, reg.oid), (i, _to_reg(reg)))
        add((reg.oid, OID.oid), (i, int))
        add((reg.oid, r.INT8.oid), (a, int))
        add((reg.oid, r.INT4.oid), (a, _oid_to_int4))
    add((NAME.oid, r.TEXT.oid), (i, ident))
    add((NAME.oid, r.VARCHAR.oid), (a, ident))
    add((NAME.oid, r.BPCHAR.oid), (a, ident))
    add((r.TEXT.oid, NAME.oid), (i, name_in))
    add((r.VARCHAR.oid, NAME.oid), (i, name_in))
    add((r.BPCHAR.oid, NAME.oid), (i, name_in))
    add((CHAR.oid, r.TEXT.oid), (i, ident))
    add((r.TEXT.oid, CHAR.oid), (a, char_in))
    add((CHAR.oid, r.INT4.oid), (e, lambda c: ord(c) if c else 0))
    add((INT2VECTOR.oid, INT2_ARRAY.oid), (i, list))
    add((OIDVECTOR.oid, OID_ARRAY.oid), (i, list))
    add((PG_NODE_TREE.oid, r.TEXT.oid), (i, ident))
    add((r.TEXT_ARRAY.oid, NAME_ARRAY.oid), (a, lambda v: v))
    add((NAME_ARRAY.oid, r.TEXT_ARRAY.oid), (i, lambda v: v))
    _register_array_casts()


def _register_array_casts() -> None:
    """PostgreSQL's array coercion: elem[] -> other[] wherever elem -> other has a cast
    function, in the same context (int2[] -> int4[] implicit, int8[] -> int4[] assignment)."""
    arrays = {**{a.oid: ELEMENT_OF[a.oid] for a in ARRAYS}, r.TEXT_ARRAY.oid: r.TEXT}
    for src_oid, src_elem in arrays.items():
        for dst_oid, dst_elem in arrays.items():
            entry = casts._FUNCS.get((src_elem.oid, dst_elem.oid))
            if src_oid == dst_oid or entry is None:
                continue
            casts._FUNCS.setdefault((src_oid, dst_oid), (entry[0], _elementwise(entry[1])))
    assert (INT2_ARRAY.oid, INT4_ARRAY.oid) in casts._FUNCS


def _elementwise(fn: Callable[[Any], Any]) -> Callable[[list[Any]], list[Any]]:
    def conv(v: list[Any]) -> list[Any]:
        return [None if x is None else fn(x) for x in v]
    return conv


def _oid_to_int4(v: int) -> int:
    v = int(v)
    return v - (1 << 32) if v >= (1 << 31) else v


_LABELS: dict[int, Callable[[int], str]] = {
    REGCLASS.oid: regclass_label, REGTYPE.oid: regtype_label, REGPROC.oid: regproc_label,
    REGPROCEDURE.oid: regproc_label, REGNAMESPACE.oid: regnamespace_label,
    REGROLE.oid: regrole_label}


def _to_reg(reg: SqlType) -> Callable[[int], int]:
    label = _LABELS[reg.oid]

    def conv(v: int) -> int:
        v = int(v) % (1 << 32)
        return RegOid(v, label(v) if v else "-")
    return conv


_register()

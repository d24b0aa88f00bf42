"""Values on the wire: per-column encoders, DataRow messages, Bind parameter decoding.

Text format uses the SQL value layer's output and input functions by type OID
(``dsql.sql.types.registry``), bound once per portal to the session's ValueContext (TimeZone,
DateStyle); binary format uses ``dsql.server.binary``. A few catalog types the value layer does
not model (name, oid, "char") are handled here.

Hot path: ``append_data_rows`` runs once per result row; encoders are chosen once per portal.

Thread-safety: pure functions; the returned closures hold no mutable state.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Sequence
from typing import Any

from dsql.errors import InvalidTextRepresentation, NumericValueOutOfRange, UndefinedObject
from dsql.server import binary
from dsql.server.backend import Column
from dsql.server.errors import IndeterminateDatatype, UndefinedBinaryFunction
from dsql.sql.types import registry
from dsql.sql.types.context import ValueContext

ValueEncoder = Callable[[Any], bytes]
ValueDecoder = Callable[[bytes], Any]

TEXT_FORMAT, BINARY_FORMAT = 0, 1
UNSPECIFIED_OID = 0

_I32 = struct.Struct("!i").pack
_H = struct.Struct("!H").pack
_HDR = struct.Struct("!ci").pack
_ROW_HDR = struct.Struct("!cih").pack
_NULL_FIELD = b"\xff\xff\xff\xff"

# typlen of the types outside the registry (pg_type.typlen).
_EXTRA_TYPLEN = {binary.NAME: 64, binary.OID: 4, binary.CHAR: 1}
_INT_OIDS = frozenset((binary.INT2, binary.INT4, binary.INT8, binary.OID))
_STR_OIDS = frozenset((binary.TEXT, binary.VARCHAR, binary.BPCHAR, binary.NAME, binary.UNKNOWN,
                       binary.JSON, binary.CHAR))


def typlen(type_oid: int) -> int:
    """pg_type.typlen for RowDescription (-1 variable length; -2 for unknown / cstring)."""
    extra = _EXTRA_TYPLEN.get(type_oid)
    if extra is not None:
        return extra
    try:
        return registry.type_by_oid(type_oid).typlen
    except UndefinedObject:
        return -1


def _encode_int(v: int) -> bytes:
    return b"%d" % v


def _encode_str(v: str) -> bytes:
    return v.encode("utf-8")


def _encode_bool(v: bool) -> bytes:
    return b"t" if v else b"f"


def _encode_fallback(v: Any) -> bytes:
    if isinstance(v, bool):
        return b"t" if v else b"f"
    if isinstance(v, bytes):
        return b"\\x" + v.hex().encode()
    return str(v).encode("utf-8")


def text_encoder(type_oid: int, ctx: ValueContext) -> ValueEncoder:
    """Value -> text-format bytes for a column of `type_oid`."""
    if type_oid in _INT_OIDS:
        return _encode_int
    if type_oid in _STR_OIDS:
        return _encode_str
    if type_oid == binary.BOOL:
        return _encode_bool
    try:
        out = registry.type_by_oid(type_oid).output_fn(ctx)
    except UndefinedObject:
        return _encode_fallback
    return lambda v: out(v).encode("utf-8")


def binary_encoder(type_oid: int) -> ValueEncoder:
    enc = binary.encoder(type_oid)
    if enc is None:
        raise UndefinedBinaryFunction(
            f"no binary output function available for type with OID {type_oid}")
    return enc


def expand_formats(formats: Sequence[int], count: int) -> list[int]:
    """Bind's format-code list (empty: all text; one: all that; else one each) for `count`."""
    if not formats:
        return [TEXT_FORMAT] * count
    if len(formats) == 1:
        return [formats[0]] * count
    assert len(formats) == count, "format count checked by the caller"
    return list(formats)


def column_encoders(columns: Sequence[Column], formats: Sequence[int],
                    ctx: ValueContext) -> list[ValueEncoder]:
    """One encoder per column. REQUIRES: formats already expanded to len(columns)."""
    assert len(formats) == len(columns)
    return [binary_encoder(c.type_oid) if f == BINARY_FORMAT else text_encoder(c.type_oid, ctx)
            for c, f in zip(columns, formats, strict=True)]


def row_description_fields(columns: Sequence[Column], formats: Sequence[int]
                           ) -> list[tuple[str, int, int, int, int, int, int]]:
    assert len(formats) == len(columns)
    return [(c.name, c.table_oid, c.column_no, c.type_oid, typlen(c.type_oid), c.typmod, f)
            for c, f in zip(columns, formats, strict=True)]


GENERATED_WIDTH_MAX = 64


@functools.lru_cache(maxsize=GENERATED_WIDTH_MAX)
def _row_writer(width: int) -> Callable[..., None]:
    """A DataRow writer specialised for `width` columns (no inner loop, no zip): about twice
    as fast as the generic loop. Generated once per width, like namedtuple's methods."""
    names = [f"v{i}" for i in range(width)]
    lines = [f"def write_rows(rows, ap, {', '.join(f'e{i}' for i in range(width))}):",
             "    for row in rows:",
             f"        {', '.join(names)}, = row",
             "        size = 6"]
    for i in range(width):
        lines += [f"        if v{i} is None:",
                  f"            f{i} = NULL",
                  "            size += 4",
                  "        else:",
                  f"            b = e{i}(v{i})",
                  f"            f{i} = I32(len(b)) + b",
                  "            size += 4 + len(b)"]
    fields = " + ".join(f"f{i}" for i in range(width))
    lines.append(f"        ap(HDR(b'D', size, {width}) + {fields})")
    namespace: dict[str, Any] = {"NULL": _NULL_FIELD, "I32": _I32, "HDR": _ROW_HDR}
    exec("\n".join(lines), namespace)  # noqa: S102 - code built from integers only
    return namespace["write_rows"]  # type: ignore[no-any-return]


def append_data_rows(out: bytearray, rows: Sequence[Sequence[Any]],
                     encoders: Sequence[ValueEncoder]) -> None:
    """Appends one DataRow message per row to `out`.

    REQUIRES: every row has len(encoders) values (a wrong width raises ValueError).
    """
    width = len(encoders)
    if not rows:
        return
    if 0 < width <= GENERATED_WIDTH_MAX:
        pieces: list[bytes] = []
        _row_writer(width)(rows, pieces.append, *encoders)
        out += b"".join(pieces)
        return
    append_data_rows_generic(out, rows, encoders)


def append_data_rows_generic(out: bytearray, rows: Sequence[Sequence[Any]],
                             encoders: Sequence[ValueEncoder]) -> None:
    """The plain loop (zero or very many columns; and the reference for the generated one)."""
    count = _H(len(encoders))
    width = len(encoders)
    for row in rows:
        if len(row) != width:
            raise ValueError(f"row has {len(row)} values for {width} columns")
        parts = [count]
        for v, enc in zip(row, encoders):  # noqa: B905 - width checked above
            if v is None:
                parts.append(_NULL_FIELD)
            else:
                b = enc(v)
                parts.append(_I32(len(b)))
                parts.append(b)
        body = b"".join(parts)
        out += _HDR(b"D", len(body) + 4)
        out += body


# -- Bind parameters ---------------------------------------------------------------------------

def _text_input(type_oid: int, ctx: ValueContext) -> Callable[[str], Any]:
    if type_oid in (UNSPECIFIED_OID, binary.UNKNOWN, binary.NAME, binary.TEXT, binary.VARCHAR,
                    binary.BPCHAR):
        return str
    if type_oid == binary.OID:
        return _oid_in
    if type_oid == binary.CHAR:
        return lambda s: s[:1]
    try:
        return registry.type_by_oid(type_oid).input_fn(ctx)
    except UndefinedObject:
        return str


def _oid_in(s: str) -> int:
    try:
        v = int(s.strip())
    except ValueError:
        raise InvalidTextRepresentation(f'invalid input syntax for type oid: "{s}"') from None
    if not -(2**31) <= v < 2**32:
        raise NumericValueOutOfRange(f'value "{s}" is out of range for type oid')
    return v % 2**32


def param_decoders(type_oids: Sequence[int], formats: Sequence[int],
                   ctx: ValueContext) -> list[ValueDecoder]:
    """One decoder per parameter. REQUIRES: formats already expanded to len(type_oids)."""
    assert len(formats) == len(type_oids)
    out: list[ValueDecoder] = []
    for i, (oid, fmt) in enumerate(zip(type_oids, formats, strict=True)):
        if fmt == BINARY_FORMAT:
            dec = binary.decoder(oid)
            if dec is None:
                if oid in (UNSPECIFIED_OID, binary.UNKNOWN):
                    raise IndeterminateDatatype(
                        f"could not determine data type of parameter ${i + 1}")
                raise UndefinedBinaryFunction(
                    f"no binary input function available for type with OID {oid}")
            out.append(dec)
        else:
            fn = _text_input(oid, ctx)
            out.append(lambda raw, fn=fn: fn(binary.decode_text(raw)))
    return out


def decode_params(raw_values: Sequence[bytes | None], decoders: Sequence[ValueDecoder],
                  formats: Sequence[int]) -> list[Any]:
    """Bind parameter bytes -> Python values. A malformed binary value is reported as
    PostgreSQL does: 22P03 "incorrect binary data format in bind parameter N"."""
    assert len(raw_values) == len(decoders) == len(formats)
    values: list[Any] = []
    for i, raw in enumerate(raw_values):
        if raw is None:
            values.append(None)
            continue
        try:
            values.append(decoders[i](raw))
        except binary.BinaryFormatError:
            raise binary.InvalidBinaryRepresentation(
                f"incorrect binary data format in bind parameter {i + 1}") from None
    return values

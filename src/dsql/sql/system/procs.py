"""pg_proc's view of the built-in function catalog (dsql.sql.functions.catalog.FUNCTIONS).

One row per overload. OIDs are stable for a given name and argument list:
    proc oid := 0x50000000 + crc32(name "(" argument type oids ")") mod 2^28
and a name's "main" OID (for regproc) is its first overload's.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache

from dsql.sql.functions import catalog as fcat
from dsql.sql.system import oids


@dataclass(frozen=True)
class Proc:
    oid: int
    name: str
    arg_oids: tuple[int, ...]
    result_oid: int
    variadic: bool
    strict: bool


def _oid_of(name: str, args: tuple[int, ...]) -> int:
    key = f"{name}({','.join(map(str, args))})".encode()
    return 0x50000000 + zlib.crc32(key) % (1 << 28)


@lru_cache(maxsize=1)
def _all() -> tuple[tuple[Proc, ...], dict[str, int], dict[int, str]]:
    fcat._ensure_builtins()
    procs = []
    by_name: dict[str, int] = {}
    by_oid: dict[int, str] = {}
    for name in sorted(fcat.FUNCTIONS):
        for d in fcat.FUNCTIONS[name]:
            args = tuple(a.oid for a in d.args)
            p = Proc(_oid_of(name, args), name, args, d.result.oid, d.variadic, d.strict)
            if p.oid in by_oid:
                continue
            procs.append(p)
            by_name.setdefault(name, p.oid)
            by_oid[p.oid] = name
    return tuple(procs), by_name, by_oid


def procs() -> tuple[Proc, ...]:
    return _all()[0]


def proc_oid(name: str) -> int | None:
    return _all()[1].get(name)


def proc_name(oid: int) -> str | None:
    return _all()[2].get(int(oid))


NAMESPACE = oids.PG_CATALOG_OID

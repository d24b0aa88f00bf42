"""Array-typed statement parameters: a Python list that knows its SQL array type.

Why: Session.execute() types parameters by their Python class (a plain list is jsonb, as
psycopg-style callers expect), but a wire client that declared or was told `$1` is oid[] /
int4[] / text[] sends a list that must bind as that array type. `typed(values, t)` returns the
list as an instance of a per-type list subclass carrying `sql_type`; the subclass is the plan
cache's key part, so an int4[] and an oid[] parameter never share a plan.

Thread-safety: the class cache is filled under a lock; instances are ordinary lists.
Invariants:
  1. array_class(t) is the same class for the same type OID (cache keys stay stable).
  2. isinstance(typed(v, t), list) and typed(v, t) == v.
"""

from __future__ import annotations

import threading
from typing import Any

from dsql.sql.types.registry import SqlType

_CLASSES: dict[int, type[list[Any]]] = {}
_LOCK = threading.Lock()
_CLASSES_MAX = 4096  # array types are few; a bound on the cache all the same


def array_class(t: SqlType) -> type[list[Any]]:
    """The list subclass whose instances bind as parameters of array type `t`."""
    assert t.oid > 0, t
    cls = _CLASSES.get(t.oid)
    if cls is None:
        with _LOCK:
            cls = _CLASSES.get(t.oid)
            if cls is None:
                assert len(_CLASSES) < _CLASSES_MAX, "too many array parameter types"
                cls = type(f"ArrayParam_{t.name}", (list,), {"sql_type": t, "__slots__": ()})
                _CLASSES[t.oid] = cls
    assert cls.sql_type.oid == t.oid  # type: ignore[attr-defined]
    return cls


def typed(values: list[Any], t: SqlType) -> list[Any]:
    """`values` as a parameter of array type `t` (a copy unless it already is one)."""
    assert isinstance(values, list), type(values)
    if getattr(type(values), "sql_type", None) is t:
        return values
    return array_class(t)(values)


def sql_type_of(value: Any) -> SqlType | None:
    """The array type a typed list carries, or None for any other value."""
    return getattr(type(value), "sql_type", None)

"""The function and operator catalog, and PostgreSQL's overload resolution over it.

Every built-in is a FunctionDef: a name (or operator symbol), declared argument types, a result
type and an implementation. Resolution (`resolve_function`, `resolve_operator`) follows
PostgreSQL's func_select_candidate: exact match, then the candidates reachable by implicit
casts, keeping those with the most exact matches, then the most preferred types, then
resolving untyped literals toward the string category, then assuming unknowns share the type
of the known arguments. Errors are PostgreSQL's: 42883 "function f(integer) does not exist" /
"operator does not exist: integer + date", 42725 "... is not unique".

A Resolved call bundles the argument coercions, the bound implementation (session context
included) and NULL handling, so the executor calls it once per row:

    call = resolve_operator("+", [INT4, NUMERIC]).bind(ctx)
    call(1, Decimal('2.5'))     # Decimal('3.5')
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dsql.errors import AmbiguousFunction, UndefinedFunction
from dsql.sql import casts
from dsql.sql.types import registry as r
from dsql.sql.types.context import DEFAULT_CONTEXT, ValueContext
from dsql.sql.types.registry import SqlType, format_type

# Pseudo types: they accept any argument type (category 'P', never exact, never preferred).
ANY = SqlType("any", 2276, typlen=4, category="P", display='"any"')
ANYNONARRAY = SqlType("anynonarray", 2776, typlen=4, category="P", display="anynonarray")
ANYELEMENT = SqlType("anyelement", 2283, typlen=4, category="P", display="anyelement")
_PSEUDO = frozenset((ANY.oid, ANYNONARRAY.oid, ANYELEMENT.oid))

Impl = Callable[..., Any]
# builds an implementation from the actual argument types (for polymorphic functions)
Binder = Callable[[tuple[SqlType, ...], ValueContext], Impl]


@dataclass(frozen=True)
class FunctionDef:
    """One built-in function or operator overload."""

    name: str
    args: tuple[SqlType, ...]
    result: SqlType
    impl: Impl | None = None
    binder: Binder | None = field(default=None, compare=False)
    strict: bool = True  # any NULL argument gives NULL without calling impl
    needs_ctx: bool = False  # impl takes the ValueContext as its last argument
    variadic: bool = False  # the last declared argument repeats (one or more times)
    # the result type from the actual argument types (polymorphic functions)
    result_fn: Callable[[tuple[SqlType, ...]], SqlType] | None = field(default=None,
                                                                       compare=False)


FUNCTIONS: dict[str, list[FunctionDef]] = {}
OPERATORS: dict[tuple[str, int], list[FunctionDef]] = {}


def add_function(d: FunctionDef) -> FunctionDef:
    FUNCTIONS.setdefault(d.name, []).append(d)
    return d


def add_operator(d: FunctionDef) -> FunctionDef:
    assert len(d.args) in (1, 2), d
    OPERATORS.setdefault((d.name, len(d.args)), []).append(d)
    return d


# -- resolution --------------------------------------------------------------------------------

def _declared(d: FunctionDef, nargs: int) -> tuple[SqlType, ...] | None:
    if not d.variadic:
        return d.args if len(d.args) == nargs else None
    fixed = len(d.args) - 1
    if nargs < fixed + 1:
        return None
    return d.args[:fixed] + (d.args[-1],) * (nargs - fixed)


def _coercible(src: SqlType, dst: SqlType) -> bool:
    if dst.oid in _PSEUDO or src.oid == dst.oid or src.oid == r.UNKNOWN.oid:
        return True
    return casts.can_cast(src, dst, casts.IMPLICIT)


def _is_preferred_in(category: str, t: SqlType) -> bool:
    return t.preferred and t.category == category


def select_candidate(inputs: Sequence[SqlType],
                     candidates: list[tuple[FunctionDef, tuple[SqlType, ...]]],
                     is_operator: bool) -> tuple[FunctionDef, tuple[SqlType, ...]] | None:
    """func_select_candidate; returns None when no unique best candidate exists."""
    unknown = r.UNKNOWN.oid
    inputs = list(inputs)
    nargs = len(inputs)
    # exact match (a binary operator's unknown side takes the other side's type)
    probe = list(inputs)
    if is_operator and nargs == 2:
        if probe[0].oid == unknown and probe[1].oid != unknown:
            probe[0] = probe[1]
        elif probe[1].oid == unknown and probe[0].oid != unknown:
            probe[1] = probe[0]
    for c in candidates:
        if all(a.oid == p.oid for a, p in zip(c[1], probe, strict=True)):
            return c
    cands = [c for c in candidates if all(_coercible(i, a) for i, a in
                                          zip(inputs, c[1], strict=True))]
    if len(cands) <= 1:
        return cands[0] if cands else None

    def keep_max(score: Callable[[tuple[SqlType, ...]], int]) -> None:
        nonlocal cands
        scores = [score(c[1]) for c in cands]
        best = max(scores)
        cands = [c for c, s in zip(cands, scores, strict=True) if s == best]

    keep_max(lambda args: sum(1 for i, a in zip(inputs, args, strict=True)
                              if i.oid != unknown and i.oid == a.oid))
    if len(cands) == 1:
        return cands[0]
    keep_max(lambda args: sum(1 for i, a in zip(inputs, args, strict=True)
                              if i.oid != unknown and (i.oid == a.oid
                                                      or _is_preferred_in(i.category, a))))
    if len(cands) == 1:
        return cands[0]
    if any(i.oid == unknown for i in inputs):
        slot_cat: dict[int, str] = {}
        slot_pref: dict[int, bool] = {}
        resolved = True
        for pos, i in enumerate(inputs):
            if i.oid != unknown:
                continue
            conflict = False
            cat: str | None = None
            pref = False
            for _, args in cands:
                a = args[pos]
                if cat is None:
                    cat, pref = a.category, a.preferred
                elif a.category == cat:
                    pref = pref or a.preferred
                elif a.category == "S":
                    cat, pref = "S", a.preferred
                else:
                    conflict = True
            if conflict and cat != "S":
                resolved = False
                break
            assert cat is not None
            slot_cat[pos], slot_pref[pos] = cat, pref
        if resolved:
            kept = [c for c in cands if all(
                c[1][pos].category == slot_cat[pos]
                and (not slot_pref[pos] or c[1][pos].preferred) for pos in slot_cat)]
            if len(kept) == 1:
                return kept[0]
            if kept:
                cands = kept
    known = {i.oid for i in inputs if i.oid != unknown}
    if len(known) == 1:  # every typed argument has the same type: assume it for the unknowns
        kt = next(i for i in inputs if i.oid != unknown)
        fits = [c for c in cands if all(_coercible(kt, a) for a in c[1])]
        if len(fits) == 1:
            return fits[0]
    return None


def _type_list(inputs: Sequence[SqlType]) -> str:
    return ", ".join(format_type(t.base) for t in inputs)


@dataclass(frozen=True)
class Resolved:
    """A resolved call: the chosen overload, the coercion of each argument, the result type."""

    defn: FunctionDef
    inputs: tuple[SqlType, ...]
    declared: tuple[SqlType, ...]
    result: SqlType

    def bind(self, ctx: ValueContext = DEFAULT_CONTEXT) -> Callable[..., Any]:
        """A per-row callable over the raw argument values (of the input types)."""
        d = self.defn
        if d.binder is not None:
            impl = d.binder(self.inputs, ctx)
        else:
            assert d.impl is not None, d.name
            impl = d.impl
            if d.needs_ctx:
                base = impl
                impl = lambda *a: base(*a, ctx)  # noqa: E731
        convs: list[Callable[[Any], Any] | None] = []
        for src, dst in zip(self.inputs, self.declared, strict=True):
            if dst.oid in _PSEUDO or src.oid == dst.oid:
                convs.append(None)
            else:
                convs.append(casts.cast_fn(src, dst, ctx, casts.IMPLICIT))
        if d.binder is not None:
            convs = [None] * len(convs)  # polymorphic binders see the values as given
        return _make_call(impl, convs, d.strict)


def _make_call(impl: Impl, convs: list[Callable[[Any], Any] | None],
               strict: bool) -> Callable[..., Any]:
    if not any(convs):
        if not strict:
            return impl
        n = len(convs)
        if n == 1:
            return lambda a: None if a is None else impl(a)
        if n == 2:
            return lambda a, b: None if a is None or b is None else impl(a, b)
        return lambda *a: None if any(x is None for x in a) else impl(*a)

    def call(*values: Any) -> Any:
        if strict and any(v is None for v in values):
            return None
        args = [v if c is None or v is None else c(v) for v, c in zip(values, convs, strict=True)]
        return impl(*args)
    return call


def _resolve(defs: list[FunctionDef], inputs: Sequence[SqlType],
             is_operator: bool) -> tuple[FunctionDef, tuple[SqlType, ...]] | None:
    cands = []
    for d in defs:
        decl = _declared(d, len(inputs))
        if decl is not None:
            cands.append((d, decl))
    if not cands:
        return None
    picked = select_candidate(inputs, cands, is_operator)
    if picked is None:
        viable = [c for c in cands if all(_coercible(i, a) for i, a in
                                          zip(inputs, c[1], strict=True))]
        if len(viable) > 1:
            raise _Ambiguous()
    return picked


class _Ambiguous(Exception):
    pass


def _result_type(d: FunctionDef, inputs: tuple[SqlType, ...]) -> SqlType:
    return d.result_fn(inputs) if d.result_fn is not None else d.result


_loaded = False
_load_lock = threading.Lock()


def _ensure_builtins() -> None:
    """Registers the built-in functions once. Marked loaded only after registration finished,
    under a lock: a thread must never resolve against a half-filled catalog."""
    global _loaded
    if _loaded:
        return
    with _load_lock:
        if not _loaded:
            from dsql.sql.functions import builtins  # noqa: F401  (registers on import)

            _loaded = True


def resolve_function(name: str, inputs: Sequence[SqlType]) -> Resolved:
    _ensure_builtins()
    inputs = tuple(t.base for t in inputs)
    key = name.lower()
    try:
        picked = _resolve(FUNCTIONS.get(key, []), inputs, False)
    except _Ambiguous:
        raise AmbiguousFunction(f"function {key}({_type_list(inputs)}) is not unique") from None
    if picked is None:
        err = UndefinedFunction(f"function {key}({_type_list(inputs)}) does not exist")
        err.hint = ("No function matches the given name and argument types. You might need "
                    "to add explicit type casts.")
        raise err
    d, decl = picked
    return Resolved(d, inputs, decl, _result_type(d, inputs))


def resolve_operator(symbol: str, inputs: Sequence[SqlType]) -> Resolved:
    _ensure_builtins()
    inputs = tuple(t.base for t in inputs)
    shown = (f"{format_type(inputs[0])} {symbol} {format_type(inputs[1])}" if len(inputs) == 2
             else f"{symbol} {format_type(inputs[0])}")
    try:
        picked = _resolve(OPERATORS.get((symbol, len(inputs)), []), inputs, True)
    except _Ambiguous:
        raise AmbiguousFunction(f"operator is not unique: {shown}") from None
    if picked is None:
        err = UndefinedFunction(f"operator does not exist: {shown}")
        err.hint = ("No operator matches the given name and argument types. You might need "
                    "to add explicit type casts.")
        raise err
    d, decl = picked
    return Resolved(d, inputs, decl, _result_type(d, inputs))

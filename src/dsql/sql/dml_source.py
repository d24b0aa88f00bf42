"""The rows an UPDATE or DELETE acts on: the target table's rows that pass WHERE, joined with
UPDATE ... FROM / DELETE ... USING items when there are any.

    UPDATE acct a SET bal = a.bal + d.amount FROM deposit d WHERE d.acct = a.id
    DELETE FROM acct a USING closed c WHERE c.id = a.id RETURNING a.*, c.reason

`plan_targets` returns the scope expressions of the statement see (the target's columns, then
the FROM items' columns) and a function giving, per execution, a finished list of
(row key, target row, row in that scope). PostgreSQL's rule for a target row that several
source rows match: it is acted on once, with one of them (here: the first found). The list is
complete before any write, so every expression of the statement reads the table as it was
when the statement started, as in PostgreSQL.

The join is a hash join when WHERE has a conjunct `target expression = source expression`
(one side reading only the target, the other only the FROM items), else a nested loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from dsql.sql.access import choose_access
from dsql.sql.ctes import DuplicateAlias
from dsql.sql.plan import ExecContext
from dsql.sql.scope import Scope

if TYPE_CHECKING:
    from dsql.catalog.layout import IndexCodec, TableCodec
    from dsql.catalog.objects import Table
    from dsql.sql.select import Binder

Row = tuple[Any, ...]
Target = tuple[bytes, Row, Row]


def target_scope(table: Table, alias: str) -> Scope:
    scope = Scope()
    scope.add_relation(alias, [(c.name, c.type) for c in table.columns], table.id)
    return scope


def plan_targets(b: Binder, table: Table, alias: str, codec: TableCodec,
                 indexes: list[IndexCodec], where: list[exp.Expression],
                 source: exp.Expression | list[exp.Expression] | None
                 ) -> tuple[Scope, Callable[[ExecContext], list[Target]]]:
    tscope = target_scope(table, alias)
    tcomp = b.compiler.with_scope(tscope)
    if not source:
        access = choose_access(codec, indexes, alias, where, tcomp)
        filt = [tcomp.boolean(x, "WHERE").fn for x in where] if not access.exact else []
        b.volatile |= tcomp.volatile

        def simple(ec: ExecContext) -> list[Target]:
            p = ec.params
            return [(k, row, row) for k, row in access.run(ec)
                    if all(f(row, p) is True for f in filt)]
        simple.access = access  # type: ignore[attr-defined]  (the autocommit fast path)
        simple.filters = filt  # type: ignore[attr-defined]
        return tscope, simple
    from dsql.sql.select import _from_item, _join
    firsts = source if isinstance(source, list) else [source.this]
    item = None
    for first in firsts:
        nxt = _from_item(b, first)
        for j in first.args.get("joins") or []:
            nxt = _join(b, nxt, j)
        if item is None:
            item = nxt
        else:
            item = _cross(item, nxt)
    assert item is not None
    if alias in item.scope.relations:
        raise DuplicateAlias(f'table name "{alias}" specified more than once')
    scope = Scope()
    scope.extend(tscope)
    scope.extend(item.scope)
    comp = b.compiler.with_scope(scope)
    # conjuncts on the target alone choose its access path; the rest filter joined rows
    access = choose_access(codec, indexes, alias, where, tcomp)
    ntarget = len(tscope.columns)
    hash_pair = _hash_keys(b, tscope, item.scope, where)
    filt = [comp.boolean(x, "WHERE").fn for x in where]
    b.volatile |= comp.volatile or tcomp.volatile
    src = item.source

    def joined(ec: ExecContext) -> list[Target]:
        p = ec.params
        others = list(src(ec))
        out: list[Target] = []
        if hash_pair is not None:
            tkey, skey = hash_pair
            table_of: dict[Any, list[Row]] = {}
            for o in others:
                k = skey(o, p)
                if k is not None:
                    table_of.setdefault(k, []).append(o)
        for k, row in access.run(ec):
            cands: Any = others
            if hash_pair is not None:
                tk = hash_pair[0](row, p)
                cands = table_of.get(tk, ()) if tk is not None else ()
            for o in cands:
                both = row + o
                if all(f(both, p) is True for f in filt):
                    out.append((k, row, both))
                    break
        assert all(len(t[2]) >= ntarget for t in out[:1])
        return out
    return scope, joined


def _cross(left: Any, right: Any) -> Any:
    from dsql.sql.select import FromItem
    scope = Scope()
    scope.extend(left.scope)
    scope.extend(right.scope)
    lsrc, rsrc = left.source, right.source

    def run(ec: ExecContext) -> Iterator[Row]:
        rrows = list(rsrc(ec))
        for lr in lsrc(ec):
            for rr in rrows:
                yield lr + rr
    return FromItem(scope, run)


def _hash_keys(b: Binder, tscope: Scope, sscope: Scope, where: list[exp.Expression]
               ) -> tuple[Callable[[Row, Any], Any], Callable[[Row, Any], Any]] | None:
    """(target key fn, source key fn) for the first `t-side = s-side` conjunct of one type."""
    for c in where:
        if not isinstance(c, exp.EQ):
            continue
        for a, s in ((c.this, c.expression), (c.expression, c.this)):
            ta, sa = _compiles(b, tscope, a), _compiles(b, sscope, s)
            if ta is None or sa is None or ta.type.oid != sa.type.oid or ta.const or sa.const:
                continue
            gk = ta.type.group_key
            ft, fs = ta.fn, sa.fn
            if gk is None:
                return ft, fs

            def tkey(row: Row, p: Any, ft: Any = ft, gk: Any = gk) -> Any:
                v = ft(row, p)
                return None if v is None else gk(v)

            def skey(row: Row, p: Any, fs: Any = fs, gk: Any = gk) -> Any:
                v = fs(row, p)
                return None if v is None else gk(v)
            return tkey, skey
    return None


def _compiles(b: Binder, scope: Scope, e: exp.Expression) -> Any:
    """The expression bound over `scope` alone, or None when it reads anything else."""
    if e.find(exp.Select) is not None or e.find(exp.Column) is None:
        return None
    if not all(scope.has(c.table or None, c.name) for c in e.find_all(exp.Column)):
        return None
    try:
        return b.compiler.with_scope(scope).compile(e)
    except Exception:
        return None

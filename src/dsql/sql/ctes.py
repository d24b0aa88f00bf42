"""WITH queries (common table expressions), plain and RECURSIVE, before SELECT and DML.

    WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3)
    SELECT n FROM r                                          -- 1, 2, 3

A WITH clause binds each query in order (a later one may read an earlier one) into the
binder's `ctes` for the statement it precedes; a reference in FROM is a FromItem over the
query's rows. A query of the statement's top level cannot read an enclosing row, so its rows
are computed once per execution and kept in `ec.memo` (PostgreSQL materialises a WITH query
read more than once; the results are the same as inlining for non-volatile queries); inside a
correlated subquery it runs per reference.

RECURSIVE: `non-recursive-term UNION [ALL] recursive-term`. The recursive term reads the
working table (the rows the previous step added) through `ec.memo[token]`; iteration stops when
a step adds no row. UNION drops rows equal to any row already produced. A bound on steps and
rows (RECURSION_ROWS_MAX) turns a query that never terminates into 54000 instead of a hang.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from dsql.errors import (
    DatatypeMismatch,
    DsqlError,
    FeatureNotSupported,
    SyntaxErrorOrAccessRuleViolation,
)
from dsql.sql.errors import InvalidColumnReference
from dsql.sql.plan import ExecContext
from dsql.sql.scope import Scope
from dsql.sql.types import registry as r

if TYPE_CHECKING:
    from dsql.sql.select import Binder, FromItem

Row = tuple[Any, ...]
RECURSION_ROWS_MAX = 1_000_000  # rows a recursive query may produce (and steps it may take)


class ProgramLimitExceeded(DsqlError):
    sqlstate = "54000"


class InvalidRecursion(DsqlError):
    sqlstate = "42P19"


class DuplicateAlias(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42712"


@dataclass
class Cte:
    name: str
    names: list[str]
    types: list[r.SqlType]
    rows: Callable[[ExecContext], list[Row]]
    level: Any = None  # the defining query's expr.Level (None: the statement's top level)


def cte_item(b: Binder, cte: Cte, node: exp.Table) -> FromItem:
    """A reference in FROM. From a subquery nested `k` levels below the WITH (when the WITH is
    itself inside a subquery, so its rows may depend on an enclosing row), the levels between
    are correlated and the query runs with the `k` rows they pushed set aside, so its outer
    references see the stack as at its own level."""
    from dsql.sql.select import FromItem, alias_names
    alias = node.alias_or_name
    names = alias_names(node, cte.names, alias)
    scope = Scope()
    scope.add_relation(alias, list(zip(names, cte.types, strict=True)))
    rows = cte.rows
    k = 0
    comp = b.compiler
    if cte.level is not None:
        while comp.level is not cte.level:
            assert comp.outer is not None and comp.level is not None, "the WITH encloses us"
            comp.level.correlated = True
            comp = comp.outer
            k += 1
    if k == 0:
        def source(ec: ExecContext) -> Iterator[Row]:
            return iter(rows(ec))
        return FromItem(scope, source)

    def source_below(ec: ExecContext) -> Iterator[Row]:
        stack = ec.outer
        assert len(stack) >= k, "each level between pushed its row"
        kept = stack[-k:]
        del stack[-k:]
        try:
            out = rows(ec)
        finally:
            stack.extend(kept)
        return iter(out)
    return FromItem(scope, source_below)


@contextmanager
def with_queries(b: Binder, w: exp.With) -> Iterator[None]:
    """Binds the WITH list into `b.ctes` for the duration of the block."""
    saved = b.ctes
    b.ctes = dict(saved)
    try:
        seen: set[str] = set()
        for cte in w.expressions:
            name = cte.alias_or_name
            if name in seen:
                raise DuplicateAlias(f'WITH query name "{name}" specified more than once')
            seen.add(name)
            body = cte.this
            if isinstance(body, (exp.Insert, exp.Update, exp.Delete)):
                raise FeatureNotSupported("data-modifying statements in WITH are not supported")
            if w.args.get("recursive") and _reads(body, name):
                b.ctes[name] = _recursive(b, cte, name)
            else:
                b.ctes[name] = _plain(b, cte, name)
        yield
    finally:
        b.ctes = saved


def _alias_columns(cte: exp.CTE, names: list[str], name: str) -> list[str]:
    ta = cte.args.get("alias")
    cols = [c.name for c in ta.columns] if ta is not None and ta.columns else []
    if len(cols) > len(names):
        raise InvalidColumnReference(f'WITH query "{name}" has {len(names)} columns available '
                                     f"but {len(cols)} columns specified")
    return cols + names[len(cols):]


def _memoised(b: Binder, rows: Callable[[ExecContext], list[Row]]
              ) -> Callable[[ExecContext], list[Row]]:
    if b.compiler.level is not None:
        return rows  # may read an enclosing row: run per reference
    token = object()

    def once(ec: ExecContext) -> list[Row]:
        memo = ec.memo
        out = memo.get(token)
        if out is None:
            out = memo[token] = rows(ec)
        return out
    return once


def _plain(b: Binder, cte: exp.CTE, name: str) -> Cte:
    from dsql.sql.select import plan_query
    q = plan_query(b, cte.this)
    names = _alias_columns(cte, [c.name for c in q.columns], name)
    return Cte(name, names, list(q.types), _memoised(b, q.rows), b.compiler.level)


def _reads(node: exp.Expression, name: str) -> bool:
    return any(isinstance(t, exp.Table) and not t.db and t.name == name
               for t in node.find_all(exp.Table))


def _in_expression_subquery(node: exp.Expression, top: exp.Expression) -> bool:
    """Whether `node` sits in a subquery used as an expression (not a FROM item) below `top`."""
    n: exp.Expression | None = node
    while n is not None and n is not top:
        parent = n.parent
        if isinstance(n, (exp.Subquery, exp.Exists)) and not isinstance(parent, (exp.From,
                                                                                exp.Join)):
            return True
        if isinstance(n, exp.Select) and isinstance(parent, (exp.Exists, exp.In, exp.Any,
                                                             exp.All)):
            return True
        n = parent
    return False


def _recursive(b: Binder, cte: exp.CTE, name: str) -> Cte:
    from dsql.sql.select import _dedupe, plan_query
    body = cte.this
    if not isinstance(body, exp.Union) or _reads(body.this, name):
        raise InvalidRecursion(f'recursive query "{name}" does not have the form '
                               "non-recursive-term UNION [ALL] recursive-term")
    if body.args.get("order") or body.args.get("limit") or body.args.get("offset"):
        raise FeatureNotSupported(f'ORDER BY/LIMIT/OFFSET in a recursive query "{name}" is '
                                  "not supported")
    refs = [t for t in body.expression.find_all(exp.Table) if t.name == name and not t.db]
    for t in refs:
        if _in_expression_subquery(t, body.expression):
            raise InvalidRecursion(f'recursive reference to query "{name}" must not appear '
                                   "within a subquery")
    if len(refs) > 1:
        raise InvalidRecursion(f'recursive reference to query "{name}" must not appear more '
                               "than once")
    anchor = plan_query(b, body.this)
    names = _alias_columns(cte, [c.name for c in anchor.columns], name)
    types = list(anchor.types)
    token = object()

    def working(ec: ExecContext) -> list[Row]:
        return ec.memo[token]
    b.ctes[name] = Cte(name, names, types, working, b.compiler.level)
    step = plan_query(b, body.expression)
    if len(step.types) != len(types):
        raise DsqlError("each UNION query must have the same number of columns",
                        sqlstate="42601")
    for i, (want, got) in enumerate(zip(types, step.types, strict=True)):
        if want.oid != got.oid:  # PostgreSQL wants exactly the non-recursive term's types
            raise DatatypeMismatch(
                f'recursive query "{name}" column {i + 1} has type {r.format_type(want)} in '
                f"non-recursive term but type {r.format_type(got)} overall",
                hint="Cast the output of the non-recursive term to the correct type.")
    distinct = bool(body.args.get("distinct"))
    gks = [t.group_key for t in types]

    def gk(row: Row) -> Row:
        return tuple(v if g is None or v is None else g(v) for v, g in zip(row, gks, strict=True))

    anchor_rows, step_rows = anchor.rows, step.rows

    def run(ec: ExecContext) -> list[Row]:
        memo = ec.memo
        saved = memo.get(token)
        out = list(anchor_rows(ec))
        seen: set[Row] = set()
        if distinct:
            out = _dedupe(out, gk)
            seen = {gk(rw) for rw in out}
        work = out
        steps = 0
        try:
            while work:
                steps += 1
                if steps > RECURSION_ROWS_MAX or len(out) > RECURSION_ROWS_MAX:
                    raise ProgramLimitExceeded(
                        f'recursive query "{name}" exceeded {RECURSION_ROWS_MAX} rows or '
                        "steps; it probably does not terminate",
                        hint="Add a condition that stops the recursion, or use UNION instead "
                             "of UNION ALL.")
                memo[token] = work
                new = step_rows(ec)
                if distinct:
                    fresh = []
                    for rw in new:
                        k = gk(rw)
                        if k not in seen:
                            seen.add(k)
                            fresh.append(rw)
                    new = fresh
                out.extend(new)
                work = new
        finally:
            memo[token] = saved
        assert len(out) <= RECURSION_ROWS_MAX + len(work)
        return out
    return Cte(name, names, types, _memoised(b, run), b.compiler.level)

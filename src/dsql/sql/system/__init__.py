"""System relations: pg_catalog.* and information_schema.*, computed from the catalog.

The planner asks `from_item(binder, table_node)` before looking a FROM name up among user
tables; a system relation becomes an ordinary FROM item whose rows are built, at execution,
from the catalog of the statement's transaction (so they follow its snapshot). `unnest(array)`
in FROM is served here too. Importing the package registers the catalog types
(system/types.py) and the expression forms catalog queries use (system/exprs.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from dsql.sql.system import context, exprs, srf, types, window  # noqa: F401  (registration)
from dsql.sql.system.relations import CatalogView, lookup

if TYPE_CHECKING:
    from dsql.sql.select import Binder, FromItem


def system_relation_for(b: Binder, t: exp.Table) -> Any:
    if not isinstance(t, exp.Table) or not isinstance(t.this, exp.Identifier):
        return None
    return lookup(t.db or None, t.name, b.search_path)


def from_item(b: Binder, t: exp.Table) -> FromItem | None:
    """The FROM item for a system relation, or None when `t` names none."""
    rel = system_relation_for(b, t)
    if rel is None:
        return None
    from dsql.sql.scope import Scope
    from dsql.sql.select import FromItem

    alias = t.alias_or_name
    scope = Scope()
    scope.add_relation(alias, list(rel.columns), rel.oid)

    def rows(ec: Any) -> Iterator[tuple[Any, ...]]:
        context.enter(ec.txn.catalog, ec.session)
        return iter(rel.rows(CatalogView(ec.txn.catalog, ec.session)))
    return FromItem(scope, rows)


def function_table(b: Binder, node: exp.Table, name: str, args: list[exp.Expression]
                   ) -> FromItem | None:
    """unnest(array) [WITH ORDINALITY] in FROM; None for other functions."""
    if name not in ("unnest", "explode", "posexplode"):
        return None
    from dsql.errors import FeatureNotSupported
    from dsql.sql.scope import Scope
    from dsql.sql.select import FromItem

    if len(args) != 1:
        raise FeatureNotSupported("unnest of several arrays is not supported")
    bound = b.compiler.compile(args[0])
    elem = types.ELEMENT_OF.get(bound.type.oid)
    if elem is None:
        raise FeatureNotSupported(f"unnest({bound.type.name}) is not supported")
    alias = node.alias_or_name or "unnest"
    ta = node.args.get("alias")
    col = ta.columns[0].name if ta is not None and ta.columns else alias
    scope = Scope()
    scope.add_relation(alias, [(col, elem)])
    f = bound.fn

    def gen(ec: Any) -> Iterator[tuple[Any, ...]]:
        a = f((), ec.params)
        return iter([(v,) for v in a or ()])
    return FromItem(scope, gen)

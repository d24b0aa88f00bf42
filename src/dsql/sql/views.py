"""Views: CREATE [OR REPLACE] VIEW, DROP VIEW, reading a view, and the dependencies that make
DROP TABLE / DROP VIEW refuse (2BP01) or CASCADE.

    CREATE VIEW rich (who, pay) AS SELECT name, salary FROM emp WHERE salary > 75
    SELECT * FROM rich                     -- the query, bound again as a subquery in FROM

CREATE VIEW binds the query against the new catalog (so errors surface at once) with every
`*` replaced by the columns it meant then, and stores that text, the output names and types
and the ids of the tables and views it reads (catalog.objects.View). Reading a view parses and
binds the stored text again as a derived table named after the view: columns added to a base
table later do not appear in the view, as in PostgreSQL. Views are read-only here (DML on a
view is 55000, dml.view_target).

Invariants:
  1. A stored view's text has no `*` in any select list.
  2. Every id in `View.depends` is a live table or view: DROP of a relation with dependent views
     is 2BP01 unless CASCADE, which drops them (and their dependents) first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from dsql.catalog.objects import Catalog, View
from dsql.errors import DsqlError, FeatureNotSupported, SqlSyntaxError
from dsql.sql.dialect import Dsql
from dsql.sql.errors import DuplicateTable, InvalidSchemaName, UndefinedTable, WrongObjectType
from dsql.sql.plan import ExecContext
from dsql.sql.scope import Scope
from dsql.sql.types import registry as r

if TYPE_CHECKING:
    from dsql.sql.select import Binder, FromItem

Row = tuple[Any, ...]
VIEW_NESTING_MAX = 64  # views reading views, deeper than this is an error (and no cycle)
_parsed: dict[str, exp.Expression] = {}


class DependentObjectsStillExist(DsqlError):
    sqlstate = "2BP01"


class InvalidTableDefinition(DsqlError):
    sqlstate = "42P16"


def _query_binder(catalog: Catalog, search_path: list[str], ec_or_b: Any) -> Binder:
    from dsql.sql.expr import Compiler
    from dsql.sql.select import Binder, scalar_subquery
    if hasattr(ec_or_b, "compiler"):
        base = ec_or_b.compiler
        comp = Compiler(Scope(), base.ctx, [], session=base.session)
        comp.subquery_planner = base.subquery_planner
    else:
        comp = Compiler(Scope(), ec_or_b.ctx, [], session=ec_or_b.session)
        comp.subquery_planner = lambda node, c: scalar_subquery(c.binder, node, c)
    return Binder(catalog, search_path, comp)


# -- reading ----------------------------------------------------------------------------------

def view_item(b: Binder, v: View, node: exp.Table) -> FromItem:
    from dsql.sql.select import FromItem, alias_names, plan_query
    depth = getattr(b.shared, "view_depth", 0)
    if depth >= VIEW_NESTING_MAX:
        raise DsqlError(f'views nested deeper than {VIEW_NESTING_MAX} levels at "{v.name}"',
                        sqlstate="54001")
    ast = _parsed.get(v.sql)
    if ast is None:
        if len(_parsed) > 1024:
            _parsed.clear()
        ast = _parsed[v.sql] = normalize_identifiers(sqlglot.parse_one(v.sql, dialect=Dsql),
                                                     dialect="postgres")
    vb = _query_binder(b.catalog, b.search_path, b)
    vb.shared.view_depth = depth + 1  # type: ignore[attr-defined]
    q = plan_query(vb, ast)
    b.volatile |= vb.volatile or vb.compiler.volatile
    b.shared.needs_ec |= vb.shared.needs_ec
    n = len(v.columns)
    if len(q.types) < n:
        raise DsqlError(f'view "{v.name}" no longer matches its definition', sqlstate="XX000")
    alias = node.alias_or_name
    names = alias_names(node, list(v.columns), alias)
    scope = Scope()
    scope.add_relation(alias, list(zip(names, q.types[:n], strict=True)))
    rows = q.rows
    wide = len(q.types) > n

    def source(ec: ExecContext) -> Iterator[Row]:
        out = rows(ec)
        return iter([rw[:n] for rw in out] if wide else out)
    return FromItem(scope, source)


# -- DDL ----------------------------------------------------------------------------------------

def create_view(node: exp.Create, cat: Catalog, sp: list[str], ec: ExecContext,
                notices: list[Any]) -> bool:
    from dsql.sql.select import plan_query
    props = node.args.get("properties")
    for prop in (props.expressions if props is not None else []):
        kind = "MATERIALIZED" if isinstance(prop, exp.MaterializedProperty) else \
            "TEMPORARY" if isinstance(prop, exp.TemporaryProperty) else prop.sql()
        raise FeatureNotSupported(f"CREATE {kind} VIEW is not supported")
    target = node.this
    names: list[str] = []
    if isinstance(target, exp.Schema):
        names = [i.name for i in target.expressions]
        target = target.this
    schema = target.db or (sp[0] if sp else "public")
    if schema not in cat.schemas:
        raise InvalidSchemaName(f'schema "{schema}" does not exist')
    name = target.name
    old = cat.find_view(schema, name)
    if cat.relation_exists(schema, name) and not (old is not None and node.args.get("replace")):
        raise DuplicateTable(f'relation "{name}" already exists')
    query = node.expression
    if query is None:
        raise SqlSyntaxError("CREATE VIEW needs AS query")
    query = query.copy()
    b = _query_binder(cat, sp, ec)
    b.shared.expand_stars = True  # type: ignore[attr-defined]
    q = plan_query(b, query)
    out = [c.name for c in q.columns]
    if len(names) > len(out):
        raise SqlSyntaxError("CREATE VIEW specifies more column names than columns")
    out = names + out[len(names):]
    if len(set(out)) != len(out):
        dup = next(c for c in out if out.count(c) > 1)
        from dsql.sql.errors import DuplicateColumn
        raise DuplicateColumn(f'column "{dup}" specified more than once')
    for t in q.types:
        if t.oid == r.UNKNOWN.oid:
            raise FeatureNotSupported("a view column of type unknown is not supported")
    deps = sorted(d for d in b.shared.deps if old is None or d != old.id)
    view = View(old.id if old is not None else cat.allocate_id(), schema, name,
                query.sql(dialect="postgres"), out, [t.oid for t in q.types],
                [t.typmod for t in q.types], deps)
    if old is not None:
        _check_replace(old, view)
    cat.views[view.id] = view
    assert all(d in cat.tables or d in cat.views for d in view.depends)
    return True


def _check_replace(old: View, new: View) -> None:
    if len(new.columns) < len(old.columns):
        raise InvalidTableDefinition("cannot drop columns from view")
    for i, oname in enumerate(old.columns):
        if new.columns[i] != oname:
            raise InvalidTableDefinition(f'cannot change name of view column "{oname}" to '
                                         f'"{new.columns[i]}"',
                                         hint="Use ALTER VIEW ... RENAME COLUMN ... to change "
                                              "name of view column instead.")
        if new.type_oids[i] != old.type_oids[i]:
            ot = r.format_type(r.type_by_oid(old.type_oids[i], old.typmods[i]))
            nt = r.format_type(r.type_by_oid(new.type_oids[i], new.typmods[i]))
            raise InvalidTableDefinition(f'cannot change data type of view column "{oname}" '
                                         f"from {ot} to {nt}")


def _notice(notices: list[Any], msg: str) -> None:
    n = DsqlError(msg, sqlstate="00000")
    n.severity = "NOTICE"  # type: ignore[attr-defined]
    notices.append(n)


def drop_views(node: exp.Drop, cat: Catalog, sp: list[str], notices: list[Any]) -> bool:
    """DROP VIEW [IF EXISTS] name [, ...] [CASCADE | RESTRICT]."""
    cascade = bool(node.args.get("cascade"))
    changed = False
    for t in node.args.get("tables") or node.expressions or [node.this]:
        found = None
        for s in ([t.db] if t.db else sp):
            found = cat.find_view(s, t.name)
            if found is not None:
                break
            if cat.find_table(s, t.name) is not None:
                raise WrongObjectType(f'"{t.name}" is not a view',
                                      hint="Use DROP TABLE to remove a table.")
        if found is None:
            if node.args.get("exists"):
                _notice(notices, f'view "{t.name}" does not exist, skipping')
                continue
            raise UndefinedTable(f'view "{t.name}" does not exist')
        release(cat, found.id, f"view {found.name}", cascade, notices)
        del cat.views[found.id]
        changed = True
    return changed


def not_a_table(cat: Catalog, t: exp.Table, sp: list[str]) -> None:
    """DROP TABLE naming a view: 42809 (PostgreSQL's wrong-object-type error)."""
    for s in ([t.db] if t.db else sp):
        if cat.find_table(s, t.name) is not None:
            return
        if cat.find_view(s, t.name) is not None:
            raise WrongObjectType(f'"{t.name}" is not a table',
                                  hint="Use DROP VIEW to remove a view.")


def release(cat: Catalog, obj_id: int, what: str, cascade: bool, notices: list[Any]) -> None:
    """Before dropping object `obj_id` (described as `what`, e.g. "table t"): refuse if views
    depend on it (2BP01), or with CASCADE drop them and, transitively, their dependents."""
    doomed: list[tuple[View, str]] = []  # (view, what it depends on), breadth first
    todo: list[tuple[int, str]] = [(obj_id, what)]
    while todo:
        assert len(doomed) <= len(cat.views), "each view is listed once"
        oid, owhat = todo.pop(0)
        for v in cat.views.values():
            if oid in v.depends and all(v is not d for d, _ in doomed):
                doomed.append((v, owhat))
                todo.append((v.id, f"view {v.name}"))
    if not doomed:
        return
    if not cascade:
        detail = "\n".join(f"view {v.name} depends on {w}" for v, w in doomed)
        raise DependentObjectsStillExist(
            f"cannot drop {what} because other objects depend on it", detail=detail,
            hint="Use DROP ... CASCADE to drop the dependent objects too.")
    if len(doomed) == 1:
        _notice(notices, f"drop cascades to view {doomed[0][0].name}")
    else:
        _notice(notices, f"drop cascades to {len(doomed)} other objects")
    for v, _ in doomed:
        del cat.views[v.id]


# -- ALTER TABLE under views ----------------------------------------------------------------------

def after_alter(node: exp.Alter, cat: Catalog, sp: list[str], ec: ExecContext,
                notices: list[Any], table_id: int, old_name: str) -> None:
    """Keeps the views over an altered table valid: RENAME TO rewrites their text; a dropped
    column a view reads is 2BP01 (CASCADE drops the view); other changes that break a view
    (RENAME COLUMN of a column it reads) are refused with 0A000 — PostgreSQL binds views to
    column numbers, dsql to names."""
    table = cat.tables.get(table_id)
    if table is None:
        return
    affected: list[View] = []
    todo = [table_id]
    while todo:
        assert len(affected) <= len(cat.views), "each view is listed once"
        oid = todo.pop(0)
        for v in cat.views.values():
            if oid in v.depends and v not in affected:
                affected.append(v)
                todo.append(v.id)
    if not affected:
        return
    if table.name != old_name:
        for v in affected:
            if table_id in v.depends:
                v.sql = _rename_table(v.sql, table.schema, old_name, table.name)
    actions = node.args.get("actions") or []
    dropped = [c.name for a in actions if isinstance(a, exp.Drop)
               for c in (a.args.get("tables") or a.expressions or [a.this])]
    cascade = any(bool(a.args.get("cascade")) for a in actions if isinstance(a, exp.Drop))
    for v in list(affected):
        if v.id not in cat.views:
            continue  # dropped by an earlier CASCADE
        try:
            _bind_stored(cat, sp, ec, v)
        except DsqlError as err:
            if not dropped:
                raise FeatureNotSupported(
                    f'cannot alter table "{table.name}" because view "{v.name}" depends on it',
                    detail=f"Binding the view again fails: {err}") from None
            col = dropped[0]
            what = f"column {col} of table {table.name}"
            if not cascade:
                raise DependentObjectsStillExist(
                    f"cannot drop {what} because other objects depend on it",
                    detail=f"view {v.name} depends on {what}",
                    hint="Use DROP ... CASCADE to drop the dependent objects too.") from None
            release(cat, v.id, f"view {v.name}", True, [])
            _notice(notices, f"drop cascades to view {v.name}")
            del cat.views[v.id]


def _bind_stored(cat: Catalog, sp: list[str], ec: ExecContext, v: View) -> None:
    from dsql.sql.select import plan_query
    ast = normalize_identifiers(sqlglot.parse_one(v.sql, dialect=Dsql), dialect="postgres")
    q = plan_query(_query_binder(cat, sp, ec), ast)
    if len(q.types) < len(v.columns):
        raise DsqlError(f'view "{v.name}" has fewer columns than before', sqlstate="42P16")


def _rename_table(sql: str, schema: str, old: str, new: str) -> str:
    ast = normalize_identifiers(sqlglot.parse_one(sql, dialect=Dsql), dialect="postgres")
    for t in ast.find_all(exp.Table):
        if t.name == old and (not t.db or t.db == schema) and isinstance(t.this, exp.Identifier):
            t.set("this", exp.to_identifier(new, quoted=True))
    return ast.sql(dialect="postgres")

"""DDL: CREATE / DROP TABLE, CREATE [UNIQUE] INDEX, DROP INDEX, CREATE / DROP SCHEMA,
ALTER TABLE ADD / DROP / RENAME COLUMN, RENAME TO and ADD [CONSTRAINT name] PRIMARY KEY (a
rebuild under the new key, dsql.sql.rekey). CREATE TABLE ... WITH (fillfactor=N, ...) stores
its validated storage parameters (no effect); PARTITION BY / OF and FOREIGN KEY are 0A000.

Each statement builds a new Catalog (version + 1) and leaves it in the transaction
(`txn.new_catalog`); COMMIT writes it under the catalog key with a FULL claim (catalog/store.py
states the conflict rule). The transaction sees its own new catalog at once. Rows of dropped
tables and indexes stay in storage under their never-reused ids (unreachable; to be collected).
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from dsql.catalog.layout import IndexCodec, codec_type
from dsql.catalog.objects import Catalog, Check, Column, Index, IndexColumn, Table
from dsql.errors import (
    FeatureNotSupported,
    InvalidParameterValue,
    SqlSyntaxError,
    UndefinedObject,
)
from dsql.sql.errors import (
    DuplicateColumn,
    DuplicateSchema,
    DuplicateTable,
    InvalidSchemaName,
    UndefinedColumn,
    UndefinedTable,
    UniqueViolation,
)
from dsql.sql.names import sqltype_of
from dsql.sql.plan import ExecContext, Outcome, Plan
from dsql.sql.select import Binder, codec_for


class DdlPlan(Plan):
    kind = "ddl"

    def __init__(self, node: exp.Expression, b: Binder, tag: str) -> None:
        self.node = node
        self.search_path = b.search_path
        self.tag = tag

    def execute(self, ec: ExecContext) -> Outcome:
        cat = ec.txn.catalog.copy()
        notices: list[Any] = []
        changed = _apply(self.node, cat, self.search_path, ec, notices)
        if changed:
            cat.version += 1
            ec.txn.new_catalog = cat
            ec.txn.catalog = cat
        return Outcome([], self.tag, notices)


def _schema_of(cat: Catalog, t: exp.Table, search_path: list[str]) -> str:
    s = t.db or (search_path[0] if search_path else "public")
    if s not in cat.schemas:
        raise InvalidSchemaName(f'schema "{s}" does not exist')
    return s


def _find_table(cat: Catalog, t: exp.Table, search_path: list[str]) -> Table | None:
    for s in ([t.db] if t.db else search_path):
        found = cat.find_table(s, t.name)
        if found is not None:
            return found
    return None


def _notice(notices: list[Any], msg: str) -> None:
    from dsql.errors import DsqlError
    n = DsqlError(msg, sqlstate="00000")
    n.severity = "NOTICE"  # type: ignore[attr-defined]
    notices.append(n)


def _apply(node: exp.Expression, cat: Catalog, sp: list[str], ec: ExecContext,
           notices: list[Any]) -> bool:
    if isinstance(node, exp.Create):
        kind = (node.args.get("kind") or "").upper()
        if kind == "TABLE":
            return _create_table(node, cat, sp, notices)
        if kind == "INDEX":
            return _create_index(node, cat, sp, ec, notices)
        if kind == "VIEW":
            from dsql.sql.views import create_view
            return create_view(node, cat, sp, ec, notices)
        if kind == "SCHEMA":
            name = (node.this.db or node.this.name) if isinstance(node.this, exp.Table) \
                else node.this.this.name
            if name in cat.schemas:
                if node.args.get("exists"):
                    _notice(notices, f'schema "{name}" already exists, skipping')
                    return False
                raise DuplicateSchema(f'schema "{name}" already exists')
            cat.schemas.append(name)
            return True
        raise FeatureNotSupported(f"CREATE {kind} is not supported")
    if isinstance(node, exp.Drop):
        return _drop(node, cat, sp, notices)
    if isinstance(node, exp.Alter):
        from dsql.sql.views import after_alter
        before = _find_table(cat, node.this, sp)
        before_name = before.name if before is not None else ""
        changed = _alter(node, cat, sp, ec)
        if before is not None:
            after_alter(node, cat, sp, ec, notices, before.id, before_name)
        return changed
    raise FeatureNotSupported(f"{node.key.upper()} is not supported")


def _column_def(cd: exp.ColumnDef, cid: int) -> tuple[Column, list[str], bool, bool]:
    """The column, its CHECK texts, whether it is PRIMARY KEY, whether UNIQUE."""
    kind = cd.args.get("kind")
    if kind is None:
        raise SqlSyntaxError(f'column "{cd.name}" has no type')
    t = sqltype_of(kind)
    codec_type(t)
    col = Column(cid, cd.name, t.oid, t.typmod)
    checks, pk, unique = [], False, False
    for c in cd.args.get("constraints") or []:
        k = c.args.get("kind")
        if isinstance(k, exp.NotNullColumnConstraint):
            if k.args.get("allow_null"):
                continue
            col.not_null = True
        elif isinstance(k, exp.PrimaryKeyColumnConstraint):
            pk = True
            col.not_null = True
        elif isinstance(k, exp.UniqueColumnConstraint):
            unique = True
        elif isinstance(k, exp.DefaultColumnConstraint):
            col.default = k.this.sql(dialect="postgres")
        elif isinstance(k, exp.CheckColumnConstraint):
            checks.append(k.this.sql(dialect="postgres"))
        else:
            raise FeatureNotSupported(f"column constraint {c.sql()} is not supported")
    return col, checks, pk, unique


def _unique_name(cat: Catalog, schema: str, base: str) -> str:
    name, n = base, 0
    while cat.relation_exists(schema, name):
        n += 1
        name = f"{base}{n}"
    return name


def _create_table(node: exp.Create, cat: Catalog, sp: list[str], notices: list[Any]) -> bool:
    schema_node = node.this
    if not isinstance(schema_node, exp.Schema):
        raise FeatureNotSupported("CREATE TABLE AS is not supported")
    tnode = schema_node.this
    schema = _schema_of(cat, tnode, sp)
    name = tnode.name
    if cat.relation_exists(schema, name):
        if node.args.get("exists"):
            _notice(notices, f'relation "{name}" already exists, skipping')
            return False
        raise DuplicateTable(f'relation "{name}" already exists')
    cols: list[Column] = []
    pk: list[int] = []
    checks: list[Check] = []
    uniques: list[list[int]] = []
    nid = 1
    for item in schema_node.expressions:
        if isinstance(item, exp.ColumnDef):
            if any(c.name == item.name for c in cols):
                raise DuplicateColumn(f'column "{item.name}" specified more than once')
            col, cks, is_pk, uq = _column_def(item, nid)
            nid += 1
            cols.append(col)
            for ck in cks:
                checks.append(Check(f"{name}_{col.name}_check", ck))
            if is_pk:
                if pk:
                    raise SqlSyntaxError(f'multiple primary keys for table "{name}" are not '
                                         "allowed")
                pk = [col.id]
            if uq:
                uniques.append([col.id])
    for item in schema_node.expressions:
        if isinstance(item, exp.ColumnDef):
            continue
        names = []
        if isinstance(item, (exp.PrimaryKey, exp.UniqueColumnConstraint)):
            raw = item.expressions if isinstance(item, exp.PrimaryKey) else \
                (item.this.expressions if isinstance(item.this, exp.Schema) else [])
            for e in raw:
                names.append(e.name if not isinstance(e, exp.Ordered) else e.this.name)
            ids = []
            for n in names:
                c = next((c for c in cols if c.name == n), None)
                if c is None:
                    raise UndefinedColumn(f'column "{n}" named in key does not exist')
                ids.append(c.id)
            if isinstance(item, exp.PrimaryKey):
                if pk:
                    raise SqlSyntaxError(f'multiple primary keys for table "{name}" are not '
                                         "allowed")
                pk = ids
                for c in cols:
                    if c.id in ids:
                        c.not_null = True
            else:
                uniques.append(ids)
        elif isinstance(item, exp.Constraint) or isinstance(item, exp.CheckColumnConstraint):
            inner = item
            cname = None
            if isinstance(item, exp.Constraint):
                cname = item.name
                inner = item.expressions[0] if item.expressions else None
            k = inner.args.get("kind") if isinstance(inner, exp.ColumnConstraint) else inner
            if isinstance(k, exp.CheckColumnConstraint):
                checks.append(Check(cname or f"{name}_check", k.this.sql(dialect="postgres")))
            else:
                raise FeatureNotSupported(f"table constraint {item.sql()} is not supported")
        else:
            raise FeatureNotSupported(f"table element {item.sql()} is not supported")
    params = _storage_params(node)
    tid = cat.allocate_id()
    value_cols = [c.id for c in cols if c.id not in pk]
    table = Table(tid, schema, name, cols, pk, checks, [value_cols], nid)
    table.storage_params = params
    cat.tables[tid] = table
    for ids in uniques:
        cnames = "_".join(next(c.name for c in cols if c.id == i) for i in ids)
        iname = _unique_name(cat, schema, f"{name}_{cnames}_key")
        iid = cat.allocate_id()
        cat.indexes[iid] = Index(iid, schema, iname, tid, [IndexColumn(i) for i in ids], True,
                                 True)
    codec_for(table)
    return True


def _create_index(node: exp.Create, cat: Catalog, sp: list[str], ec: ExecContext,
                  notices: list[Any], backfill: bool = True) -> bool:
    """`backfill` False (CREATE INDEX ASYNC): the index is made `building` and left empty;
    dsql.sql.jobs fills it in the background."""
    idx = node.this
    tnode = idx.args.get("table")
    table = _find_table(cat, tnode, sp)
    if table is None:
        raise UndefinedTable(f'relation "{tnode.name}" does not exist')
    params = idx.args.get("params")
    cols = []
    for o in params.args.get("columns") or []:
        e = o.this if isinstance(o, exp.Ordered) else o
        c = table.column(e.name)
        if c is None:
            raise UndefinedColumn(f'column "{e.name}" does not exist')
        desc = bool(o.args.get("desc")) if isinstance(o, exp.Ordered) else False
        nf = o.args.get("nulls_first") if isinstance(o, exp.Ordered) else None
        cols.append(IndexColumn(c.id, desc, desc if nf is None or not desc and nf is False
                                else bool(nf)))
    name = idx.name or _unique_name(cat, table.schema, f"{table.name}_"
                                    + "_".join(table.columns[table.position(c.column_id)].name
                                               for c in cols) + "_idx")
    if cat.relation_exists(table.schema, name):
        if node.args.get("exists"):
            _notice(notices, f'relation "{name}" already exists, skipping')
            return False
        raise DuplicateTable(f'relation "{name}" already exists')
    iid = cat.allocate_id()
    index = Index(iid, table.schema, name, table.id, cols, bool(node.args.get("unique")))
    cat.indexes[iid] = index
    if not backfill:
        index.building = True
        return True
    codec = codec_for(table)
    ic = IndexCodec(index, table, codec)
    lo, hi = codec.key_bounds()
    seen: set[bytes] = set()
    txn = ec.txn
    for k, v in list(txn.scan(lo, hi)):
        row = codec.decode(k, v)
        if index.unique:
            g = ic.guard(row)
            if g is not None:
                if g in seen:
                    names = ", ".join(table.columns[p].name for p in ic.positions)
                    vals = ", ".join(table.columns[p].type.output(row[p]) for p in ic.positions)
                    raise UniqueViolation(f'could not create unique index "{name}"',
                                          detail=f"Key ({names})=({vals}) is duplicated.")
                seen.add(g)
        txn.put(ic.entry(row, k), b"", None, row=False)
    return True


def _drop(node: exp.Drop, cat: Catalog, sp: list[str], notices: list[Any]) -> bool:
    kind = (node.args.get("kind") or "").upper()
    exists = bool(node.args.get("exists"))
    targets = node.args.get("tables") or node.expressions or [node.this]
    changed = False
    if kind == "VIEW":
        from dsql.sql.views import drop_views
        return drop_views(node, cat, sp, notices)
    from dsql.sql import views
    for t in targets:
        if kind == "TABLE":
            views.not_a_table(cat, t, sp)
            table = _find_table(cat, t, sp)
            if table is None:
                if exists:
                    _notice(notices, f'table "{t.name}" does not exist, skipping')
                    continue
                raise UndefinedTable(f'table "{t.name}" does not exist')
            views.release(cat, table.id, f"table {table.name}", bool(node.args.get("cascade")),
                          notices)
            del cat.tables[table.id]
            for i in cat.table_indexes(table.id):
                del cat.indexes[i.id]
            changed = True
        elif kind == "INDEX":
            found = None
            for s in ([t.db] if t.db else sp):
                found = cat.find_index(s, t.name)
                if found:
                    break
            if found is None:
                if exists:
                    _notice(notices, f'index "{t.name}" does not exist, skipping')
                    continue
                raise UndefinedObject(f'index "{t.name}" does not exist')
            del cat.indexes[found.id]
            changed = True
        elif kind == "SCHEMA":
            name = t.db or t.name
            if name not in cat.schemas:
                if exists:
                    _notice(notices, f'schema "{name}" does not exist, skipping')
                    continue
                raise InvalidSchemaName(f'schema "{name}" does not exist')
            if any(tb.schema == name for tb in [*cat.tables.values(), *cat.views.values()]):
                from dsql.errors import DsqlError
                raise DsqlError(f"cannot drop schema {name} because other objects depend on it",
                                sqlstate="2BP01")
            cat.schemas.remove(name)
            changed = True
        else:
            raise FeatureNotSupported(f"DROP {kind} is not supported")
    return changed


def _alter(node: exp.Alter, cat: Catalog, sp: list[str], ec: ExecContext) -> bool:
    if (node.args.get("kind") or "").upper() != "TABLE":
        raise FeatureNotSupported("only ALTER TABLE is supported")
    table = _find_table(cat, node.this, sp)
    if table is None:
        if node.args.get("exists"):
            return False
        raise UndefinedTable(f'relation "{node.this.name}" does not exist')
    for act in node.args.get("actions") or []:
        if isinstance(act, exp.ColumnDef):
            if table.column(act.name) is not None:
                raise DuplicateColumn(f'column "{act.name}" of relation "{table.name}" already '
                                      "exists")
            col, checks, pk, uq = _column_def(act, table.next_column_id)
            if pk or uq:
                raise FeatureNotSupported("ADD COLUMN with PRIMARY KEY or UNIQUE is not "
                                          "supported")
            table.next_column_id += 1
            if col.default is not None:
                from dsql.sql.dml import _parse_expr
                from dsql.sql.expr import Compiler
                from dsql.sql.scope import Scope
                comp = Compiler(Scope(), ec.ctx, [])
                bd = comp.cast(comp.compile(_parse_expr(col.default)), col.type, "a")
                if not bd.const:
                    raise FeatureNotSupported("ADD COLUMN with a non-constant DEFAULT is not "
                                              "supported")
                col.missing = None if bd.value is None else col.type.output(bd.value)
            if col.not_null and col.missing is None:
                lo, hi = codec_for(table).key_bounds()
                if next(iter(ec.txn.scan(lo, hi)), None) is not None:
                    from dsql.sql.errors import NotNullViolation
                    raise NotNullViolation(f'column "{col.name}" of relation "{table.name}" '
                                           "contains null values")
            table.columns.append(col)
            for ck in checks:
                table.checks.append(Check(f"{table.name}_{col.name}_check", ck))
            table.layouts.append(table.layouts[-1] + [col.id])
        elif isinstance(act, exp.Drop):
            for cn in act.args.get("tables") or act.expressions or [act.this]:
                c = table.column(cn.name)
                if c is None:
                    if act.args.get("exists"):
                        continue
                    raise UndefinedColumn(f'column "{cn.name}" of relation "{table.name}" '
                                          "does not exist")
                if c.id in table.pk:
                    raise FeatureNotSupported("dropping a primary-key column is not supported")
                for i in list(cat.table_indexes(table.id)):
                    if any(ic.column_id == c.id for ic in i.columns):
                        del cat.indexes[i.id]
                table.columns.remove(c)
                table.dropped.append(c)
                table.layouts.append([cid for cid in table.layouts[-1] if cid != c.id])
        elif isinstance(act, exp.RenameColumn):
            c = table.column(act.this.name)
            if c is None:
                raise UndefinedColumn(f'column "{act.this.name}" does not exist')
            if table.column(act.args["to"].name) is not None:
                raise DuplicateColumn(f'column "{act.args["to"].name}" of relation '
                                      f'"{table.name}" already exists')
            c.name = act.args["to"].name
        elif isinstance(act, exp.AddConstraint):
            _add_constraint(act, cat, table, ec)
        elif isinstance(act, exp.AlterRename):
            new = act.this.name
            if cat.relation_exists(table.schema, new):
                raise DuplicateTable(f'relation "{new}" already exists')
            table.name = new
        else:
            raise FeatureNotSupported(f"ALTER TABLE action {act.sql()} is not supported")
    if len(table.layouts) > 255:
        raise FeatureNotSupported("too many ALTER TABLE changes to one table")
    return True


# Storage parameters PostgreSQL accepts in CREATE TABLE ... WITH (...): dsql stores them (for
# pg_class.reloptions) and they change nothing (storage has no pages to fill).
_STORAGE_PARAMS = {"fillfactor": (10, 100), "toast_tuple_target": (128, 8160),
                   "parallel_workers": (0, 1024), "autovacuum_enabled": None,
                   "user_catalog_table": None}


def _storage_params(node: exp.Create) -> dict[str, str]:
    """CREATE TABLE's WITH (name = value, ...), validated; PARTITION BY / OF refused."""
    props = node.args.get("properties")
    out: dict[str, str] = {}
    for p in props.expressions if props is not None else []:
        if isinstance(p, (exp.PartitionedByProperty, exp.PartitionedOfProperty)):
            raise FeatureNotSupported("partitioned tables are not supported")
        if type(p) is not exp.Property:
            continue
        name = p.name.lower()
        val = p.args.get("value")
        text = val.name if isinstance(val, (exp.Literal, exp.Var, exp.Identifier)) else \
            (val.sql(dialect="postgres") if val is not None else "true")
        if name not in _STORAGE_PARAMS:
            raise InvalidParameterValue(f'unrecognized parameter "{name}"')
        bounds = _STORAGE_PARAMS[name]
        if bounds is not None:
            try:
                n = int(text)
            except ValueError:
                raise InvalidParameterValue(f'invalid value for integer option "{name}": '
                                            f"{text}") from None
            if not bounds[0] <= n <= bounds[1]:
                raise InvalidParameterValue(
                    f'value {n} out of bounds for option "{name}"',
                    detail=f'Valid values are between "{bounds[0]}" and "{bounds[1]}".')
            text = str(n)
        out[name] = text
    return out


def _add_constraint(act: exp.AddConstraint, cat: Catalog, table: Table,
                    ec: ExecContext) -> None:
    """ADD [CONSTRAINT name] PRIMARY KEY (cols): a rebuild (dsql.sql.rekey); FOREIGN KEY and
    the others: 0A000."""
    from dsql.sql.rekey import add_primary_key
    for item in act.expressions:
        cname = None
        inner = item
        if isinstance(item, exp.Constraint):
            cname = item.name
            inner = item.expressions[0] if len(item.expressions) == 1 else None
        if isinstance(inner, exp.PrimaryKey):
            if inner.args.get("include") is not None and \
                    inner.args["include"].sql(dialect="postgres").strip():
                raise FeatureNotSupported("PRIMARY KEY with index parameters is not supported")
            names = [e.name if not isinstance(e, exp.Ordered) else e.this.name
                     for e in inner.expressions]
            add_primary_key(cat, table, names, cname, ec)
        elif isinstance(inner, exp.ForeignKey):
            raise FeatureNotSupported("foreign key constraints are not supported (Aurora DSQL "
                                      "has none)")
        else:
            raise FeatureNotSupported(f"ALTER TABLE ADD {item.sql(dialect='postgres')} is not "
                                      "supported")


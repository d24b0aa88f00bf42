"""Name resolution: the columns a FROM clause makes visible, in row order.

A Scope is a flat list of columns (relation alias, column name, type); a row flowing through
the plan is a tuple in that order. `resolve` finds a column by optional qualifier and name with
PostgreSQL's errors (42703 undefined, 42702 ambiguous, 42P01 missing FROM-clause entry).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsql.sql.errors import AmbiguousColumn, UndefinedColumn, UndefinedTable
from dsql.sql.types.registry import SqlType


@dataclass(frozen=True)
class ScopeColumn:
    relation: str  # alias or table name; "" for unnamed
    name: str
    type: SqlType
    index: int
    table_oid: int = 0
    column_no: int = 0
    hidden: bool = False  # not expanded by an unqualified *, nor found by a bare name
    # when another column of that name is visible (JOIN USING's merged column)


@dataclass
class Scope:
    columns: list[ScopeColumn] = field(default_factory=list)
    relations: list[str] = field(default_factory=list)
    outer: Scope | None = None
    # FROM items before a comma, in scope but not referenceable from this join's ON
    # (PostgreSQL: 42P01 "invalid reference to FROM-clause entry"); never copied by `extend`
    unreachable: list[str] = field(default_factory=list)

    def add_relation(self, alias: str, cols: list[tuple[str, SqlType]], table_oid: int = 0
                     ) -> None:
        self.relations.append(alias)
        base = len(self.columns)
        for i, (name, t) in enumerate(cols):
            self.columns.append(ScopeColumn(alias, name, t, base + i, table_oid, i + 1))

    def extend(self, other: Scope) -> None:
        base = len(self.columns)
        self.relations.extend(other.relations)
        for c in other.columns:
            self.columns.append(ScopeColumn(c.relation, c.name, c.type, base + c.index,
                                            c.table_oid, c.column_no, c.hidden))

    def resolve(self, qualifier: str | None, name: str) -> ScopeColumn:
        if qualifier is not None:
            if qualifier not in self.relations and qualifier in self.unreachable:
                raise UndefinedTable(
                    f'invalid reference to FROM-clause entry for table "{qualifier}"')
            if qualifier not in self.relations:
                raise UndefinedTable(f'missing FROM-clause entry for table "{qualifier}"')
            hits = [c for c in self.columns if c.relation == qualifier and c.name == name]
            if not hits:
                raise UndefinedColumn(f"column {qualifier}.{name} does not exist")
        else:
            hits = [c for c in self.columns if c.name == name]
            if not hits:
                raise UndefinedColumn(f'column "{name}" does not exist')
        if len(hits) > 1:
            visible = [c for c in hits if not c.hidden]  # JOIN USING's merged column
            if len(visible) == 1 and qualifier is None:
                return visible[0]
            raise AmbiguousColumn(f'column reference "{name}" is ambiguous')
        return hits[0]

    def has(self, qualifier: str | None, name: str) -> bool:
        """Whether `resolve` would look no further out: the column is here, or its qualifier
        names a relation here (then a missing column is this scope's error)."""
        if qualifier is not None:
            return qualifier in self.relations or qualifier in self.unreachable
        return any(c.name == name for c in self.columns)

    def star(self, qualifier: str | None) -> list[ScopeColumn]:
        if qualifier is not None and qualifier not in self.relations:
            raise UndefinedTable(f'missing FROM-clause entry for table "{qualifier}"')
        if qualifier is not None:  # rel.* lists rel's columns, a JOIN USING column too
            return sorted((c for c in self.columns if c.relation == qualifier),
                          key=lambda c: c.index)
        return [c for c in self.columns if not c.hidden]

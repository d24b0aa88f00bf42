"""What every executable statement shares: the execution context and the plan interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dsql.sql.types.context import ValueContext

if TYPE_CHECKING:
    from dsql.txn.transaction import Transaction


@dataclass
class OutColumn:
    name: str
    type_oid: int
    typmod: int = -1
    table_oid: int = 0
    column_no: int = 0


@dataclass
class ExecContext:
    txn: Transaction
    params: Sequence[Any]
    ctx: ValueContext
    session: Any = None
    # rows of the enclosing queries while a correlated subquery runs (innermost last)
    outer: list[Any] = field(default_factory=list)
    # per-execution results: uncorrelated subqueries, CTEs, recursive working tables
    memo: dict[Any, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    rows: list[tuple[Any, ...]]
    tag: str
    notices: list[Any] = field(default_factory=list)


class Plan(ABC):
    """A bound statement: run it as many times as wanted with other parameters."""

    columns: list[OutColumn] | None = None  # None: returns no rows
    kind: str = "query"  # "query" (reads only), "dml", "ddl"
    catalog_version: int = -1
    volatile: bool = False  # bound to the transaction's time: bind again per execution
    locks: bool = False  # SELECT ... FOR UPDATE / FOR KEY SHARE (claims keys)

    @abstractmethod
    def execute(self, ec: ExecContext) -> Outcome:
        """Runs the statement in the execution context's transaction."""

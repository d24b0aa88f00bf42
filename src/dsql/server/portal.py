"""Prepared statements and portals of one connection (extended query protocol state).

A Statement is what Parse made (the backend's Prepared plus what Describe reports); a Portal is
what Bind made: a statement with parameter values and result formats. A portal runs on its
first Execute and keeps the result, handing out rows in row-limited chunks on later Executes
(PortalSuspended between them).

Thread-safety: owned by one connection's Processor, used by one thread at a time.

Invariants:
  1. 0 <= Portal.position <= len(Portal.result.rows) once the portal has run.
  2. Portal.encoders is set exactly when the portal has run and returns rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dsql.server.backend import Column, StatementResult
from dsql.server.values import ValueEncoder, expand_formats

STATEMENTS_MAX = 10_000
PORTALS_MAX = 10_000


@dataclass
class Statement:
    name: str
    sql: str
    prepared: Any | None            # the backend's Prepared; None for an empty query string
    param_oids: list[int]
    columns: Sequence[Column] | None
    fast_token: tuple[int, int] = (-1, -1)  # FastLane.token() when last offered to the lane

    @property
    def is_empty(self) -> bool:
        return self.prepared is None


@dataclass
class Portal:
    name: str
    statement: Statement
    params: list[Any]
    result_formats: list[int]       # as sent in Bind: empty, one, or one per column
    result: StatementResult | None = None
    position: int = 0
    encoders: list[ValueEncoder] | None = None
    done: bool = False

    def formats_for(self, columns: Sequence[Column]) -> list[int]:
        return expand_formats(self.result_formats, len(columns))

    def columns(self) -> Sequence[Column] | None:
        """The columns Describe reports: the result's if the portal ran, else the plan's."""
        if self.result is not None:
            return self.result.columns
        return self.statement.columns

    def remaining(self) -> int:
        assert self.result is not None
        return len(self.result.rows) - self.position


@dataclass
class PortalState:
    """Named statements and portals ('' is the unnamed one of each)."""

    statements: dict[str, Statement] = field(default_factory=dict)
    portals: dict[str, Portal] = field(default_factory=dict)

"""SQLSTATE errors of the SQL engine (names, constraints, transactions).

The value layer's errors (class 22, 42601, 42883, ...) live in dsql.errors; these are the ones
the binder, the executor and the session raise. Each carries PostgreSQL's SQLSTATE so that the
wire layer and the DB-API map it unchanged.
"""

from __future__ import annotations

from dsql.errors import DsqlError, FeatureNotSupported, SyntaxErrorOrAccessRuleViolation

__all__ = [
    "ActiveSqlTransaction", "AmbiguousColumn", "CardinalityViolation", "CheckViolation",
    "DuplicateColumn", "DuplicateObject", "DuplicateSchema", "DuplicateTable",
    "FeatureNotSupported", "GroupingError", "InFailedTransaction", "InvalidColumnReference",
    "InvalidSchemaName", "InvalidTransactionState", "NotNullViolation", "QueryCanceled",
    "ReadOnlyTransaction", "SchemaConflict", "UndefinedColumn", "UndefinedParameter",
    "UndefinedTable", "UniqueViolation", "WrongObjectType", "with_position",
]


class IntegrityConstraintViolation(DsqlError):
    sqlstate = "23000"


class NotNullViolation(IntegrityConstraintViolation):
    sqlstate = "23502"


class UniqueViolation(IntegrityConstraintViolation):
    sqlstate = "23505"


class CheckViolation(IntegrityConstraintViolation):
    sqlstate = "23514"


class CardinalityViolation(DsqlError):
    sqlstate = "21000"


class InvalidTransactionState(DsqlError):
    sqlstate = "25000"


class ActiveSqlTransaction(InvalidTransactionState):
    sqlstate = "25001"


class ReadOnlyTransaction(InvalidTransactionState):
    sqlstate = "25006"


class InFailedTransaction(InvalidTransactionState):
    sqlstate = "25P02"

    def __init__(self) -> None:
        super().__init__("current transaction is aborted, commands ignored until end of "
                         "transaction block")


class SchemaConflict(DsqlError):
    sqlstate = "40001"

    def __init__(self) -> None:
        super().__init__("schema has been updated by another transaction (OC001)")


class InvalidSchemaName(DsqlError):
    sqlstate = "3F000"


class QueryCanceled(DsqlError):
    sqlstate = "57014"


class UndefinedTable(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42P01"


class UndefinedColumn(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42703"


class UndefinedParameter(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42P02"


class AmbiguousColumn(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42702"


class DuplicateTable(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42P07"


class DuplicateColumn(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42701"


class DuplicateSchema(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42P06"


class DuplicateObject(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42710"


class GroupingError(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42803"


class InvalidColumnReference(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42P10"


class WrongObjectType(SyntaxErrorOrAccessRuleViolation):
    sqlstate = "42809"


def with_position(err: DsqlError, position: int | None) -> DsqlError:
    """Attaches a 1-based character position in the statement text (ErrorResponse 'P')."""
    if position is not None and getattr(err, "position", None) is None:
        err.position = position  # type: ignore[attr-defined]
    return err

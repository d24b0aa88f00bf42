"""Errors that carry a PostgreSQL SQLSTATE.

Every error dsql raises to a user is a DsqlError with a five-character ``sqlstate``; the wire
layer turns it into an ErrorResponse unchanged, and the DB-API layer maps it onto the PEP 249
hierarchy. Components add subclasses here as they need them.
"""

from __future__ import annotations


class DsqlError(Exception):
    """Base class: a message and the SQLSTATE a PostgreSQL client expects for it."""

    sqlstate: str = "XX000"  # internal_error

    def __init__(self, message: str, *, sqlstate: str | None = None, detail: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if sqlstate is not None:
            if len(sqlstate) != 5:
                raise ValueError(f"a SQLSTATE has five characters, not {sqlstate!r}")
            self.sqlstate = sqlstate
        self.detail = detail
        self.hint = hint


class ConfigurationError(DsqlError):
    """A setting or command-line option is invalid."""

    sqlstate = "F0000"  # config_file_error


class InvalidParameterValue(DsqlError):
    sqlstate = "22023"  # invalid_parameter_value

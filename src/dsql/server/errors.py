"""SQLSTATE-carrying errors raised by the wire-protocol layer.

These extend ``dsql.errors.DsqlError`` (kept in this module so the server owns them). An error
with ``fatal = True`` ends the connection after its ErrorResponse (severity FATAL); the others
are ordinary statement errors (severity ERROR) and the connection continues.
"""

from __future__ import annotations

from dsql.errors import DsqlError, FeatureNotSupported


class WireError(DsqlError):
    """Base of the server's own errors; `fatal` ones close the connection."""

    fatal: bool = False


class ProtocolViolation(WireError):
    """A malformed, truncated, oversized or unexpected message (08P01)."""

    sqlstate = "08P01"  # protocol_violation

    def __init__(self, message: str, *, fatal: bool = True, detail: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.fatal = fatal


class ConnectionLost(WireError):
    """The client went away while the server was waiting for it (08006)."""

    sqlstate = "08006"  # connection_failure
    fatal = True


class QueryCanceled(WireError):
    sqlstate = "57014"  # query_canceled


class AdminShutdown(WireError):
    sqlstate = "57P01"  # admin_shutdown
    fatal = True


class TooManyConnections(WireError):
    sqlstate = "53300"  # too_many_connections
    fatal = True


class InvalidPassword(WireError):
    sqlstate = "28P01"  # invalid_password
    fatal = True


class InvalidAuthorization(WireError):
    sqlstate = "28000"  # invalid_authorization_specification
    fatal = True


class IdleInTransactionTimeout(WireError):
    sqlstate = "25P03"  # idle_in_transaction_session_timeout
    fatal = True


class InvalidSqlStatementName(WireError):
    sqlstate = "26000"  # invalid_sql_statement_name


class InvalidCursorName(WireError):
    sqlstate = "34000"  # invalid_cursor_name


class DuplicatePreparedStatement(WireError):
    sqlstate = "42P05"  # duplicate_prepared_statement


class DuplicateCursor(WireError):
    sqlstate = "42P03"  # duplicate_cursor


class IndeterminateDatatype(WireError):
    sqlstate = "42P18"  # indeterminate_datatype


class UndefinedBinaryFunction(WireError):
    sqlstate = "42883"  # undefined_function ("no binary output function available")


class InvalidEncodingParameter(WireError):
    sqlstate = "22023"  # invalid_parameter_value
    fatal = True


class FeatureNotSupportedFatal(FeatureNotSupported):
    fatal = True


class BackendUnavailable(RuntimeError):
    """No SQL engine backend can be opened (a configuration problem, not a client error)."""


class BadCopyFileFormat(WireError):
    """COPY data that does not parse (22P04), e.g. an unterminated CSV quoted field."""

    sqlstate = "22P04"  # bad_copy_file_format


class InvalidStartupOption(WireError):
    """A startup parameter or ``options`` entry the server cannot accept (42601, fatal)."""

    sqlstate = "42601"  # syntax_error, as PostgreSQL reports bad command-line arguments
    fatal = True

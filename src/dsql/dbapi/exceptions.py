"""The PEP 249 exception hierarchy, chosen from the SQLSTATE class (as psycopg does)."""

from __future__ import annotations

from dsql.errors import DsqlError


class Warning(Exception):  # noqa: A001 (PEP 249 name)
    pass


class Error(Exception):
    sqlstate: str | None = None

    def __init__(self, message: str = "", sqlstate: str | None = None,
                 cause: DsqlError | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.pgerror = message
        self.diag = cause


class InterfaceError(Error):
    pass


class DatabaseError(Error):
    pass


class DataError(DatabaseError):
    pass


class OperationalError(DatabaseError):
    pass


class IntegrityError(DatabaseError):
    pass


class InternalError(DatabaseError):
    pass


class ProgrammingError(DatabaseError):
    pass


class NotSupportedError(DatabaseError):
    pass


_BY_CLASS: dict[str, type[Error]] = {
    "0A": NotSupportedError, "21": ProgrammingError, "22": DataError, "23": IntegrityError,
    "24": InternalError, "25": InternalError, "26": ProgrammingError, "27": OperationalError,
    "28": OperationalError, "2B": InternalError, "2D": InternalError, "2F": InternalError,
    "34": ProgrammingError, "3D": ProgrammingError, "3F": ProgrammingError,
    "40": OperationalError, "42": ProgrammingError, "44": ProgrammingError,
    "53": OperationalError, "54": OperationalError, "55": OperationalError,
    "57": OperationalError, "58": OperationalError, "F0": InternalError, "HV": OperationalError,
    "P0": InternalError, "XX": InternalError,
}


def translate(e: DsqlError) -> Error:
    cls = _BY_CLASS.get(e.sqlstate[:2], DatabaseError)
    err = cls(e.message, e.sqlstate, e)
    return err

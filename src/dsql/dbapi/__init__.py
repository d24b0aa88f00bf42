"""PEP 249 (DB-API 2.0) over dsql sessions: `dsql.connect(path)`.

    with dsql.connect(":memory:") as conn:
        cur = conn.cursor()
        cur.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        cur.execute("INSERT INTO t VALUES (%s, %s)", (1, "a"))
        conn.commit()

Parameters use psycopg's styles (`%s`, `%(name)s`, `%%` for a literal percent). As in psycopg,
`autocommit` is False by default: the first statement opens a transaction that lasts until
commit() or rollback().
"""

from __future__ import annotations

from dsql.dbapi.connection import Connection, connect
from dsql.dbapi.cursor import Cursor
from dsql.dbapi.exceptions import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)

apilevel = "2.0"
threadsafety = 1
paramstyle = "pyformat"

__all__ = ["Connection", "Cursor", "DataError", "DatabaseError", "Error", "IntegrityError",
           "InterfaceError", "InternalError", "NotSupportedError", "OperationalError",
           "ProgrammingError", "Warning", "apilevel", "connect", "paramstyle", "threadsafety"]

"""dsql: a PostgreSQL-compatible, strongly consistent SQL database built the way Aurora DSQL is.

Optimistic concurrency with snapshot isolation, conflicts found at COMMIT, a durable ordered
journal, multi-version storage read as of a timestamp, and a physical clock with error bounds.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dsql")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"

from dsql.dbapi import connect  # noqa: E402  (DB-API 2.0 entry point)

__all__ = ["__version__", "connect"]

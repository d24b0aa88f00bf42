"""The catalog and session a statement is bound and run against, for code that has no
ExecContext at hand: casts to regclass, pg_get_indexdef(), format of reg* values.

The session sets it around binding and execution (`enter`); one thread runs one statement at a
time, so a thread-local is enough.

Thread-safety: per thread by construction.
"""

from __future__ import annotations

import threading
from typing import Any

_state = threading.local()


def enter(catalog: Any, session: Any) -> None:
    """Makes `catalog` (a dsql.catalog.objects.Catalog) and `session` current on this thread."""
    assert catalog is not None
    _state.catalog = catalog
    _state.session = session


def catalog() -> Any:
    """The current catalog; an empty one when nothing was entered (unit tests of casts)."""
    cat = getattr(_state, "catalog", None)
    if cat is None:
        from dsql.catalog.objects import Catalog
        cat = Catalog()
        _state.catalog = cat
    return cat


def session() -> Any:
    return getattr(_state, "session", None)

"""The Backend for a data directory: the one place where the server meets the SQL engine.

Until the engine's session layer (``dsql.session`` / ``dsql.engine``) exists this raises
BackendUnavailable with a clear message; tests and tools inject a backend instead
(``dsql serve --backend module:callable``). Wiring the engine is the body of ``open_backend``::

    from dsql.engine import Database
    return EngineBackend(Database.open(data_dir))   # open_session(startup, client) -> Session
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from dsql.server.backend import Backend
from dsql.server.errors import BackendUnavailable


def open_backend(data_dir: Path) -> Backend:
    """The engine's Backend over `data_dir` (created if missing)."""
    try:
        importlib.import_module("dsql.session")
    except ImportError:
        raise BackendUnavailable(
            "the SQL engine (dsql.session) is not available in this build, so `dsql serve` "
            "has no database to serve yet; use --backend MODULE:CALLABLE to serve another "
            "backend") from None
    raise BackendUnavailable(  # pragma: no cover - replaced when the engine lands
        "dsql.session exists but the server is not wired to it yet (dsql.server.factory)")


def load_backend_factory(spec: str) -> Callable[[Path], Backend]:
    """'package.module:callable' -> the callable; it is called with the data directory."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"--backend wants MODULE:CALLABLE, not {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise BackendUnavailable(f"cannot import backend module {module_name!r}: {e}") from e
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise BackendUnavailable(f"{module_name!r} has no callable {attr!r}")
    return factory  # type: ignore[no-any-return]

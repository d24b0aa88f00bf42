"""The Backend for a data directory: the one place where the server meets the SQL engine.

``open_backend(data_dir)`` opens the engine's Database (``dsql.engine``) and hands out one
``dsql.session.Session`` per connection; tools and tests may serve another backend instead
(``dsql serve --backend module:callable``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dsql.server.backend import Backend, ClientChannel, StartupInfo
from dsql.server.errors import BackendUnavailable

if TYPE_CHECKING:
    from dsql.txn.limits import Limits


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class EngineBackend:
    """The SQL engine as the server's Backend."""

    def __init__(self, data_dir: Path, limits: Limits | None = None) -> None:
        from dsql.engine import Database, DatabaseOptions

        opts = DatabaseOptions() if limits is None else DatabaseOptions(limits=limits)
        self.db = Database.open(data_dir, opts)

    def open_session(self, startup: StartupInfo, client: ClientChannel) -> object:
        from dsql.session import Session

        session = Session(self.db)
        session.client = client  # COPY FROM STDIN / TO STDOUT move their data through it
        try:
            # PostgreSQL applies startup parameters and -c options as SET at session start.
            settings = dict(startup.settings)
            if startup.application_name:
                settings.setdefault("application_name", startup.application_name)
            for name, value in settings.items():
                if not name.replace("_", "").replace(".", "").isalnum():
                    continue
                session.execute(f"SET {name} TO {_quote_literal(value)}")
        except BaseException:
            session.close()
            raise
        return session

    def close(self) -> None:
        self.db.close()


def open_backend(data_dir: Path, limits: Limits | None = None) -> Backend:
    """The engine's Backend over `data_dir` (created if missing); `limits` are the server's
    per-transaction limits (`dsql serve --max-transaction-rows ...`)."""
    return EngineBackend(data_dir, limits)  # type: ignore[return-value]


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

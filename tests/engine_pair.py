"""Two in-process servers over one data directory: one with the C++ fast lane, one without.

The differential tests of the fast lane (test_server_fastpath.py) and of the transaction lane
(test_server_txnlane.py) send the same bytes to both and compare the replies.

    with lane_and_general(threads=True) as (lane, general, lane_backend): ...
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from dsql.server.auth import InMemoryRoleStore
from dsql.server.config import ServerConfig
from dsql.server.factory import EngineBackend
from dsql.server.runner import ServerThread


@contextlib.contextmanager
def lane_and_general(threads: bool) -> Iterator[tuple[ServerThread, ServerThread, EngineBackend]]:
    """(lane server, general server, the lane's backend); both share one Database (the
    backends are refcounted on the same directory). `threads`: the lane server runs each
    connection in its own thread (the default), else on the event loop
    (--no-connection-threads). Role: admin, superuser, trust."""
    with tempfile.TemporaryDirectory() as tmp:
        roles = InMemoryRoleStore()
        roles.add("admin", None, superuser=True)
        lane_backend = EngineBackend(Path(tmp) / "data")
        general_backend = EngineBackend(Path(tmp) / "data")  # the same Database
        lane = ServerThread(ServerConfig(host="127.0.0.1", port=0, shutdown_timeout_s=2.0,
                                         connection_threads=threads),
                            lane_backend, roles, None).start()
        general = ServerThread(ServerConfig(host="127.0.0.1", port=0, shutdown_timeout_s=2.0,
                                            fast_path=False), general_backend, roles,
                               None).start()
        try:
            yield lane, general, lane_backend
        finally:
            lane.stop()
            general.stop()

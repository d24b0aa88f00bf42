"""Server settings (command line, environment) and PostgreSQL-style duration parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dsql.server.auth import AUTH_METHODS, AuthMethod
from dsql.server.framing import LARGE_MESSAGE_MAX, SMALL_MESSAGE_MAX

DEFAULT_PORT = 5432
DEFAULT_MAX_CONNECTIONS = 100
SERVER_VERSION = "16.4"

_DURATION_RE = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*", re.IGNORECASE)
_UNIT_MS = {None: 1.0, "us": 0.001, "ms": 1.0, "s": 1000.0, "min": 60_000.0,
            "h": 3_600_000.0, "d": 86_400_000.0}


def parse_duration_ms(text: str) -> int:
    """'250', '250ms', '5s', '1min', '0' -> milliseconds (a bare number is milliseconds).

    Raises ValueError for anything else or a negative value.
    """
    m = _DURATION_RE.fullmatch(text)
    if m is None:
        raise ValueError(f"invalid duration: {text!r}")
    unit = m.group(2).lower() if m.group(2) else None
    ms = float(m.group(1)) * _UNIT_MS[unit]
    if ms < 0:
        raise ValueError(f"a duration cannot be negative: {text!r}")
    return int(ms + 0.5) if ms else 0


def default_data_dir() -> Path:
    """~/.local/share/dsql (XDG data home when set)."""
    import os

    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dsql"


@dataclass
class ServerConfig:
    """Everything `dsql serve` can be told. Times end in their unit."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT              # 0 picks a free port (tests)
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    auth_method: AuthMethod = "trust"
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_self_signed: bool = False
    statement_timeout_ms: int = 0         # 0 = none; sessions may SET their own
    idle_in_transaction_timeout_ms: int = 0
    shutdown_timeout_s: float = 10.0      # in-flight statements get this long at shutdown
    auth_timeout_s: float = 60.0          # a connection must finish startup within this
    message_size_max: int = LARGE_MESSAGE_MAX
    server_version: str = SERVER_VERSION
    loop: str = "auto"                    # auto (uvloop if installed), asyncio, uvloop
    direct_writes: bool = True            # workers write replies to the socket themselves
    fast_path: bool = True                # point SELECTs answered in C++ (server/fastpath.py)
    connection_threads: bool = True       # plain TCP: a thread per connection reads its socket
    extra_parameters: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.auth_method not in AUTH_METHODS:
            raise ValueError(f"auth method must be one of {', '.join(AUTH_METHODS)}")
        if not 1 <= self.max_connections <= 10_000:
            raise ValueError("max_connections must be between 1 and 10000")
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be between 0 and 65535")
        if self.message_size_max < SMALL_MESSAGE_MAX:
            raise ValueError(f"message_size_max must be at least {SMALL_MESSAGE_MAX}")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("--tls-cert and --tls-key go together")
        if self.loop not in ("auto", "asyncio", "uvloop"):
            raise ValueError("loop must be auto, asyncio or uvloop")

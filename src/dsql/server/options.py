"""The `dsql serve` command-line options (kept light: `dsql` builds its parser on every run)."""

from __future__ import annotations

import argparse

from dsql.server.auth import AUTH_METHODS
from dsql.server.config import default_data_dir

ADMIN_PASSWORD_ENV = "DSQL_ADMIN_PASSWORD"


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=5432, help="TCP port (5432)")
    p.add_argument("--data", metavar="DIR", default=None,
                   help=f"data directory (default {default_data_dir()})")
    p.add_argument("--max-connections", type=int, default=100)
    p.add_argument("--auth", choices=AUTH_METHODS, default=None,
                   help="client authentication (default: scram-sha-256 when "
                        f"{ADMIN_PASSWORD_ENV} is set, else trust)")
    p.add_argument("--admin-user", default=None,
                   help="the initial superuser role (default: the OS user name); its "
                        f"password comes from ${ADMIN_PASSWORD_ENV}")
    p.add_argument("--tls-cert", default=None, help="PEM certificate chain for TLS")
    p.add_argument("--tls-key", default=None, help="PEM private key for TLS")
    p.add_argument("--tls-self-signed", action="store_true",
                   help="generate a self-signed certificate in DATA/tls (needs cryptography)")
    p.add_argument("--statement-timeout", default="0",
                   help="cancel statements running longer (e.g. 30s; 0 = never)")
    p.add_argument("--idle-in-transaction-timeout", default="0",
                   help="close sessions idle inside a transaction this long (0 = never)")
    p.add_argument("--shutdown-timeout", type=float, default=10.0,
                   help="seconds running statements get to finish at shutdown")
    p.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto")
    p.add_argument("--no-fast-path", dest="fast_path", action="store_false",
                   help="answer primary-key point SELECTs on the general path too, not in C++")
    p.add_argument("--no-connection-threads", dest="connection_threads", action="store_false",
                   help="read every socket on the event loop (no thread per connection)")
    p.add_argument("--backend", metavar="MODULE:CALLABLE", default=None,
                   help="serve a different backend: CALLABLE(data_dir) -> Backend")
    p.add_argument("--max-transaction-rows", metavar="N", default=None,
                   help="rows a transaction may insert, update or delete (3000; sessions may "
                        "SET dsql.max_transaction_rows)")
    p.add_argument("--max-transaction-bytes", metavar="N", default=None,
                   help="bytes of changes per transaction, k/M/G suffixes (10M; SET "
                        "dsql.max_transaction_bytes)")
    p.add_argument("--max-transaction-age", metavar="S", default=None,
                   help="seconds from BEGIN to COMMIT (300; SET dsql.max_transaction_age_s)")

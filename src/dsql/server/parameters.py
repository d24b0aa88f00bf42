"""Reported settings (ParameterStatus) and what the server derives from settings.

PostgreSQL 16 sends ParameterStatus for the GUC_REPORT settings at startup and whenever one
changes. The server also needs a few settings itself: TimeZone and DateStyle to read and write
text values (a ValueContext), and the two timeouts it enforces.

Thread-safety: pure functions and constants.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from dsql.errors import DsqlError
from dsql.server.config import parse_duration_ms
from dsql.sql.types import timezones
from dsql.sql.types.context import DEFAULT_CONTEXT, ValueContext

log = logging.getLogger("dsql.server")

REPORTED = ("application_name", "client_encoding", "DateStyle",
            "default_transaction_read_only", "in_hot_standby", "integer_datetimes",
            "IntervalStyle", "is_superuser", "scram_iterations", "server_encoding",
            "server_version", "session_authorization", "standard_conforming_strings",
            "TimeZone")
REPORTED_BY_LOWER = {name.lower(): name for name in REPORTED}
STATEMENT_TIMEOUT = "statement_timeout"
IDLE_IN_TRANSACTION_TIMEOUT = "idle_in_transaction_session_timeout"


def defaults(server_version: str) -> dict[str, str]:
    """The reported settings of a fresh session, before the engine's and the client's."""
    return {
        "server_version": server_version, "server_encoding": "UTF8",
        "client_encoding": "UTF8", "DateStyle": "ISO, MDY", "IntervalStyle": "postgres",
        "TimeZone": "UTC", "integer_datetimes": "on", "standard_conforming_strings": "on",
        "application_name": "", "is_superuser": "off", "session_authorization": "",
        "default_transaction_read_only": "off", "in_hot_standby": "off",
        "scram_iterations": "4096",
    }


def canonical_name(name: str) -> str | None:
    """The reported spelling of a setting name, or None if it is not reported."""
    return REPORTED_BY_LOWER.get(name.lower())


def value_context(params: Mapping[str, str], previous: ValueContext = DEFAULT_CONTEXT
                  ) -> ValueContext:
    """The ValueContext for text I/O under these TimeZone and DateStyle values."""
    zone, zone_name = previous.timezone, previous.timezone_name
    tz_text = params.get("TimeZone")
    if tz_text is not None and tz_text != zone_name:
        try:
            zone, zone_name = timezones.timezone_setting(tz_text)
        except DsqlError:
            log.warning("ignoring TimeZone %r reported by the session", tz_text)
    order = previous.date_order
    style = params.get("DateStyle")
    if style is not None:
        words = {w.strip().upper() for w in style.split(",")}
        if words & {"DMY", "EURO", "EUROPEAN"}:
            order = "DMY"
        elif "YMD" in words:
            order = "YMD"
        elif words & {"MDY", "US", "NONEURO", "NONEUROPEAN"}:
            order = "MDY"
    if (zone, zone_name, order) == (previous.timezone, previous.timezone_name,
                                    previous.date_order):
        return previous
    return ValueContext(timezone=zone, timezone_name=zone_name, date_order=order)


def timeout_ms(value: str) -> int | None:
    """A timeout setting's value in ms, or None if it does not parse (then it is ignored)."""
    try:
        return parse_duration_ms(value)
    except ValueError:
        log.warning("ignoring unparsable timeout value %r", value)
        return None

"""Session settings (GUCs) that clients SET, SHOW and RESET, with PostgreSQL's defaults.

`reported` settings are sent to wire clients as ParameterStatus when they change.
dsql's own: dsql.max_transaction_rows, dsql.max_transaction_bytes, dsql.max_transaction_age_s.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsql.errors import InvalidParameterValue, UndefinedObject

SERVER_VERSION = "16.4"
VERSION_STRING = (f"PostgreSQL {SERVER_VERSION} (dsql 0.1.0) on x86_64-pc-linux-gnu, "
                  "compiled by dsql, 64-bit")


@dataclass(frozen=True)
class Setting:
    name: str  # canonical spelling, as SHOW prints its header
    default: str
    reported: bool = False
    read_only: bool = False


_ALL = [
    Setting("server_version", SERVER_VERSION, True, True),
    Setting("server_encoding", "UTF8", True, True),
    Setting("client_encoding", "UTF8", True),
    Setting("DateStyle", "ISO, MDY", True),
    Setting("IntervalStyle", "postgres", True),
    Setting("TimeZone", "UTC", True),
    Setting("integer_datetimes", "on", True, True),
    Setting("standard_conforming_strings", "on", True),
    Setting("application_name", "", True),
    Setting("is_superuser", "on", True, True),
    Setting("session_authorization", "postgres", True, True),
    Setting("search_path", '"$user", public'),
    Setting("extra_float_digits", "1"),
    Setting("statement_timeout", "0"),
    Setting("lock_timeout", "0"),
    Setting("idle_in_transaction_session_timeout", "0"),
    Setting("transaction_isolation", "repeatable read", False, True),
    Setting("default_transaction_isolation", "repeatable read"),
    Setting("transaction_read_only", "off", False, True),
    Setting("default_transaction_read_only", "off"),
    Setting("max_identifier_length", "63", False, True),
    Setting("server_version_num", "160004", False, True),
    Setting("password_encryption", "scram-sha-256"),
    Setting("default_table_access_method", "heap"),
    Setting("default_tablespace", ""),
    Setting("client_min_messages", "notice"),
    Setting("bytea_output", "hex"),
    Setting("row_security", "on"),
    Setting("work_mem", "4MB"),
    Setting("lc_collate", "C.UTF-8", False, True),
    Setting("lc_ctype", "C.UTF-8", False, True),
    Setting("max_connections", "100", False, True),
    Setting("block_size", "8192", False, True),
    Setting("dsql.max_transaction_rows", "3000"),
    Setting("dsql.max_transaction_bytes", str(10 << 20)),
    Setting("dsql.max_transaction_age_s", "300"),
]
SETTINGS = {s.name.lower(): s for s in _ALL}


def lookup(name: str) -> Setting:
    s = SETTINGS.get(name.lower())
    if s is None:
        raise UndefinedObject(f'unrecognized configuration parameter "{name}"')
    return s


def normalise(setting: Setting, value: str) -> str:
    """Validates a SET value and gives the form SHOW prints."""
    name = setting.name
    if name == "TimeZone":
        from dsql.sql.types.timezones import timezone_setting
        return timezone_setting(value)[1]
    if name == "DateStyle":
        parts = [p.strip().upper() for p in value.split(",")]
        style, order = "ISO", "MDY"
        for p in parts:
            if p in ("ISO", "POSTGRES", "SQL", "GERMAN"):
                if p != "ISO":
                    raise InvalidParameterValue(f'DateStyle "{p}" is not supported (only ISO)')
            elif p in ("MDY", "DMY", "YMD", "US", "EUROPEAN", "NONEURO", "NONEUROPEAN"):
                order = {"US": "MDY", "NONEURO": "MDY", "NONEUROPEAN": "MDY",
                         "EUROPEAN": "DMY"}.get(p, p)
            else:
                raise InvalidParameterValue(f'invalid value for parameter "DateStyle": '
                                            f'"{value}"')
        return f"{style}, {order}"
    if name == "client_encoding":
        if value.upper().replace("-", "") not in ("UTF8", "UNICODE"):
            raise InvalidParameterValue(f'invalid value for parameter "client_encoding": '
                                        f'"{value}"')
        return "UTF8"
    if name.startswith("dsql.max_transaction"):
        try:
            x = float(value)
        except ValueError:
            raise InvalidParameterValue(f'invalid value for parameter "{name}": "{value}"') \
                from None
        if x <= 0:
            raise InvalidParameterValue(f'invalid value for parameter "{name}": "{value}"')
        return value
    if name == "password_encryption":
        v = value.strip().lower()
        if v not in ("scram-sha-256", "md5"):
            raise InvalidParameterValue(f'invalid value for parameter "password_encryption": '
                                        f'"{value}"')
        return v
    if name in ("default_transaction_isolation",):
        v = " ".join(value.lower().split())
        if v != "repeatable read":
            from dsql.errors import FeatureNotSupported
            raise FeatureNotSupported(f"isolation level {v.upper()} is not supported; Aurora "
                                      "DSQL supports only REPEATABLE READ")
        return v
    return value

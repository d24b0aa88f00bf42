"""The startup packet: protocol version, SSL/GSS/cancel requests, connection parameters.

Packet grammar (after the Int32 length that framing strips)::

    StartupMessage  := Int32 version (3.0 = 196608) , (cstring name , cstring value)* , NUL
    SSLRequest      := Int32 80877103
    GSSENCRequest   := Int32 80877104
    CancelRequest   := Int32 80877102 , Int32 backend-pid , Int32 secret-key

``options`` is split like PostgreSQL's pg_split_opts (whitespace separates, a backslash
escapes the next character) and read as ``-c name=value``, ``-cname=value`` or
``--name=value``; names use ``_`` for ``-``.

Thread-safety: pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsql.server.errors import (
    FeatureNotSupportedFatal,
    InvalidAuthorization,
    InvalidEncodingParameter,
    InvalidStartupOption,
    ProtocolViolation,
)
from dsql.server.messages import (
    CANCEL_REQUEST_CODE,
    GSSENC_REQUEST_CODE,
    SSL_REQUEST_CODE,
    Reader,
)

PROTOCOL_MAJOR, PROTOCOL_MINOR = 3, 0
STARTUP_PARAMETERS_MAX = 256
_UTF8_NAMES = frozenset(("utf8", "unicode"))


@dataclass(frozen=True)
class StartupPacket:
    """One packet of the startup phase; `code` is the protocol version or a request code."""

    code: int
    params: dict[str, str] = field(default_factory=dict)
    cancel_pid: int = 0
    cancel_secret: int = 0

    @property
    def is_ssl_request(self) -> bool:
        return self.code == SSL_REQUEST_CODE

    @property
    def is_gssenc_request(self) -> bool:
        return self.code == GSSENC_REQUEST_CODE

    @property
    def is_cancel_request(self) -> bool:
        return self.code == CANCEL_REQUEST_CODE


def parse_startup_packet(body: bytes) -> StartupPacket:
    """Parses a startup-phase packet body; malformed layouts raise ProtocolViolation."""
    r = Reader(body)
    code = r.int32()
    if code == CANCEL_REQUEST_CODE:
        pid, secret = r.int32(), r.int32()
        r.finish()
        return StartupPacket(code, cancel_pid=pid, cancel_secret=secret)
    if code in (SSL_REQUEST_CODE, GSSENC_REQUEST_CODE):
        r.finish()
        return StartupPacket(code)
    params: dict[str, str] = {}
    for _ in range(STARTUP_PARAMETERS_MAX + 1):
        if r.remaining() == 0:
            raise ProtocolViolation(
                "invalid startup packet layout: expected terminator as last byte")
        name = r.cstring()
        if not name:
            break
        params[name] = r.cstring()
    else:
        raise ProtocolViolation(f"too many startup parameters (limit {STARTUP_PARAMETERS_MAX})")
    r.finish()
    return StartupPacket(code, params)


@dataclass(frozen=True)
class ClientRequest:
    """A StartupMessage, resolved: who connects to what, with which settings."""

    user: str
    database: str
    application_name: str
    client_encoding: str          # as reported back: "UTF8" or "SQL_ASCII"
    settings: dict[str, str]      # other parameters and the options' -c entries
    protocol_minor: int
    unrecognized_options: list[str]  # _pq_.* protocol options (NegotiateProtocolVersion)


def split_options(options: str) -> list[str]:
    """pg_split_opts: whitespace-separated words, a backslash escapes the next character."""
    words: list[str] = []
    cur: list[str] = []
    in_word = escaped = False
    for c in options:
        if escaped:
            cur.append(c)
            escaped = False
        elif c == "\\":
            escaped = in_word = True
        elif c.isspace():
            if in_word:
                words.append("".join(cur))
                cur, in_word = [], False
        else:
            cur.append(c)
            in_word = True
    if in_word:
        words.append("".join(cur))
    return words


def parse_options(options: str) -> dict[str, str]:
    """The settings in a startup `options` string (`-c a=b`, `-ca=b`, `--a=b`)."""
    words = split_options(options)
    out: dict[str, str] = {}
    i = 0
    while i < len(words):
        w = words[i]
        if w == "-c":
            if i + 1 >= len(words):
                raise InvalidStartupOption(
                    "invalid command-line argument for server process: -c")
            item = words[i + 1]
            i += 2
        elif w.startswith("-c"):
            item, i = w[2:], i + 1
        elif w.startswith("--"):
            item, i = w[2:], i + 1
        else:
            raise InvalidStartupOption(f"invalid command-line argument for server process: {w}",
                                       hint='Only "-c name=value" and "--name=value" are '
                                            "accepted in options.")
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InvalidStartupOption(f"invalid command-line argument for server process: "
                                       f"{item}")
        out[name.replace("-", "_")] = value
    return out


def normalize_client_encoding(value: str) -> str:
    key = "".join(c for c in value.lower() if c.isalnum())
    if key in _UTF8_NAMES:
        return "UTF8"
    if key == "sqlascii":
        return "SQL_ASCII"
    raise InvalidEncodingParameter(f'invalid value for parameter "client_encoding": "{value}"',
                                   detail="dsql speaks UTF8 only")


def resolve_startup(packet: StartupPacket) -> ClientRequest:
    """Checks the protocol version and reads the StartupMessage parameters."""
    major, minor = packet.code >> 16, packet.code & 0xFFFF
    if major != PROTOCOL_MAJOR:
        raise FeatureNotSupportedFatal(
            f"unsupported frontend protocol {major}.{minor}: server supports "
            f"{PROTOCOL_MAJOR}.0 to {PROTOCOL_MAJOR}.{PROTOCOL_MINOR}")
    params = dict(packet.params)
    user = params.pop("user", "")
    if not user:
        raise InvalidAuthorization("no PostgreSQL user name specified in startup packet")
    database = params.pop("database", "") or user
    application_name = params.pop("application_name", "")
    encoding = normalize_client_encoding(params.pop("client_encoding", "UTF8"))
    replication = params.pop("replication", "false").lower()
    if replication not in ("false", "off", "no", "0"):
        raise FeatureNotSupportedFatal("replication connections are not supported")
    unrecognized = sorted(k for k in params if k.startswith("_pq_."))
    settings = {k: v for k, v in params.items() if not k.startswith("_pq_.") and k != "options"}
    settings.update(parse_options(params.get("options", "")))
    if "client_encoding" in settings:
        encoding = normalize_client_encoding(settings.pop("client_encoding"))
    if "application_name" in settings:
        application_name = settings.pop("application_name")
    return ClientRequest(user, database, application_name, encoding, settings, minor,
                         unrecognized)

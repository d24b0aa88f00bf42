"""The authentication exchange of the startup phase (after StartupMessage, before the greeting).

Runs on the event loop as part of a connection's handshake; talks to the client through the
small ``HandshakeIO`` interface so it is independent of the transport. Method choice follows
PostgreSQL: ``md5`` falls back to SCRAM for a role whose secret is a SCRAM verifier, and a role
that is unknown or has no usable secret goes through the same exchange and gets the same
28P01 as a wrong password.
"""

from __future__ import annotations

import secrets
from typing import Protocol

from dsql.server import messages as m
from dsql.server.auth import (
    SCRAM_MECHANISM,
    AuthMethod,
    Role,
    ScramServer,
    md5_response_ok,
    uses_scram,
    verify_cleartext,
)
from dsql.server.errors import InvalidAuthorization, InvalidPassword, ProtocolViolation
from dsql.server.messages import Reader

PASSWORD_MESSAGE = 0x70  # 'p': PasswordMessage, SASLInitialResponse, SASLResponse
MD5_SALT_BYTES = 4


class HandshakeIO(Protocol):
    def handshake_send(self, data: bytes) -> None: ...
    async def handshake_packet(self) -> tuple[int, bytes]: ...


async def _response(io: HandshakeIO) -> bytes:
    mtype, body = await io.handshake_packet()
    if mtype != PASSWORD_MESSAGE:
        raise ProtocolViolation(f"expected password response, got message type {mtype}")
    return body


async def authenticate(io: HandshakeIO, method: AuthMethod, user: str, role: Role | None,
                       mock_key: bytes) -> Role | None:
    """Runs the exchange for `method`; sends AuthenticationOk and returns the role, or raises
    InvalidPassword (28P01) / InvalidAuthorization (28000) / ProtocolViolation (08P01)."""
    failed = InvalidPassword(f'password authentication failed for user "{user}"')
    stored = role.password if role is not None else None
    if method == "trust":
        if role is None:
            raise InvalidAuthorization(f'role "{user}" does not exist')
    elif method == "password":
        io.handshake_send(m.auth_request(m.AUTH_CLEARTEXT))
        r = Reader(await _response(io))
        password = r.cstring()
        r.finish()
        if not verify_cleartext(stored, user, password):
            raise failed
    elif method == "md5" and stored is not None and not uses_scram(stored):
        salt = secrets.token_bytes(MD5_SALT_BYTES)
        io.handshake_send(m.auth_request(m.AUTH_MD5, salt))
        r = Reader(await _response(io))
        response = r.cstring()
        r.finish()
        if not md5_response_ok(stored, salt, response):
            raise failed
    else:
        await _scram(io, stored, user, mock_key, failed)
    if role is not None and not role.can_login:
        raise InvalidAuthorization(f'role "{user}" is not permitted to log in')
    io.handshake_send(m.auth_request(m.AUTH_OK))
    return role


async def _scram(io: HandshakeIO, stored: str | None, user: str, mock_key: bytes,
                 failed: InvalidPassword) -> None:
    io.handshake_send(m.auth_request(m.AUTH_SASL, m.cstr(SCRAM_MECHANISM) + b"\0"))
    r = Reader(await _response(io))
    mechanism = r.cstring()
    length = r.int32()
    data = r.raw(length) if length >= 0 else b""
    r.finish()
    if mechanism != SCRAM_MECHANISM:
        raise ProtocolViolation("client selected an invalid SASL authentication mechanism")
    scram = ScramServer(stored, user, mock_key)
    io.handshake_send(m.auth_request(m.AUTH_SASL_CONTINUE, scram.first(data)))
    final = scram.final(await _response(io))
    if final is None:
        raise failed
    io.handshake_send(m.auth_request(m.AUTH_SASL_FINAL, final))

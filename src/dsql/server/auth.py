"""Password authentication: stored secrets, cleartext, md5 and SCRAM-SHA-256 (RFC 5802/7677).

Roles keep one secret in PostgreSQL's ``pg_authid.rolpassword`` formats::

    scram  := "SCRAM-SHA-256$" iterations ":" base64(salt) "$" base64(StoredKey) ":"
              base64(ServerKey)
    md5    := "md5" hex(md5(password || username))          -- 32 lowercase hex digits

SCRAM exchange (no channel binding; only ``SCRAM-SHA-256`` is advertised)::

    client-first  := gs2-header client-first-bare ; gs2-header := ("n" | "y") ",," ;
                     client-first-bare := "n=" user ",r=" client-nonce
    server-first  := "r=" client-nonce server-nonce ",s=" base64(salt) ",i=" iterations
    client-final  := "c=" base64(gs2-header) ",r=" nonce ",p=" base64(ClientProof)
    server-final  := "v=" base64(ServerSignature)
    AuthMessage   := client-first-bare "," server-first "," client-final-without-proof

A wrong password and an unknown role fail the same way: an unknown role (or one without a
usable secret) goes through a mock exchange whose salt is derived from the role name, so the
client sees the same messages and the same 28P01 error.

Thread-safety: RoleStore implementations must allow concurrent get_role; ScramServer objects
belong to one connection.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import stringprep
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from dsql.server.errors import ProtocolViolation

AuthMethod = Literal["trust", "password", "md5", "scram-sha-256"]
AUTH_METHODS: tuple[AuthMethod, ...] = ("trust", "password", "md5", "scram-sha-256")
SCRAM_MECHANISM = "SCRAM-SHA-256"
SCRAM_ITERATIONS = 4096
SCRAM_SALT_BYTES = 16
SCRAM_NONCE_BYTES = 18
CLIENT_NONCE_LENGTH_MAX = 1024


@dataclass(frozen=True)
class Role:
    """A login role as the server needs it: ``password`` in rolpassword format or None."""

    name: str
    password: str | None = None
    superuser: bool = False
    can_login: bool = True


class RoleStore(Protocol):
    """Where roles live (the catalog: CatalogRoleStore; or memory). Must be thread-safe."""

    def get_role(self, name: str) -> Role | None: ...


class InMemoryRoleStore:
    """Roles held in a dict, e.g. the initial admin role from the command line."""

    def __init__(self) -> None:
        self._roles: dict[str, Role] = {}
        self._lock = threading.Lock()

    def add(self, name: str, password: str | None = None, *, superuser: bool = False,
            encryption: Literal["scram-sha-256", "md5"] = "scram-sha-256",
            can_login: bool = True) -> Role:
        """Adds (or replaces) a role; the password is stored hashed as `encryption` says."""
        assert name, "a role needs a name"
        stored = None
        if password is not None:
            stored = (scram_verifier(password) if encryption == "scram-sha-256"
                      else md5_password_hash(password, name))
        role = Role(name, stored, superuser, can_login)
        with self._lock:
            self._roles[name] = role
        return role

    def get_role(self, name: str) -> Role | None:
        with self._lock:
            return self._roles.get(name)


class CatalogRoleStore:
    """Roles as the engine's newest committed catalog holds them (dsql.catalog.roles).

    `catalogs` is a dsql.catalog.store.CatalogCache; reading its `latest` is thread-safe (an
    attribute swap on commit), so a role created or altered by CREATE/ALTER ROLE is seen by
    the next login.
    """

    def __init__(self, catalogs: Any) -> None:
        assert hasattr(catalogs, "latest"), "a CatalogCache is needed"
        self._catalogs = catalogs

    def get_role(self, name: str) -> Role | None:
        d = self._catalogs.latest.roles.get(name)
        if d is None:
            return None
        return Role(d.name, d.password, d.superuser, d.login)


# -- SASLprep (RFC 4013), as PostgreSQL applies it to passwords ---------------------------------

_PROHIBITED = (stringprep.in_table_c12, stringprep.in_table_c21, stringprep.in_table_c22,
               stringprep.in_table_c3, stringprep.in_table_c4, stringprep.in_table_c5,
               stringprep.in_table_c6, stringprep.in_table_c7, stringprep.in_table_c8,
               stringprep.in_table_c9, stringprep.in_table_a1)


def saslprep(s: str) -> str:
    """The SASLprep form of a password; raises ValueError if it has prohibited characters.

    Printable ASCII is returned unchanged (the common case, no tables consulted).
    """
    if s.isascii() and s.isprintable():
        return s
    mapped = "".join(" " if stringprep.in_table_c12(c) else c
                     for c in s if not stringprep.in_table_b1(c))
    out = unicodedata.normalize("NFKC", mapped)
    for c in out:
        if any(table(c) for table in _PROHIBITED):
            raise ValueError("prohibited character in password")
    if any(stringprep.in_table_d1(c) for c in out):
        if any(stringprep.in_table_d2(c) for c in out):
            raise ValueError("mixed bidirectional text in password")
        if not (stringprep.in_table_d1(out[0]) and stringprep.in_table_d1(out[-1])):
            raise ValueError("bidirectional password must start and end with RandALCat")
    return out


def _prepared_password(password: str) -> bytes:
    """PostgreSQL falls back to the raw password when SASLprep rejects it."""
    try:
        return saslprep(password).encode("utf-8")
    except ValueError:
        return password.encode("utf-8")


# -- stored secrets ----------------------------------------------------------------------------

def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _unb64(s: str) -> bytes:
    return base64.b64decode(s.encode("ascii"), validate=True)


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


@dataclass(frozen=True)
class ScramVerifier:
    iterations: int
    salt: bytes
    stored_key: bytes
    server_key: bytes

    def __str__(self) -> str:
        return (f"SCRAM-SHA-256${self.iterations}:{_b64(self.salt)}$"
                f"{_b64(self.stored_key)}:{_b64(self.server_key)}")

    @classmethod
    def parse(cls, text: str) -> ScramVerifier | None:
        """The verifier in rolpassword text, or None if it is not a valid SCRAM secret."""
        try:
            scheme, iter_salt, keys = text.split("$")
            iterations, salt = iter_salt.split(":")
            stored, server = keys.split(":")
            v = cls(int(iterations), _unb64(salt), _unb64(stored), _unb64(server))
        except (ValueError, UnicodeEncodeError):
            return None
        if scheme != "SCRAM-SHA-256" or v.iterations < 1 or len(v.stored_key) != 32 \
                or len(v.server_key) != 32:
            return None
        return v

    @classmethod
    def from_password(cls, password: str, salt: bytes, iterations: int) -> ScramVerifier:
        assert iterations >= 1 and salt
        salted = hashlib.pbkdf2_hmac("sha256", _prepared_password(password), salt, iterations)
        client_key = _hmac(salted, b"Client Key")
        return cls(iterations, salt, hashlib.sha256(client_key).digest(),
                   _hmac(salted, b"Server Key"))


def scram_verifier(password: str, salt: bytes | None = None,
                   iterations: int = SCRAM_ITERATIONS) -> str:
    """The rolpassword text PostgreSQL stores for `password` under scram-sha-256."""
    salt = salt if salt is not None else secrets.token_bytes(SCRAM_SALT_BYTES)
    return str(ScramVerifier.from_password(password, salt, iterations))


def md5_password_hash(password: str, user: str) -> str:
    """The rolpassword text PostgreSQL stores for `password` under md5."""
    return "md5" + hashlib.md5((password + user).encode("utf-8")).hexdigest()


def _is_md5_hash(stored: str) -> bool:
    return len(stored) == 35 and stored.startswith("md5") and all(
        c in "0123456789abcdef" for c in stored[3:])


def verify_cleartext(stored: str | None, user: str, password: str) -> bool:
    """Checks a cleartext password against a stored secret (either format)."""
    if stored is None or password == "":
        return False
    verifier = ScramVerifier.parse(stored)
    if verifier is not None:
        again = ScramVerifier.from_password(password, verifier.salt, verifier.iterations)
        return hmac.compare_digest(again.stored_key, verifier.stored_key) and \
            hmac.compare_digest(again.server_key, verifier.server_key)
    if _is_md5_hash(stored):
        return hmac.compare_digest(md5_password_hash(password, user), stored)
    return False


def md5_response_ok(stored: str | None, salt: bytes, response: str) -> bool:
    """Checks an md5 challenge response: "md5" hex(md5(hex-part-of-stored || salt))."""
    if stored is None or not _is_md5_hash(stored):
        return False
    expected = "md5" + hashlib.md5(stored[3:].encode("ascii") + salt).hexdigest()
    return hmac.compare_digest(expected, response)


def uses_scram(stored: str | None) -> bool:
    return stored is not None and ScramVerifier.parse(stored) is not None


# -- the SCRAM exchange ------------------------------------------------------------------------

def _malformed(detail: str) -> ProtocolViolation:
    return ProtocolViolation("malformed SCRAM message", detail=detail)


def _attr(part: str, name: str) -> str:
    if not part.startswith(name + "="):
        raise _malformed(f'expected attribute "{name}", got "{part[:20]}"')
    return part[len(name) + 1:]


class ScramServer:
    """The server side of one SCRAM-SHA-256 exchange.

    REQUIRES: call `first` once, then `final` once. `final` returns the server-final message
    on success and None on any authentication failure (the caller sends 28P01).
    """

    def __init__(self, stored: str | None, user: str, mock_key: bytes,
                 server_nonce: str | None = None) -> None:
        verifier = ScramVerifier.parse(stored) if stored is not None else None
        self._mock = verifier is None
        if verifier is None:  # same shape of exchange for unknown roles and non-SCRAM secrets
            salt = _hmac(mock_key, user.encode("utf-8"))[:SCRAM_SALT_BYTES]
            verifier = ScramVerifier(SCRAM_ITERATIONS, salt, secrets.token_bytes(32),
                                     secrets.token_bytes(32))
        self._verifier = verifier
        self._client_first_bare = ""
        self._server_first = ""
        self._gs2_header = ""
        self._nonce = ""
        self._server_nonce = server_nonce  # fixed only by tests (RFC 7677's example)

    def first(self, client_first: bytes) -> bytes:
        assert not self._server_first, "first() called twice"
        try:
            text = client_first.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("not UTF-8") from None
        flag, _, rest = text.partition(",")
        if flag.startswith("p="):
            raise ProtocolViolation(
                "channel binding is not supported by this server",
                detail="the client requested SCRAM-SHA-256-PLUS, which was not offered")
        if flag not in ("n", "y"):
            raise _malformed(f'unexpected channel-binding flag "{flag[:10]}"')
        authzid, sep, bare = rest.partition(",")
        if not sep:
            raise _malformed("missing client-first-message-bare")
        if authzid:
            raise ProtocolViolation("client uses authorization identity, but it is not "
                                    "supported")
        parts = bare.split(",")
        if len(parts) < 2 or parts[0].startswith("m="):
            raise _malformed("unsupported or missing attributes")
        _attr(parts[0], "n")  # PostgreSQL ignores the SCRAM user name (the startup one counts)
        client_nonce = _attr(parts[1], "r")
        if not client_nonce or len(client_nonce) > CLIENT_NONCE_LENGTH_MAX or any(
                not (0x21 <= ord(c) <= 0x7E) or c == "," for c in client_nonce):
            raise _malformed("invalid client nonce")
        self._gs2_header = f"{flag},{authzid},"
        self._client_first_bare = bare
        self._nonce = client_nonce + (self._server_nonce
                                      or _b64(secrets.token_bytes(SCRAM_NONCE_BYTES)))
        v = self._verifier
        self._server_first = f"r={self._nonce},s={_b64(v.salt)},i={v.iterations}"
        return self._server_first.encode("ascii")

    def final(self, client_final: bytes) -> bytes | None:
        assert self._server_first, "final() before first()"
        try:
            text = client_final.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("not UTF-8") from None
        without_proof, sep, proof_part = text.rpartition(",p=")
        if not sep:
            raise _malformed("missing proof")
        parts = without_proof.split(",")
        if len(parts) < 2:
            raise _malformed("missing attributes")
        try:
            binding = _unb64(_attr(parts[0], "c"))
            proof = _unb64(proof_part)
        except ValueError:
            raise _malformed("invalid base64") from None
        if binding != self._gs2_header.encode("utf-8"):
            raise ProtocolViolation("SCRAM channel binding check failed")
        if _attr(parts[1], "r") != self._nonce:
            raise _malformed("nonce does not match")
        if len(proof) != 32:
            raise _malformed("invalid proof length")
        v = self._verifier
        auth_message = ",".join((self._client_first_bare, self._server_first,
                                 without_proof)).encode("utf-8")
        client_signature = _hmac(v.stored_key, auth_message)
        client_key = bytes(a ^ b for a, b in zip(proof, client_signature, strict=True))
        ok = hmac.compare_digest(hashlib.sha256(client_key).digest(), v.stored_key)
        if not ok or self._mock:
            return None
        return b"v=" + _b64(_hmac(v.server_key, auth_message)).encode("ascii")


def scram_client_proof(password: str, salt: bytes, iterations: int,
                       auth_message: bytes) -> tuple[bytes, bytes]:
    """(ClientProof, ServerSignature) for a client; used by tests' hand-written client."""
    v = ScramVerifier.from_password(password, salt, iterations)
    salted = hashlib.pbkdf2_hmac("sha256", _prepared_password(password), salt, iterations)
    client_key = _hmac(salted, b"Client Key")
    signature = _hmac(v.stored_key, auth_message)
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    return proof, _hmac(v.server_key, auth_message)

"""Authentication and TLS of `dsql serve`.

Goal: trust, cleartext password, md5 and SCRAM-SHA-256 log in with the right password and
never with a wrong one (28P01); an unknown role fails with the very same message and the same
exchange (a mock SCRAM salt that is stable per name), so a client cannot tell whether a role
exists; SCRAM matches RFC 7677's published example; TLS works when configured (self-signed)
and SSLRequest is refused otherwise. Method: psycopg (libpq's own SCRAM/md5 code) and a
hand-written SCRAM client over real sockets; unit checks of the secret formats.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from pathlib import Path

import psycopg
import pytest

from dsql.server import auth
from dsql.server.config import ServerConfig
from dsql.server.runner import tls_context
from pgwire_client import RawClient, cstr, fields, msg, startup_packet
from pgwire_fixtures import running_server


def connect(srv: object, user: str, password: str | None = None, **extra: str
            ) -> psycopg.Connection:
    kw = {"password": password} if password is not None else {}
    return psycopg.connect(srv.dsn(user, **extra), autocommit=True, **kw)  # type: ignore[attr-defined]


def auth_error(srv: object, user: str, password: str | None) -> psycopg.OperationalError:
    with pytest.raises(psycopg.OperationalError) as info:
        connect(srv, user, password)
    return info.value


@pytest.mark.parametrize("method", ["password", "md5", "scram-sha-256"])
def test_password_methods(method: str) -> None:
    with running_server(auth_method=method) as srv:
        with connect(srv, "alice", "wonderland") as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.info.parameter_status("is_superuser") == "off"
        if method != "scram-sha-256":  # an md5 secret cannot answer a SCRAM exchange
            with connect(srv, "bob", "builder") as conn:
                assert conn.execute("SELECT 2").fetchone() == (2,)
        messages = set()
        for user, password in [("alice", "wrong"), ("ghost", "wonderland"), ("nopass", "x"),
                               ("bob", "wrong")]:
            err = auth_error(srv, user, password)
            assert f'FATAL:  password authentication failed for user "{user}"' in str(err)
            messages.add(str(err).replace(user, "USER"))
        assert len(messages) == 1  # one message, whoever it is about


def test_scram_rejects_md5_role_and_trust_checks_existence() -> None:
    with running_server(auth_method="scram-sha-256") as srv:
        assert "password authentication failed" in str(auth_error(srv, "bob", "builder"))
    with running_server(auth_method="trust") as srv:
        with connect(srv, "alice") as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        err = auth_error(srv, "ghost", None)
        assert 'FATAL:  role "ghost" does not exist' in str(err)


def test_unicode_password_uses_saslprep() -> None:
    roles = [("uni", "I\u00adX"), ("uni2", "\u2168")]  # soft hyphen is dropped; Ⅸ -> IX
    with running_server(auth_method="scram-sha-256") as srv:
        store = srv.thread.server.roles
        for name, pw in roles:
            store.add(name, pw)  # type: ignore[attr-defined]
        for name, pw in roles:
            with connect(srv, name, pw) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
            with connect(srv, name, "IX") as conn:  # the SASLprep form is the same password
                assert conn.execute("SELECT 1").fetchone() == (1,)


def test_cleartext_failure_is_28P01_by_hand() -> None:
    with running_server(auth_method="password") as srv:
        for user in ("alice", "ghost"):
            with RawClient(srv.host, srv.port) as c:
                c.send(startup_packet({"user": user, "database": "dsql"}))
                assert c.read() == ("R", struct.pack("!i", 3))
                c.send(msg(b"p", cstr("not it")))
                t, body = c.read()
                err = fields(body)
                assert (t, err["S"], err["C"]) == ("E", "FATAL", "28P01")
                assert err["M"] == f'password authentication failed for user "{user}"'
                assert c.closed_by_server()


def _sasl_first(c: RawClient, user: str, nonce: str) -> dict[str, str]:
    c.send(startup_packet({"user": user, "database": "dsql"}))
    t, body = c.read()
    assert t == "R" and struct.unpack_from("!i", body)[0] == 10
    assert body[4:] == b"SCRAM-SHA-256\0\0"
    first = f"n,,n=,r={nonce}".encode()
    c.send(msg(b"p", cstr("SCRAM-SHA-256") + struct.pack("!i", len(first)) + first))
    t, body = c.read()
    assert t == "R" and struct.unpack_from("!i", body)[0] == 11
    return dict(kv.split("=", 1) for kv in body[4:].decode().split(","))


def test_scram_exchange_by_hand_and_mock_for_unknown_roles() -> None:
    with running_server(auth_method="scram-sha-256") as srv:
        # The real thing, with our own client-side computation.
        with RawClient(srv.host, srv.port) as c:
            attrs = _sasl_first(c, "alice", "abc")
            salt, iters = base64.b64decode(attrs["s"]), int(attrs["i"])
            assert attrs["r"].startswith("abc") and iters == 4096
            without_proof = f"c=biws,r={attrs['r']}"
            auth_message = f"n=,r=abc,r={attrs['r']},s={attrs['s']},i={iters},{without_proof}"
            proof, server_sig = auth.scram_client_proof("wonderland", salt, iters,
                                                        auth_message.encode())
            final = f"{without_proof},p={base64.b64encode(proof).decode()}".encode()
            c.send(msg(b"p", final))
            t, body = c.read()
            assert t == "R" and struct.unpack_from("!i", body)[0] == 12
            assert body[4:] == b"v=" + base64.b64encode(server_sig)
            assert c.read() == ("R", struct.pack("!i", 0))
        # An unknown role: the same messages, a salt stable per name, then 28P01.
        salts = []
        for _ in range(2):
            with RawClient(srv.host, srv.port) as c:
                attrs = _sasl_first(c, "ghost", "xyz")
                salts.append(attrs["s"])
                fake_proof = base64.b64encode(b"0" * 32).decode()
                c.send(msg(b"p", f"c=biws,r={attrs['r']},p={fake_proof}".encode()))
                t, body = c.read()
                assert fields(body)["C"] == "28P01"
        assert salts[0] == salts[1]
        # Channel binding was not offered; asking for it is a protocol violation.
        with RawClient(srv.host, srv.port) as c:
            c.send(startup_packet({"user": "alice"}))
            c.read()
            first = b"p=tls-server-end-point,,n=,r=abc"
            c.send(msg(b"p", cstr("SCRAM-SHA-256") + struct.pack("!i", len(first)) + first))
            assert fields(c.read()[1])["C"] == "08P01"


def test_rfc7677_example() -> None:
    """RFC 7677 section 3: user "user", password "pencil"."""
    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    verifier = auth.scram_verifier("pencil", salt, 4096)
    server = auth.ScramServer(verifier, "user", b"k", server_nonce="%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
    first = server.first(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
    assert first == (b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                     b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
    final = server.final(b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                         b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    assert final == b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_secret_formats() -> None:
    assert auth.md5_password_hash("builder", "bob") == "md5" + hashlib.md5(
        b"builderbob").hexdigest()
    v = auth.scram_verifier("pw")
    assert v.startswith("SCRAM-SHA-256$4096:") and auth.ScramVerifier.parse(v) is not None
    assert auth.verify_cleartext(v, "u", "pw") and not auth.verify_cleartext(v, "u", "pW")
    assert auth.verify_cleartext(auth.md5_password_hash("pw", "u"), "u", "pw")
    assert not auth.verify_cleartext(None, "u", "pw")
    assert not auth.verify_cleartext(v, "u", "")
    for bad in ("", "SCRAM-SHA-256$x", "md5xyz", "plain"):
        assert auth.ScramVerifier.parse(bad) is None
    assert auth.saslprep("I\u00adX") == "IX" and auth.saslprep("\u2168") == "IX"
    with pytest.raises(ValueError):
        auth.saslprep("a\u0007b")


def test_tls_self_signed(tmp_path: Path) -> None:
    ctx = tls_context(ServerConfig(tls_self_signed=True), tmp_path)
    assert ctx is not None and (tmp_path / "tls" / "server.key").stat().st_mode & 0o077 == 0
    with running_server(ssl_context=ctx, auth_method="scram-sha-256") as srv:
        with psycopg.connect(srv.dsn("alice", sslmode="require"), password="wonderland",
                             autocommit=True) as conn:
            assert conn.pgconn.ssl_in_use
            assert conn.execute("SELECT 1").fetchone() == (1,)
        with psycopg.connect(srv.dsn("alice", sslmode="disable"), password="wonderland",
                             autocommit=True) as conn:
            assert not conn.pgconn.ssl_in_use
        # Plaintext bytes pipelined behind an SSLRequest are refused (CVE-2021-23214's case).
        with RawClient(srv.host, srv.port) as c:
            c.send(struct.pack("!ii", 8, 80877103) + startup_packet({"user": "alice"}))
            t, body = c.read()
            assert t == "E" and fields(body)["C"] == "08P01"
            assert "unencrypted data after SSL request" in fields(body)["M"]
    with running_server() as srv:
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(srv.dsn(sslmode="require"))


def test_self_signed_without_cryptography_is_a_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from dsql.server.tls import TlsSetupError

    monkeypatch.setitem(sys.modules, "cryptography", None)  # makes the import fail
    with pytest.raises(TlsSetupError, match="needs the 'cryptography' package"):
        tls_context(ServerConfig(tls_self_signed=True), tmp_path)

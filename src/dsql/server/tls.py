"""TLS for SSLRequest: a server context from a certificate, or a generated self-signed one."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from pathlib import Path

SELF_SIGNED_DAYS = 365


class TlsSetupError(RuntimeError):
    """The TLS options cannot be honoured (missing files, missing `cryptography`)."""


def server_context(cert_path: str, key_path: str) -> ssl.SSLContext:
    """A TLS 1.2+ server context for the PEM certificate chain and key."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert_path, key_path)
    except (OSError, ssl.SSLError) as e:
        raise TlsSetupError(f"cannot load TLS certificate {cert_path} / key {key_path}: {e}") \
            from e
    return ctx


def generate_self_signed(directory: Path, host: str = "localhost") -> tuple[str, str]:
    """Writes server.crt and server.key (EC P-256, CN=`host`, SAN localhost and 127.0.0.1)
    into `directory` and returns their paths. Needs the `cryptography` package."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        raise TlsSetupError("--tls-self-signed needs the 'cryptography' package "
                            "(pip install cryptography), or pass --tls-cert and --tls-key") \
            from None
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    alt: list[x509.GeneralName] = [x509.DNSName("localhost"),
                                   x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    if host not in ("localhost", "127.0.0.1"):
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt.append(x509.DNSName(host))
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=SELF_SIGNED_DAYS))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return str(cert_path), str(key_path)

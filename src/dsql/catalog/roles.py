"""Roles as the catalog stores them (pg_authid's content), and the changes CREATE / ALTER /
DROP ROLE make.

A role lives in the catalog JSON value under "roles" (see objects.py), so role changes are
catalog changes: versioned, one per transaction, conflicting like DDL (catalog/store.py).

    role := {"oid": int, "name": str, "superuser": bool, "login": bool, "createrole": bool,
             "createdb": bool, "password": str | null}

`password` is never clear text: a SCRAM-SHA-256 verifier ("SCRAM-SHA-256$4096:salt$stored:
server") or an md5 hash ("md5" + 32 hex digits), PostgreSQL's rolpassword formats.

Invariants:
  1. Role names are unique; OIDs are unique and never reused (allocated from the catalog's id
     counter, except the bootstrap superuser's 10).
"""

from __future__ import annotations

from dataclasses import dataclass

BOOTSTRAP_ROLE_OID = 10


@dataclass
class RoleDef:
    oid: int
    name: str
    superuser: bool = False
    login: bool = True
    createrole: bool = False
    createdb: bool = False
    password: str | None = None  # rolpassword: SCRAM verifier or md5 hash, never clear text

    def __post_init__(self) -> None:
        assert self.name, "a role needs a name"
        assert self.password is None or self.password.startswith(("SCRAM-SHA-256$", "md5")), \
            "role passwords are stored hashed"


def stored_password(password: str | None, name: str, encryption: str = "scram-sha-256"
                    ) -> str | None:
    """The rolpassword text for a clear-text password (None stays None). A password that is
    already a SCRAM verifier or an md5 hash is stored as given, as PostgreSQL does."""
    if password is None:
        return None
    from dsql.server.auth import ScramVerifier, md5_password_hash, scram_verifier

    if ScramVerifier.parse(password) is not None or (
            len(password) == 35 and password.startswith("md5")):
        return password
    if encryption == "md5":
        return md5_password_hash(password, name)
    return scram_verifier(password)

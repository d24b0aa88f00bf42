"""The Backend for a data directory: the one place where the server meets the SQL engine.

``open_backend(data_dir)`` opens the engine's Database (``dsql.engine``) and hands out one
``dsql.session.Session`` per connection; tools and tests may serve another backend instead
(``dsql serve --backend module:callable``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsql.server.auth import CatalogRoleStore, RoleStore, scram_verifier
from dsql.server.backend import Backend, ClientChannel, StartupInfo
from dsql.server.errors import BackendUnavailable

if TYPE_CHECKING:
    from dsql.txn.limits import Limits


def _register_catalog_binary_codecs() -> None:
    """Binary output of the catalog types (asyncpg asks for binary for every type it knows):
    reg* travel like oid; int2vector, oidvector and one-dimensional arrays in PostgreSQL's
    array format:

        array := int32 ndim(0|1) int32 has_nulls uint32 element_oid
                 [int32 length int32 lower_bound(1)] { int32 size(-1: NULL) bytes }
    """
    from dsql.server import binary
    from dsql.sql.system import types as st
    from dsql.sql.types import registry as r

    for t in st.REG_TYPES:
        binary.ENCODERS.setdefault(t.oid, binary.encode_oid)
        binary.DECODERS.setdefault(t.oid, binary.decode_oid)
    arrays = {a.oid: st.ELEMENT_OF[a.oid] for a in st.ARRAYS}
    arrays[r.TEXT_ARRAY.oid] = r.TEXT
    arrays[st.INT2VECTOR.oid] = r.INT2
    arrays[st.OIDVECTOR.oid] = st.OID
    for oid, elem in arrays.items():
        enc = binary.ENCODERS.get(elem.oid)
        if enc is not None:
            binary.ENCODERS.setdefault(oid, _array_encoder(elem.oid, enc))
        dec = binary.DECODERS.get(elem.oid)
        if dec is not None:  # Bind parameters: asyncpg sends oid[] / int4[] / text[] binary
            binary.DECODERS.setdefault(oid, _array_decoder(dec))


def _array_encoder(elem_oid: int, enc: Any) -> Any:
    import struct

    def encode(items: list[Any]) -> bytes:
        assert isinstance(items, list), "arrays are Python lists"
        if not items:
            return struct.pack("!iiI", 0, 0, elem_oid)
        nulls = any(v is None for v in items)
        out = [struct.pack("!iiIii", 1, 1 if nulls else 0, elem_oid, len(items), 1)]
        for v in items:
            if v is None:
                out.append(struct.pack("!i", -1))
            else:
                b = enc(v)
                out.append(struct.pack("!i", len(b)) + b)
        return b"".join(out)
    return encode


def _array_decoder(dec: Any) -> Any:
    """array_recv for one-dimensional arrays (the grammar above); the element OID is not
    checked against the declared type, as PostgreSQL checks it only loosely too."""
    import struct

    from dsql.errors import FeatureNotSupported
    from dsql.server.binary import BinaryFormatError

    def decode(data: bytes) -> list[Any]:
        if len(data) < 12:
            raise BinaryFormatError()
        ndim, flags, _elem_oid = struct.unpack_from("!iiI", data, 0)
        if ndim == 0:
            return []
        if ndim != 1:
            raise FeatureNotSupported("multidimensional arrays are not supported")
        if flags not in (0, 1) or len(data) < 20:
            raise BinaryFormatError()
        count, _lower = struct.unpack_from("!ii", data, 12)
        if count < 0 or count > len(data):
            raise BinaryFormatError()
        pos, items = 20, []
        for _ in range(count):  # bounded by the header's count (<= len(data))
            if pos + 4 > len(data):
                raise BinaryFormatError()
            (size,) = struct.unpack_from("!i", data, pos)
            pos += 4
            if size == -1:
                items.append(None)
                continue
            if size < 0 or pos + size > len(data):
                raise BinaryFormatError()
            items.append(dec(data[pos:pos + size]))
            pos += size
        if pos != len(data):
            raise BinaryFormatError()
        return items
    return decode


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class EngineBackend:
    """The SQL engine as the server's Backend."""

    def __init__(self, data_dir: Path, limits: Limits | None = None) -> None:
        from dsql.engine import Database, DatabaseOptions

        opts = DatabaseOptions() if limits is None else DatabaseOptions(limits=limits)
        self.db = Database.open(data_dir, opts)
        _register_catalog_binary_codecs()
        self.catalog_roles = False  # True once role_store() serves logins from the catalog

    def role_store(self, admin: str, password: str | None) -> RoleStore:
        """Logins checked against the catalog's roles; the admin role is created (superuser,
        LOGIN, password from DSQL_ADMIN_PASSWORD) at first start, and gets that password if
        it has none yet."""
        from dsql.session import Session

        role = self.db.catalogs.latest.roles.get(admin)
        if role is None or (role.password is None and password is not None):
            secret = scram_verifier(password) if password is not None else None
            session = Session(self.db)
            try:
                quoted = '"' + admin.replace('"', '""') + '"'
                verb = "CREATE ROLE" if role is None else "ALTER ROLE"
                opts = " SUPERUSER LOGIN" if role is None else ""
                pw = f" PASSWORD {_quote_literal(secret)}" if secret is not None else ""
                session.execute(f"{verb} {quoted} WITH{opts}{pw}")
            finally:
                session.close()
        self.catalog_roles = True
        return CatalogRoleStore(self.db.catalogs)

    def fast_path(self) -> object:
        """**[server]** optional: the engine's C++ fast path (dsql.server.fastpath)."""
        return self.db.fast_path()

    def open_session(self, startup: StartupInfo, client: ClientChannel) -> object:
        from dsql.session import Session

        session = Session(self.db)
        session.user = startup.user
        session.database = startup.database or startup.user
        session.authenticated = self.catalog_roles
        session.client = client  # COPY FROM STDIN / TO STDOUT move their data through it
        try:
            # PostgreSQL applies startup parameters and -c options as SET at session start.
            settings = dict(startup.settings)
            if startup.application_name:
                settings.setdefault("application_name", startup.application_name)
            for name, value in settings.items():
                if not name.replace("_", "").replace(".", "").isalnum():
                    continue
                session.execute(f"SET {name} TO {_quote_literal(value)}")
        except BaseException:
            session.close()
            raise
        return session

    def close(self) -> None:
        self.db.close()


def open_backend(data_dir: Path, limits: Limits | None = None) -> Backend:
    """The engine's Backend over `data_dir` (created if missing); `limits` are the server's
    per-transaction limits (`dsql serve --max-transaction-rows ...`)."""
    return EngineBackend(data_dir, limits)  # type: ignore[return-value]


def load_backend_factory(spec: str) -> Callable[[Path], Backend]:
    """'package.module:callable' -> the callable; it is called with the data directory."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"--backend wants MODULE:CALLABLE, not {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise BackendUnavailable(f"cannot import backend module {module_name!r}: {e}") from e
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise BackendUnavailable(f"{module_name!r} has no callable {attr!r}")
    return factory  # type: ignore[no-any-return]

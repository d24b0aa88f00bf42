"""What the wire server needs from the SQL engine: the Session, Backend and ClientChannel shapes.

The server never imports the engine. It talks to anything that has these shapes
(``typing.Protocol``, checked structurally), so wiring the real engine is one factory:
``dsql.server.factory.open_backend(data_dir)`` returns an object with ``open_session`` and
``close``. The shapes follow the engine's session API (docs/server.md lists the contract
in prose); what the server adds on top of that API is marked **[server]**.

Threading contract (binding for implementations):
  1. All calls on one Session except ``cancel`` come from one thread at a time (a worker
     thread of the server's pool; not always the same thread), never concurrently.
  2. ``Session.cancel`` may be called from any thread at any time, concurrently with a
     running call. It makes the statement running now fail with SQLSTATE 57014; when no
     statement is running it must have no lasting effect.
  3. ``Backend.open_session`` may be called from several threads concurrently.
  4. ClientChannel methods are called only from inside a Session call (the thread that is
     running the statement), never after that call has returned.

Results are consumed as PostgreSQL does: ``execute_script`` returns an *iterable* that the
server drains statement by statement, sending each result before the next statement runs, so a
generator that executes a statement per ``next()`` gives PostgreSQL's behaviour exactly (results
before a failing statement reach the client, then its ErrorResponse; the rest of the string is
not run). A list works too, but then an error loses the results of the statements before it.

Example (the whole wiring, once the engine exists)::

    class EngineBackend:
        def __init__(self, db): self.db = db
        def open_session(self, startup, client): return self.db.session(startup, client)
        def close(self): self.db.close()
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


class Column(Protocol):
    """One result column (RowDescription field). ``typmod`` -1 when none."""

    @property
    def name(self) -> str: ...
    @property
    def type_oid(self) -> int: ...
    @property
    def typmod(self) -> int: ...
    @property
    def table_oid(self) -> int: ...   # 0 when the column is not a plain table column
    @property
    def column_no(self) -> int: ...   # attnum in that table, else 0


class Prepared(Protocol):
    """A parsed, described statement (the engine's own object; the server only reads these).

    ``param_type_oids`` has one resolved OID per ``$n`` (the client's types where it sent
    non-zero OIDs; inferred where it sent 0; 25 (text) where nothing constrains it).
    ``columns`` is None when the statement returns no rows.
    """

    @property
    def param_type_oids(self) -> Sequence[int]: ...
    @property
    def columns(self) -> Sequence[Column] | None: ...


class StatementResult(Protocol):
    """The outcome of one statement.

    ``rows`` hold Python values in dsql.sql.types representation (docs/sql-values.md), one per
    column. ``command_tag`` is PostgreSQL's ("SELECT 3", "INSERT 0 1", "COPY 10", "BEGIN").
    ``notices`` are DsqlErrors sent as NoticeResponse (severity from an optional ``severity``
    attribute, default NOTICE). ``parameter_changes`` are settings whose value changed
    **[server]**: the server sends ParameterStatus for the GUC_REPORT ones (TimeZone,
    DateStyle, application_name, ...) and applies ``statement_timeout`` and
    ``idle_in_transaction_session_timeout`` itself, so SET of those must be reported here too.
    """

    @property
    def columns(self) -> Sequence[Column] | None: ...
    @property
    def rows(self) -> Sequence[Sequence[Any]]: ...
    @property
    def command_tag(self) -> str: ...
    @property
    def notices(self) -> Sequence[BaseException]: ...
    @property
    def parameter_changes(self) -> Mapping[str, str]: ...


class CopyOut(Protocol):
    """The sending half of COPY ... TO STDOUT, from ``ClientChannel.copy_out``."""

    def write(self, data: bytes) -> None:
        """Sends one CopyData message (usually one or more whole rows). May block while the
        client is not reading; raises ConnectionLost (08006) if the client went away."""

    def close(self) -> None:
        """Sends CopyDone. The statement then returns its result with tag "COPY n"."""


@runtime_checkable
class ClientChannel(Protocol):
    """**[server]** The connection, as seen from a running statement: COPY data in and out.

    The engine does the row work (parsing COPY options, splitting and converting rows, see
    ``dsql.server.copyformat`` for text and csv helpers); the channel moves the bytes.
    """

    def copy_in(self, *, column_count: int, binary: bool = False) -> Iterator[bytes]:
        """Starts COPY FROM STDIN: sends CopyInResponse now and returns an iterator over the
        CopyData payloads (arbitrary chunks, not necessarily whole rows). Iteration ends at the
        client's CopyDone. Raises QueryCanceled (57014, "COPY from stdin failed: ...") on
        CopyFail or a cancel request, ProtocolViolation (08P01) on an unexpected message,
        ConnectionLost (08006) if the client goes away. The engine may stop early (on a data
        error): the server drops the rest of the copy stream."""

    def copy_out(self, *, column_count: int, binary: bool = False) -> CopyOut:
        """Starts COPY TO STDOUT: sends CopyOutResponse now and returns the writer."""


class Session(Protocol):
    """One client connection's SQL session (the engine's ``dsql.session.Session``)."""

    @property
    def transaction_status(self) -> str:
        """'I' idle, 'T' in a transaction block, 'E' in a failed block (ReadyForQuery)."""

    def parameter_status(self) -> Mapping[str, str]:
        """Current values of the reported settings (server_version, TimeZone, DateStyle, ...).
        Read once after open_session; later changes come through ``parameter_changes``."""

    def execute_script(self, sql: str) -> Iterable[StatementResult]:
        """Simple Query: the statements of `sql` in order (see the module note on laziness).
        An empty script (only whitespace, comments or semicolons) yields nothing."""

    def prepare(self, sql: str, param_type_oids: Sequence[int] = ()) -> Prepared:
        """Parse/describe one statement; ``param_type_oids`` may be shorter than the number of
        parameters and may contain 0 (= infer)."""

    def execute_prepared(self, prepared: Prepared,
                         params: Sequence[object]) -> StatementResult:
        """Runs a prepared statement with Python parameter values (None = NULL), already
        converted by the server to the types in ``prepared.param_type_oids``."""

    def cancel(self) -> None:
        """From any thread: the running statement fails with 57014 (see contract 2)."""

    # Optional **[server]**: ``def sync(self) -> None``. When a Session has it, the server
    # calls it at every Sync message: it ends the extended protocol's implicit transaction
    # (statements Executed since the last Sync outside an explicit block), committing it, or
    # rolling it back if one of them failed; a DsqlError from it (e.g. 40001 at commit) is
    # sent as ErrorResponse before ReadyForQuery. Without it each execute_prepared must
    # commit on its own when no block is open (then a pipeline is not atomic).

    def close(self) -> None:
        """The client is gone: roll back any open transaction and release resources."""


@dataclass(frozen=True)
class StartupInfo:
    """**[server]** What the client asked for at connection time, after authentication.

    ``settings`` holds every other startup parameter plus the ``-c name=value`` /
    ``--name=value`` entries of ``options``, exactly as given (PostgreSQL applies them as SET
    at session start; unknown names should fail the connection with 42704).
    """

    user: str
    database: str
    application_name: str = ""
    settings: Mapping[str, str] = field(default_factory=dict)
    backend_pid: int = 0       # what pg_backend_pid() returns
    is_superuser: bool = False
    remote_address: str = ""   # "host:port" of the client


class Backend(Protocol):
    """A database opened once per server process; hands out one Session per connection."""

    def open_session(self, startup: StartupInfo, client: ClientChannel) -> Session:
        """A new session. A DsqlError here (e.g. 3D000 unknown database, 42704 unknown setting)
        is sent to the client as FATAL and the connection is closed."""

    def close(self) -> None:
        """Server shutdown, after every session is closed: flush the journal, release files."""

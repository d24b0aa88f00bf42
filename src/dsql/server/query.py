"""The per-connection message processor: simple query, extended query, COPY, Sync/Flush.

A Processor runs on a worker thread (one message at a time, in arrival order) and talks to the
Session and to the connection through the small ``Wire`` interface. Replies accumulate in
``out`` and are written in one batch per ReadyForQuery (one per Query or Sync), at Flush, before
waiting for COPY data, and whenever more than FLUSH_BYTES are pending (large results stream).

Error handling follows PostgreSQL: an error in an extended-protocol message sends ErrorResponse
and discards messages until Sync; an error in a simple Query skips the rest of the string; an
error flagged ``fatal`` (malformed message) propagates to the connection, which sends it with
severity FATAL and closes.

Thread-safety: one Processor per connection; never used by two threads at once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from dsql.errors import (
    DsqlError,
    FeatureNotSupported,
    InvalidParameterValue,
    ProgramLimitExceeded,
)
from dsql.server import messages as m
from dsql.server import parameters
from dsql.server.backend import Column, Session, StatementResult
from dsql.server.errors import (
    DuplicateCursor,
    DuplicatePreparedStatement,
    InvalidCursorName,
    InvalidSqlStatementName,
    ProtocolViolation,
    QueryCanceled,
)
from dsql.server.fastpath import FastLane
from dsql.server.messages import Reader
from dsql.server.portal import PORTALS_MAX, STATEMENTS_MAX, Portal, PortalState, Statement
from dsql.server.values import (
    append_data_rows,
    column_encoders,
    decode_params,
    expand_formats,
    param_decoders,
    row_description_fields,
)
from dsql.sql.types.context import ValueContext

log = logging.getLogger("dsql.server")

FLUSH_BYTES = 256 * 1024
CACHE_ENTRIES_MAX = 256
ROWS_PER_BATCH = 512
TEXT_OID = 25

# Frontend message types.
BIND, CLOSE, COPY_DONE, DESCRIBE, COPY_DATA, EXECUTE = 0x42, 0x43, 0x63, 0x44, 0x64, 0x45
FUNCTION_CALL, COPY_FAIL, FLUSH, PARSE, PASSWORD, QUERY = 0x46, 0x66, 0x48, 0x50, 0x70, 0x51
SYNC, TERMINATE = 0x53, 0x58
EXTENDED = frozenset((BIND, CLOSE, DESCRIBE, EXECUTE, PARSE, FLUSH))
# Messages after which the fast lane's registered statements may be stale (Parse redefines,
# Close drops, a Query may DEALLOCATE or DISCARD ALL).
_CHANGES_STATEMENTS = frozenset((PARSE, CLOSE, QUERY))
# Messages that run statements (a SET among them changes the settings the lane depends on).
_RUNS_STATEMENTS = frozenset((QUERY, EXECUTE))


class Wire(Protocol):
    """What a Processor needs from its connection (implemented by Connection)."""

    def write(self, data: bytes) -> None:
        """Sends bytes; thread-safe; blocks while the client is not reading."""

    def next_message(self) -> tuple[int, bytes]:
        """The next message from the client (COPY IN); raises QueryCanceled / ConnectionLost."""

    def statement_begin(self) -> None: ...
    def statement_end(self) -> None: ...
    def cancel_reason(self) -> str | None: ...
    def set_timeouts(self, statement_ms: int | None, idle_in_transaction_ms: int | None
                     ) -> None: ...
    def ready(self, status: str) -> None: ...


def _is_empty_query(sql: str) -> bool:
    return not sql.strip().strip(";").strip()


_DEALLOCATE_RE = re.compile(r'\s*deallocate\s+(?:prepare\s+)?(all|"(?:[^"]|"")+"|[^\s;"]+)\s*;?\s*',
                            re.IGNORECASE)


@dataclass(frozen=True)
class Deallocate:
    """DEALLOCATE, run by the server: prepared statement names are the wire layer's (SQL
    PREPARE and protocol Parse share one namespace in PostgreSQL)."""

    name: str | None  # None: ALL


def server_statement(sql: str) -> Deallocate | None:
    """The statement if the server runs it itself (a lone DEALLOCATE), else None."""
    mt = _DEALLOCATE_RE.fullmatch(sql)
    if mt is None:
        return None
    word = mt.group(1)
    if word.lower() == "all":
        return Deallocate(None)
    if word.startswith('"'):
        return Deallocate(word[1:-1].replace('""', '"'))
    return Deallocate(word.lower())


class Processor:
    """Handles one connection's messages after startup (see the module docstring)."""

    def __init__(self, wire: Wire, reported: Mapping[str, str]) -> None:
        self.wire = wire
        self.session: Session | None = None
        self.out = bytearray()
        self.state = PortalState()
        self.skip_until_sync = False
        self.lane: FastLane | None = None  # set by the connection when the fast path is on
        self.reported: dict[str, str] = dict(reported)
        self.ctx: ValueContext = parameters.value_context(self.reported)
        # Per-object caches (the object is kept in the entry, so its id cannot be reused):
        # (id(columns), formats) -> (columns, RowDescription, encoders);
        # (id(statement), formats) -> (statement, parameter decoders).
        self._column_cache: dict[tuple[int, tuple[int, ...]], tuple[Any, bytes, list[Any]]] = {}
        self._param_cache: dict[tuple[int, tuple[int, ...]], tuple[Any, list[Any]]] = {}
        self._handlers = {
            QUERY: self._query, PARSE: self._parse, BIND: self._bind,
            DESCRIBE: self._describe, EXECUTE: self._execute, CLOSE: self._close,
            SYNC: self._sync, FLUSH: self._flush_message, FUNCTION_CALL: self._function_call,
        }

    # -- plumbing ------------------------------------------------------------------------------

    def flush(self) -> None:
        if self.out:
            data = bytes(self.out)
            self.out.clear()
            self.wire.write(data)

    def _maybe_flush(self) -> None:
        if len(self.out) >= FLUSH_BYTES:
            self.flush()

    @property
    def _session(self) -> Session:
        assert self.session is not None, "no session yet"
        return self.session

    def _error(self, exc: BaseException) -> None:
        if getattr(exc, "sqlstate", None) == "57014" and self.wire.cancel_reason() == "timeout":
            exc = QueryCanceled("canceling statement due to statement timeout")
        if not isinstance(exc, DsqlError):
            log.error("internal error in a statement", exc_info=exc)
        self.out += m.error_response(exc)

    def ready_for_query(self) -> None:
        session = self._session
        pending = getattr(session, "pending_parameter_changes", None)
        if pending:  # a block's end undid SETs: the client hears the values now in force
            changes = dict(pending)
            pending.clear()
            self.apply_parameter_changes(changes)
        status = session.transaction_status
        if status == "I" and self.state.portals:
            self.state.portals.clear()  # portals end with their transaction
        self.out += m.ready_for_query(status)
        self.flush()
        self.wire.ready(status)

    def handle(self, mtype: int, body: bytes) -> bool:
        """Processes one message; False when the connection should end (Terminate).

        Fatal errors (malformed messages) propagate to the caller.
        """
        if mtype == TERMINATE:
            return False
        if mtype in (COPY_DATA, COPY_DONE, COPY_FAIL):
            return True  # stray copy traffic after a failed COPY: dropped, per the protocol
        if self.skip_until_sync and mtype != SYNC:
            if mtype == FLUSH:  # the ErrorResponse must reach a client waiting at Flush
                self.flush()    # (asyncpg: Parse, Describe, Flush)
            return True
        handler = self._handlers.get(mtype)
        if handler is None:  # 'p' after authentication
            raise ProtocolViolation(f"unexpected message type {chr(mtype)!r} after startup")
        lane = self.lane
        if lane is not None:
            if lane.conn.in_txn:  # the lane refused this: the session continues its transaction
                lane.adopt()
            if mtype in _CHANGES_STATEMENTS:
                lane.statements_changed()
        try:
            handler(body)
        except Exception as exc:
            if getattr(exc, "fatal", False):
                raise
            self._error(exc)
            abort = getattr(self.session, "abort_block", None)
            if abort is not None:
                # As in PostgreSQL, any error aborts an open transaction block, one raised at
                # Parse, Bind or Describe too (a statement's own error already did).
                abort()
            if mtype in EXTENDED:
                self.skip_until_sync = True
        if lane is not None and mtype in _RUNS_STATEMENTS:
            lane.check_settings()
        return True

    # -- results -------------------------------------------------------------------------------

    def _apply_changes(self, result: StatementResult) -> None:
        for notice in result.notices:
            self.out += m.notice_response(notice, getattr(notice, "severity", None) or "NOTICE")
        changes = result.parameter_changes
        if changes:
            self.apply_parameter_changes(changes)

    def apply_parameter_changes(self, changes: Mapping[str, str]) -> None:
        statement_ms: int | None = None
        idle_ms: int | None = None
        for name, value in changes.items():
            low = name.lower()
            if low == parameters.STATEMENT_TIMEOUT:
                statement_ms = parameters.timeout_ms(value)
            elif low == parameters.IDLE_IN_TRANSACTION_TIMEOUT:
                idle_ms = parameters.timeout_ms(value)
            canon = parameters.canonical_name(name)
            if canon is not None and self.reported.get(canon) != value:
                self.reported[canon] = value
                self.out += m.parameter_status(canon, value)
        if statement_ms is not None or idle_ms is not None:
            self.wire.set_timeouts(statement_ms, idle_ms)
        ctx = parameters.value_context(self.reported, self.ctx)
        if ctx is not self.ctx:  # TimeZone or DateStyle changed: text I/O functions too
            self.ctx = ctx
            self._column_cache.clear()
            self._param_cache.clear()

    def _columns_info(self, columns: Sequence[Column], formats: list[int]
                      ) -> tuple[bytes, list[Any]]:
        """RowDescription and value encoders for `columns` under `formats` (cached)."""
        key = (id(columns), tuple(formats))
        hit = self._column_cache.get(key)
        if hit is not None and hit[0] is columns:
            return hit[1], hit[2]
        desc = m.row_description(row_description_fields(columns, formats))
        encoders = column_encoders(columns, formats, self.ctx)
        if len(self._column_cache) >= CACHE_ENTRIES_MAX:
            self._column_cache.clear()
        self._column_cache[key] = (columns, desc, encoders)
        return desc, encoders

    def _param_decoders(self, stmt: Statement, formats: list[int]) -> list[Any]:
        key = (id(stmt), tuple(formats))
        hit = self._param_cache.get(key)
        if hit is not None and hit[0] is stmt:
            return hit[1]
        decoders = param_decoders(stmt.param_oids, formats, self.ctx)
        if len(self._param_cache) >= CACHE_ENTRIES_MAX:
            self._param_cache.clear()
        self._param_cache[key] = (stmt, decoders)
        return decoders

    def _send_rows(self, portal_rows: Sequence[Sequence[Any]], encoders: list[Any]) -> None:
        for start in range(0, len(portal_rows), ROWS_PER_BATCH):
            append_data_rows(self.out, portal_rows[start: start + ROWS_PER_BATCH], encoders)
            self._maybe_flush()

    # -- simple query --------------------------------------------------------------------------

    def _query(self, body: bytes) -> None:
        r = Reader(body)
        sql = r.cstring()
        r.finish()
        self.state.statements.pop("", None)
        self.state.portals.pop("", None)
        try:
            own = server_statement(sql)
            if own is not None:
                self.out += m.command_complete(self._deallocate(own))
            elif _is_empty_query(sql):
                self.out += m.EMPTY_QUERY_RESPONSE
            else:
                count = 0
                self.wire.statement_begin()
                try:
                    for result in self._session.execute_script(sql):
                        count += 1
                        self._simple_result(result)
                finally:
                    self.wire.statement_end()
                if count == 0:
                    self.out += m.EMPTY_QUERY_RESPONSE
                elif count == 1 and self.lane is not None and result.columns is not None \
                        and len(result.rows) <= 1 and result.command_tag.startswith("SELECT"):
                    self.lane.register_query(sql, result.columns)
        except Exception as exc:
            if getattr(exc, "fatal", False):
                raise
            self._error(exc)
        self.ready_for_query()

    def _deallocate(self, d: Deallocate) -> str:
        statements = self.state.statements
        if d.name is None:
            unnamed = statements.get("")
            statements.clear()
            if unnamed is not None:
                statements[""] = unnamed
            return "DEALLOCATE ALL"
        if d.name not in statements or not d.name:
            raise InvalidSqlStatementName(f'prepared statement "{d.name}" does not exist')
        del statements[d.name]
        return "DEALLOCATE"

    def _after_statement(self, result: StatementResult) -> None:
        """Wire-level effects of some statements: DISCARD ALL drops statements and portals."""
        if result.command_tag == "DISCARD ALL":
            self.state.statements.clear()
            self.state.portals.clear()

    def _simple_result(self, result: StatementResult) -> None:
        self._after_statement(result)
        self._apply_changes(result)
        columns = result.columns
        if columns is not None:
            desc, encoders = self._columns_info(columns, [0] * len(columns))
            self.out += desc
            self._send_rows(result.rows, encoders)
        self.out += m.command_complete(result.command_tag)
        self._maybe_flush()

    def _function_call(self, body: bytes) -> None:
        try:
            raise FeatureNotSupported("the function call protocol message is not supported")
        except DsqlError as exc:
            self._error(exc)
        self.ready_for_query()

    # -- extended query ------------------------------------------------------------------------

    def _parse(self, body: bytes) -> None:
        r = Reader(body)
        name, sql = r.cstring(), r.cstring()
        n = r.int16()
        if n < 0:
            raise ProtocolViolation("invalid number of parameter types in Parse message")
        oids = [r.uint32() for _ in range(n)]
        r.finish()
        statements = self.state.statements
        if name and name in statements:
            raise DuplicatePreparedStatement(f'prepared statement "{name}" already exists')
        if name and len(statements) >= STATEMENTS_MAX:
            raise ProgramLimitExceeded(f"too many prepared statements (limit {STATEMENTS_MAX})")
        own = server_statement(sql)
        if own is not None:
            stmt = Statement(name, sql, own, [], None)
        elif _is_empty_query(sql):
            stmt = Statement(name, sql, None, oids, None)
        else:
            self.wire.statement_begin()
            try:
                prepared = self._session.prepare(sql, oids)
            finally:
                self.wire.statement_end()
            param_oids = [o or TEXT_OID for o in prepared.param_type_oids]
            stmt = Statement(name, sql, prepared, param_oids, prepared.columns)
        statements[name] = stmt
        self.out += m.PARSE_COMPLETE

    def _bind(self, body: bytes) -> None:
        portal_name, stmt_name, formats, raw, result_formats = m.read_bind(body)
        nformats, nparams, nresult = len(formats), len(raw), len(result_formats)

        stmt = self.state.statements.get(stmt_name)
        if stmt is None:
            raise InvalidSqlStatementName(
                f'prepared statement "{stmt_name}" does not exist' if stmt_name
                else "unnamed prepared statement does not exist")
        portals = self.state.portals
        if portal_name and portal_name in portals:
            raise DuplicateCursor(f'portal "{portal_name}" already exists')
        if portal_name and len(portals) >= PORTALS_MAX:
            raise ProgramLimitExceeded(f"too many portals (limit {PORTALS_MAX})")
        if nformats not in (0, 1, nparams):
            raise ProtocolViolation(
                f"bind message has {nformats} parameter formats but {nparams} parameters",
                fatal=False)
        if nparams != len(stmt.param_oids):
            raise ProtocolViolation(
                f"bind message supplies {nparams} parameters, but prepared statement "
                f'"{stmt_name}" requires {len(stmt.param_oids)}', fatal=False)
        for f in (*formats, *result_formats):
            if f not in (0, 1):
                raise InvalidParameterValue(f"unsupported format code: {f}")
        columns = stmt.columns
        ncols = len(columns) if columns is not None else 0
        if nresult > 1 and nresult != ncols:
            raise ProtocolViolation(
                f"bind message has {nresult} result formats but query has {ncols} columns",
                fatal=False)
        param_formats = expand_formats(formats, nparams)
        decoders = self._param_decoders(stmt, param_formats)
        values = decode_params(raw, decoders, param_formats)
        portals[portal_name] = Portal(portal_name, stmt, values, result_formats)
        self.out += m.BIND_COMPLETE

    def _describe(self, body: bytes) -> None:
        r = Reader(body)
        kind = r.byte1()
        name = r.cstring()
        r.finish()
        if kind == 0x53:  # 'S'
            stmt = self.state.statements.get(name)
            if stmt is None:
                raise InvalidSqlStatementName(
                    f'prepared statement "{name}" does not exist' if name
                    else "unnamed prepared statement does not exist")
            self.out += m.parameter_description(stmt.param_oids)
            self._describe_columns(stmt.columns, None)
        elif kind == 0x50:  # 'P'
            portal = self.state.portals.get(name)
            if portal is None:
                raise InvalidCursorName(f'portal "{name}" does not exist')
            self._describe_columns(portal.columns(), portal)
        else:
            raise ProtocolViolation(f"invalid DESCRIBE message subtype {kind}", fatal=False)

    def _describe_columns(self, columns: Sequence[Column] | None, portal: Portal | None
                          ) -> None:
        if columns is None:
            self.out += m.NO_DATA
            return
        formats = portal.formats_for(columns) if portal is not None else [0] * len(columns)
        self.out += self._columns_info(columns, formats)[0]

    def _execute(self, body: bytes) -> None:
        name, max_rows = m.read_execute(body)
        portal = self.state.portals.get(name)
        if portal is None:
            raise InvalidCursorName(f'portal "{name}" does not exist')
        stmt = portal.statement
        if stmt.is_empty:
            self.out += m.EMPTY_QUERY_RESPONSE
            return
        if isinstance(stmt.prepared, Deallocate):
            self.out += m.command_complete(self._deallocate(stmt.prepared))
            return
        if portal.result is None:
            self.wire.statement_begin()
            try:
                result = self._session.execute_prepared(stmt.prepared, portal.params)
            finally:
                self.wire.statement_end()
            portal.result = result
            self._after_statement(result)
            self._apply_changes(result)
            lane = self.lane
            if lane is not None and stmt.name and stmt.fast_token != (token := lane.token()):
                stmt.fast_token = token
                lane.register_statement(stmt.name, stmt.sql, stmt.param_oids, portal.params,
                                        result.columns)
            if result.columns is not None:
                portal.encoders = self._columns_info(result.columns,
                                                     portal.formats_for(result.columns))[1]
        result = portal.result
        if result.columns is None or portal.encoders is None:
            self.out += m.command_complete(result.command_tag)
            return
        start = portal.position
        end = len(result.rows) if max_rows <= 0 else min(len(result.rows), start + max_rows)
        self._send_rows(result.rows[start:end], portal.encoders)
        portal.position = end
        assert 0 <= portal.position <= len(result.rows)
        if end < len(result.rows):
            self.out += m.PORTAL_SUSPENDED
            return
        tag = result.command_tag
        if start > 0 or max_rows > 0:
            if tag.startswith("SELECT"):
                tag = f"SELECT {end - start}"
        portal.done = True
        self.out += m.command_complete(tag)

    def _close(self, body: bytes) -> None:
        r = Reader(body)
        kind = r.byte1()
        name = r.cstring()
        r.finish()
        if kind == 0x53:
            self.state.statements.pop(name, None)
        elif kind == 0x50:
            self.state.portals.pop(name, None)
        else:
            raise ProtocolViolation(f"invalid CLOSE message subtype {kind}", fatal=False)
        self.out += m.CLOSE_COMPLETE

    def _sync(self, body: bytes) -> None:
        Reader(body).finish()
        self.skip_until_sync = False
        sync = getattr(self._session, "sync", None)
        if sync is not None:  # the end of the extended protocol's implicit transaction
            self.wire.statement_begin()
            try:
                sync()
            except Exception as exc:
                if getattr(exc, "fatal", False):
                    raise
                self._error(exc)
            finally:
                self.wire.statement_end()
        self.ready_for_query()

    def _flush_message(self, body: bytes) -> None:
        Reader(body).finish()
        self.flush()

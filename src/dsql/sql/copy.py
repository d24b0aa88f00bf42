"""COPY FROM STDIN and COPY TO STDOUT (text and csv formats) for the SQL engine.

    COPY name [(col [, ...])] FROM STDIN [[WITH] (option [, ...])] [legacy options]
    COPY {name [(col [, ...])] | (query)} TO STDOUT [[WITH] (option [, ...])] [legacy options]
    option := FORMAT {text|csv} | DELIMITER 'c' | NULL 's' | HEADER [bool] | QUOTE 'c'
            | ESCAPE 'c' | FREEZE [bool] | ENCODING 'utf8'
    legacy := BINARY | DELIMITER [AS] 'c' | NULL [AS] 's' | CSV | HEADER | QUOTE [AS] 'c'
            | ESCAPE [AS] 'c' | FREEZE

The wire server moves the bytes (the session's `client`, a dsql.server.backend.ClientChannel);
dsql.server.copyformat splits them into rows of fields; this module converts fields with the
columns' input functions and writes rows in batches of BATCH_ROWS: keys and values are
encoded by the C++ codecs once per batch (`encode_many`), a primary key's duplicates are looked
up once per batch (`Transaction.get_many`). COPY FROM is DML: its rows are writes of the
transaction, counted against the limits (54000 stops the copy at the first row past them).
FREEZE is accepted and ignored (every committed row is visible to later snapshots anyway);
binary format, files and programs are refused with 0A000.

Invariants:
  1. A COPY FROM that fails leaves no row of it in the transaction's buffer that the statement
     failure does not roll back (a failed statement fails the transaction block, and an
     implicit transaction is dropped).
  2. Rows are written in input order; "COPY n" counts the rows written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from dsql.adjudicator import Kind
from dsql.errors import DsqlError, FeatureNotSupported, InvalidParameterValue, SqlSyntaxError
from dsql.server.copyformat import CopyFormat, Fields, RowDecoder, encode_rows
from dsql.server.errors import BadCopyFileFormat
from dsql.sql.bulk import Cursor, Statement, gc_paused, tokens
from dsql.sql.errors import UndefinedColumn
from dsql.sql.plan import ExecContext, Outcome, Plan

if TYPE_CHECKING:
    from dsql.catalog.objects import Table
    from dsql.sql.dml import TableWriter
    from dsql.sql.select import Binder, QueryPlan

BATCH_ROWS = 4096  # rows converted, checked and encoded together
CHUNK_BYTES = 256 * 1024  # COPY data gathered before it is split (clients send a row each)
OUT_BATCH_ROWS = 2048  # rows per CopyData message on COPY TO
Row = tuple[Any, ...]


class Copy(Statement):
    def __init__(self, target: tuple[str | None, str] | None, columns: list[str] | None,
                 query_sql: str | None, from_client: bool, fmt: CopyFormat) -> None:
        assert (target is None) != (query_sql is None)
        self.target, self.columns, self.query_sql = target, columns, query_sql
        self.from_client, self.fmt = from_client, fmt
        self.kind = "dml" if from_client else "query"

    def bind(self, b: Binder) -> Plan:
        if self.query_sql is not None:
            import sqlglot
            from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

            from dsql.sql.select import plan_query
            ast = normalize_identifiers(sqlglot.parse_one(self.query_sql, dialect="postgres"),
                                        dialect="postgres")
            return CopyToPlan(plan_query(b, ast), self.fmt, b)
        assert self.target is not None
        schema, name = self.target
        table = b.table(exp.Table(this=exp.to_identifier(name),
                                  db=exp.to_identifier(schema) if schema else None))
        positions = _positions(table, self.columns)
        if self.from_client:
            return CopyFromPlan(b, table, positions, self.fmt)
        from dsql.sql.select import plan_query
        sel = exp.select(*[exp.column(exp.to_identifier(table.columns[p].name, quoted=True))
                           for p in positions]).from_(
            exp.Table(this=exp.to_identifier(table.name, quoted=True),
                      db=exp.to_identifier(table.schema, quoted=True)))
        return CopyToPlan(plan_query(b, sel), self.fmt, b)


def _positions(table: Table, columns: list[str] | None) -> list[int]:
    if columns is None:
        return list(range(len(table.columns)))
    out: list[int] = []
    for name in columns:
        c = table.column(name)
        if c is None:
            raise UndefinedColumn(f'column "{name}" of relation "{table.name}" does not exist')
        p = table.position(c.id)
        if p in out:
            from dsql.sql.errors import DuplicateColumn
            raise DuplicateColumn(f'column "{name}" specified more than once')
        out.append(p)
    return out


# -- COPY FROM STDIN -------------------------------------------------------------------------------

class CopyFromPlan(Plan):
    kind = "dml"

    def __init__(self, b: Binder, table: Table, positions: list[int], fmt: CopyFormat) -> None:
        from dsql.sql.dml import TableWriter, _defaults
        self.table = table
        self.positions = positions
        self.fmt = fmt
        self.writer = TableWriter(b, table)
        defaults = _defaults(b, self.writer)
        missing = [p for p in range(len(table.columns)) if p not in positions]
        self.const_defaults = [None if not d.const else d.fn((), ()) for d in defaults]
        self.volatile_defaults = [(p, defaults[p].fn) for p in missing
                                  if not defaults[p].const]
        ctx = b.compiler.ctx
        self.inputs = [table.columns[p].type.input_fn(ctx) for p in positions]
        self.batch_inputs = [_column_input(table.columns[p].type, fn)
                             for p, fn in zip(positions, self.inputs, strict=True)]
        self.names = [table.columns[p].name for p in positions]
        self.all_columns = positions == list(range(len(table.columns)))

    def execute(self, ec: ExecContext) -> Outcome:
        client = getattr(ec.session, "client", None)
        if client is None:
            raise FeatureNotSupported("COPY FROM STDIN needs a client connection (dsql serve)")
        with gc_paused():
            return self._load(ec, client)

    def _load(self, ec: ExecContext, client: Any) -> Outcome:
        loader = _Loader(self, ec)
        fmt = self.fmt
        # the fast path: plain text-format lines (no escapes, so no \N NULLs), split per chunk
        # of CHUNK_BYTES and converted column by column; anything else goes to RowDecoder
        decoder = None if not fmt.csv and not fmt.header and "\\" in fmt.null else \
            RowDecoder(fmt)
        parts: list[bytes] = []  # fast path: chunks not yet split (size: their bytes)
        size = 0
        pending: list[Fields] = []  # exact path: decoded rows not yet loaded
        for chunk in client.copy_in(column_count=len(self.positions)):
            if decoder is None:
                parts.append(chunk)
                size += len(chunk)
                if size < CHUNK_BYTES:
                    continue
                data = b"".join(parts)
                cut = data.rfind(b"\n")
                if cut >= 0:
                    parts, size = [data[cut + 1:]], len(data) - cut - 1
                    decoder = self._fast(loader, data[:cut + 1])
                    if decoder is None:
                        continue
                    chunk = b"".join(parts)  # the exact decoder takes over after the body
                else:  # a line longer than a chunk: the exact decoder bounds it
                    decoder, chunk = RowDecoder(fmt), data
                parts, size = [], 0
            pending.extend(decoder.feed(chunk))
            if len(pending) >= BATCH_ROWS:
                loader.load(pending)
                pending = []
        if decoder is None:
            decoder = self._fast(loader, b"".join(parts)) or RowDecoder(fmt)
        assert decoder is not None and size == sum(map(len, parts))
        pending.extend(decoder.finish())
        loader.load(pending)
        return Outcome([], f"COPY {loader.count}")

    def _fast(self, loader: _Loader, body: bytes) -> RowDecoder | None:
        """Loads whole lines of `body` column-wise; returns a RowDecoder (fed with `body`) the
        moment the data needs the exact decoder (escapes, CR, bad UTF-8, the end marker)."""
        text = None
        if b"\\" not in body and b"\r" not in body:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        if text is None:
            decoder = RowDecoder(self.fmt)
            loader.load(decoder.feed(body))
            return decoder
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for i in range(0, len(lines), BATCH_ROWS):
            loader.load_lines(lines[i:i + BATCH_ROWS])
        return None


class _Slow(Exception):
    """The fast path cannot take this batch."""


_INT_DIGITS_MAX = {"int2": 4, "int4": 9, "int8": 18}  # digits that can never overflow


def _column_input(t: Any, fn: Callable[[str], Any]) -> Callable[[Sequence[str]], list[Any]]:
    """A column's text fields -> values, one call per batch (ValueError / DsqlError when a
    field is not plain: the caller then converts row by row and reports the field)."""
    digits = _INT_DIGITS_MAX.get(t.name)
    if digits is not None:
        def ints(col: Sequence[str]) -> list[Any]:
            joined = "".join(col)
            if joined.isdigit() and joined.isascii() and 0 < min(map(len, col)) and \
                    max(map(len, col)) <= digits:
                return list(map(int, col))
            return list(map(fn, col))
        return ints
    if t.name == "bpchar" and t.typmod > 4:
        n = t.typmod - 4  # VARHDRSZ

        def chars(col: Sequence[str]) -> list[Any]:
            if max(map(len, col)) <= n:
                return [v.ljust(n) for v in col]
            return list(map(fn, col))
        return chars
    if t.name == "text":
        return list
    return lambda col: list(map(fn, col))


class _Loader:
    """Converts, checks and writes batches of COPY rows into one transaction."""

    def __init__(self, plan: CopyFromPlan, ec: ExecContext) -> None:
        self.plan = plan
        self.ec = ec
        self.count = 0
        self.line = 1 + (1 if plan.fmt.header else 0)

    def load(self, batch: list[Fields]) -> None:
        if not batch:
            return
        rows = self._convert(batch)
        self._write(rows)
        self.count += len(rows)

    def load_lines(self, lines: list[str]) -> None:
        """Plain lines (no escapes, no NULLs): split, converted per column, written."""
        if not lines:
            return
        p = self.plan
        delim = p.fmt.delimiter
        fields = [ln.split(delim) for ln in lines]
        width = len(p.positions)
        try:
            if any(len(f) != width for f in fields):
                raise _Slow()
            columns = zip(*fields, strict=True)
            cols = [conv(col) for conv, col in zip(p.batch_inputs, columns, strict=True)]
        except (_Slow, DsqlError, ValueError):
            self.load(fields)  # the row-at-a-time path finds and reports the bad field
            return
        if p.all_columns:
            rows = list(zip(*cols, strict=True))
        else:
            rows = []
            base, vol, params = p.const_defaults, p.volatile_defaults, self.ec.params
            for vals in zip(*cols, strict=True):
                full = list(base)
                for pos, v in zip(p.positions, vals, strict=True):
                    full[pos] = v
                for pos, dfn in vol:
                    full[pos] = dfn((), params)
                rows.append(tuple(full))
        self.line += len(rows)
        self._write(rows)
        self.count += len(rows)

    def _convert(self, batch: list[Fields]) -> list[Row]:
        p = self.plan
        positions, inputs, names = p.positions, p.inputs, p.names
        width = len(positions)
        base = p.const_defaults
        vol = p.volatile_defaults
        params = self.ec.params
        out: list[Row] = []
        single = len(base) == width and positions == list(range(width)) and not vol
        for fields in batch:
            if len(fields) != width:
                self._width_error(fields, width, names)
            try:
                if single:
                    row = tuple([None if f is None else fn(f)
                                 for f, fn in zip(fields, inputs, strict=True)])
                else:
                    full = list(base)
                    for pos, f, fn in zip(positions, fields, inputs, strict=True):
                        full[pos] = None if f is None else fn(f)
                    for pos, dfn in vol:
                        full[pos] = dfn((), params)
                    row = tuple(full)
            except DsqlError as e:
                self._annotate(e, fields)
                raise
            out.append(row)
            self.line += 1
        return out

    def _width_error(self, fields: Fields, width: int, names: Sequence[str]) -> None:
        where = f"COPY {self.plan.table.name}, line {self.line}"
        if len(fields) > width:
            raise BadCopyFileFormat("extra data after last expected column", detail=where)
        raise BadCopyFileFormat(f'missing data for column "{names[len(fields)]}"',
                                detail=where)

    def _annotate(self, e: DsqlError, fields: Fields) -> None:
        p = self.plan
        for name, f, fn in zip(p.names, fields, p.inputs, strict=False):
            try:
                if f is not None:
                    fn(f)
            except DsqlError:
                where = f'COPY {p.table.name}, line {self.line}, column {name}: "{f}"'
                if e.detail is None:
                    e.detail = where
                return

    def _write(self, rows: list[Row]) -> None:
        write_rows(self.ec, self.plan.writer, rows, f"COPY {self.plan.table.name}",
                   self.line - len(rows))


def write_rows(ec: ExecContext, w: TableWriter, rows: list[Row], what: str = "",
               line0: int = 0) -> None:
    """Checks and writes a batch of new full rows of one table (COPY, INSERT ... SELECT):
    23502 / 23514 / 23505 as a row-by-row INSERT would raise them; keys and values encoded
    once per batch, primary-key duplicates looked up once per batch."""
    codec = w.codec
    txn = ec.txn
    if w.checks or any(r[i] is None for i in w.not_null for r in rows):
        for i, row in enumerate(rows):
            try:
                w.check(row)
            except DsqlError as e:
                if what and e.detail is not None:
                    e.detail += f"\n{what}, line {line0 + i}"
                raise
    if w.uniques:  # secondary unique constraints: the row-at-a-time path
        for row in rows:
            key = w.key_of(ec, row)
            hit = w.conflict(ec, row, key)
            if hit is not None:
                raise w.duplicate(hit[0], row)
            w.insert(ec, row, key)
        return
    if codec.hidden_rowid:
        nid = txn.db.next_rowid
        keys = codec.key_layout.encode_many([(nid(),) for _ in rows])
    else:
        key_of = codec.key_of
        keys = codec.key_layout.encode_many([key_of(r) for r in rows])
        _check_duplicates(ec, w, keys, rows)
    if codec._needs_conv:  # jsonb columns: the per-row path converts them
        values = [codec.encode_value(r) for r in rows]
    else:
        value_of, prefix = codec.value_of, codec._prefix
        values = [prefix + v for v in codec.row_layout.encode_many([value_of(r)
                                                                     for r in rows])]
    txn.put_many(list(zip(keys, values, strict=True)), Kind.FULL)
    for ic in w.indexes:
        entries = ic.layout.encode_many([ic.indexed(r) + codec.key_layout.decode(k)
                                         for r, k in zip(rows, keys, strict=True)])
        txn.put_many([(e, b"") for e in entries], None, row=False)
    assert len(keys) == len(rows)


def _check_duplicates(ec: ExecContext, w: TableWriter, keys: list[bytes], rows: list[Row]
                      ) -> None:
    pk_name = f"{w.table.name}_pkey"
    if len(set(keys)) != len(keys):
        seen: set[bytes] = set()
        for k, r in zip(keys, rows, strict=True):
            if k in seen:
                raise w.duplicate(pk_name, r)
            seen.add(k)
    for v, r in zip(ec.txn.get_many(keys), rows, strict=True):
        if v is not None:
            raise w.duplicate(pk_name, r)


# -- COPY TO STDOUT --------------------------------------------------------------------------------

class CopyToPlan(Plan):
    kind = "query"

    def __init__(self, query: QueryPlan, fmt: CopyFormat, b: Binder) -> None:
        self.query = query
        self.fmt = fmt
        ctx = b.compiler.ctx
        self.outs: list[Callable[[Any], str]] = [t.output_fn(ctx) for t in query.types]
        self.header = [c.name for c in query.columns]

    def execute(self, ec: ExecContext) -> Outcome:
        client = getattr(ec.session, "client", None)
        if client is None:
            raise FeatureNotSupported("COPY TO STDOUT needs a client connection (dsql serve)")
        writer = client.copy_out(column_count=len(self.outs))
        n = 0
        header = self.header if self.fmt.header else None
        for chunk in _chunks(self.query.rows(ec), OUT_BATCH_ROWS):
            text = [[None if v is None else f(v) for v, f in zip(r, self.outs, strict=True)]
                    for r in chunk]
            writer.write(encode_rows(text, self.fmt, header))
            header = None
            n += len(chunk)
        if header is not None:
            writer.write(encode_rows([], self.fmt, header))
        writer.close()
        return Outcome([], f"COPY {n}")


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    assert size > 0
    chunk: list[Row] = []
    for r in rows:
        chunk.append(r)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# -- parsing ---------------------------------------------------------------------------------------

def parse_copy(sql: str, c: Cursor) -> Copy:
    """`c` is just past COPY. A (query) source is cut out of `sql` by its parentheses."""
    query_sql = None
    target = None
    columns = None
    if c.accept_op("("):
        query_sql, rest = _paren_query(sql)
        c = Cursor(tokens(rest))
    else:
        target = c.qualified_name()
        if c.accept_op("("):
            columns = [c.name()]
            while c.accept_op(","):
                columns.append(c.name())
            c.expect_op(")")
    if c.accept("from"):
        from_client = True
        if not c.accept("stdin"):
            _refuse_endpoint(c)
    elif c.accept("to"):
        from_client = False
        if not c.accept("stdout"):
            _refuse_endpoint(c)
    else:
        c.fail()
    if query_sql is not None and from_client:
        raise SqlSyntaxError('syntax error at or near "FROM": COPY (query) works only TO STDOUT')
    opts = _options(c)
    return Copy(target, columns, query_sql, from_client, _format(opts))


def _refuse_endpoint(c: Cursor) -> None:
    t = c.peek()
    what = "a program" if t is not None and t.is_word("program") else "a file"
    raise FeatureNotSupported(f"COPY to or from {what} is not supported; use STDIN / STDOUT "
                              "(psql's \\copy)")


def _paren_query(sql: str) -> tuple[str, str]:
    start = sql.index("(")
    depth, i, n = 0, start, len(sql)
    quote = ""
    while i < n:
        ch = sql[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return sql[start + 1:i], sql[i + 1:]
        i += 1
    raise SqlSyntaxError("syntax error at end of input")


def _value(c: Cursor) -> str | None:
    t = c.peek()
    if t is None or (t.kind == "op" and t.text in ",)"):
        return None
    c.next()
    return t.text


def _options(c: Cursor) -> dict[str, str | None]:
    opts: dict[str, str | None] = {}
    c.accept("with")
    if c.accept_op("("):
        while True:
            name = c.name().lower()
            if name in opts:
                raise SqlSyntaxError("conflicting or redundant options")
            if name in ("force_quote", "force_not_null", "force_null") and c.accept_op("("):
                while not c.accept_op(")"):
                    c.next()
                opts[name] = "*"
            else:
                opts[name] = _value(c)
            if not c.accept_op(","):
                break
        c.expect_op(")")
        c.end()
        return opts
    while not c.at_end():  # the pre-9.0 syntax
        if c.accept("binary"):
            opts["format"] = "binary"
        elif c.accept("csv"):
            opts["format"] = "csv"
        elif c.accept("header"):
            opts["header"] = "true"
        elif c.accept("freeze"):
            opts["freeze"] = "true"
        elif c.accept("delimiter", "null", "quote", "escape"):
            name = c.toks[c.i - 1].text
            c.accept("as")
            opts[name] = c.next().text
        elif c.accept("force"):
            c.accept("not")
            c.accept("null", "quote")
            if not c.accept_op("*"):
                c.name()
                while c.accept_op(","):
                    c.name()
        else:
            c.fail()
    return opts


_TRUE = ("true", "on", "1", "yes", None)
_FALSE = ("false", "off", "0", "no")


def _bool(name: str, v: str | None) -> bool:
    lv = None if v is None else v.lower()
    if lv in _TRUE:
        return True
    if lv in _FALSE:
        return False
    raise SqlSyntaxError(f"{name} requires a Boolean value")


def _format(opts: dict[str, str | None]) -> CopyFormat:
    fmt = (opts.pop("format", None) or "text").lower()
    if fmt == "binary":
        raise FeatureNotSupported("COPY BINARY is not supported; use text or csv")
    if fmt not in ("text", "csv"):
        raise InvalidParameterValue(f'COPY format "{fmt}" not recognized')
    header_on = "header" in opts and _bool("header", opts.pop("header"))
    if "freeze" in opts:
        _bool("freeze", opts.pop("freeze"))
    enc = opts.pop("encoding", None)
    if enc is not None and enc.lower().replace("-", "") not in ("utf8", "unicode"):
        raise FeatureNotSupported(f'COPY encoding "{enc}" is not supported (only UTF8)')
    for ignored in ("force_quote", "force_not_null", "force_null"):
        if opts.pop(ignored, None) is not None and fmt != "csv":
            raise FeatureNotSupported(f"COPY {ignored} is available only in CSV mode")
    chars: dict[str, str] = {}
    for name in ("delimiter", "null", "quote", "escape"):
        v = opts.pop(name, None)
        if v is not None:
            chars[name] = v
    if opts:
        raise SqlSyntaxError(f'option "{next(iter(opts))}" not recognized')
    for name in ("delimiter", "quote", "escape"):
        if name in chars and len(chars[name].encode()) != 1:
            raise FeatureNotSupported(f"COPY {name} must be a single one-byte character")
    if fmt == "csv":
        return CopyFormat.csv_format(delimiter=chars.get("delimiter", ","),
                                     null=chars.get("null", ""), quote=chars.get("quote", '"'),
                                     escape=chars.get("escape"), header=header_on)
    if "quote" in chars or "escape" in chars:
        raise FeatureNotSupported("COPY quote and escape are available only in CSV mode")
    d = chars.get("delimiter", "\t")
    if d in ("\r", "\n", "\\"):
        raise FeatureNotSupported("COPY delimiter cannot be newline, carriage return or "
                                  "backslash")
    return CopyFormat.text(delimiter=d, null=chars.get("null", "\\N"), header=header_on)

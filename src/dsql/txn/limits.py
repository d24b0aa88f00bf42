"""Per-transaction limits (Aurora DSQL's defaults), configurable per server and per session.

Three limits, each exceeded with SQLSTATE 54000 and a clear message:

    rows   max_rows    rows inserted, updated or deleted (index entries are not counted)
    bytes  max_bytes   bytes of keys and values written
    age    max_age_s   seconds from the snapshot (BEGIN) to COMMIT

Where the values come from, later ones winning:
  1. the defaults below (3,000 rows, 10 MiB, 300 s);
  2. the server: `dsql serve --max-transaction-rows N --max-transaction-bytes N
     --max-transaction-age S` (DatabaseOptions.limits; `Limits.parse_server` reads them);
  3. the session: `SET dsql.max_transaction_rows = N` (and `_bytes`, `_age_s`), also through
     startup options (`PGOPTIONS='-c dsql.max_transaction_rows=2000000'`); RESET goes back
     to the server's value, and SHOW prints the value in force.

Invariants:
  1. Every limit is > 0 (a Limits with a zero or negative limit cannot be built).
  2. `for_session(settings)` takes only the SETTING_NAMES entries of `settings`; the other
     limits stay the server's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from dsql.errors import ProgramLimitExceeded

ROWS_SETTING = "dsql.max_transaction_rows"
BYTES_SETTING = "dsql.max_transaction_bytes"
AGE_SETTING = "dsql.max_transaction_age_s"
SETTING_NAMES = (ROWS_SETTING, BYTES_SETTING, AGE_SETTING)
_FIELD_OF = {ROWS_SETTING: "max_rows", BYTES_SETTING: "max_bytes", AGE_SETTING: "max_age_s"}


@dataclass(frozen=True)
class Limits:
    max_rows: int = 3000  # rows inserted, updated or deleted
    max_bytes: int = 10 << 20  # bytes of keys and values written
    max_age_s: float = 300.0  # seconds from the snapshot to COMMIT

    def __post_init__(self) -> None:
        if self.max_rows <= 0 or self.max_bytes <= 0 or not self.max_age_s > 0:
            raise ValueError("transaction limits must be > 0")
        assert isinstance(self.max_rows, int) and isinstance(self.max_bytes, int)

    # -- where the values come from -------------------------------------------------------------
    @classmethod
    def parse_server(cls, rows: str | int | None = None, bytes_: str | int | None = None,
                     age_s: str | float | None = None) -> Limits:
        """The server's limits from command-line text (None keeps the default); ValueError
        on a value that is not a positive number. Bytes accept k/M/G suffixes (1024-based)."""
        d = cls()
        out = cls(d.max_rows if rows is None else _count(str(rows), "rows"),
                  d.max_bytes if bytes_ is None else _count(str(bytes_), "bytes"),
                  d.max_age_s if age_s is None else _seconds(str(age_s)))
        assert out.max_rows > 0 and out.max_bytes > 0
        return out

    def for_session(self, settings: Mapping[str, str]) -> Limits:
        """These (server) limits overridden by a session's SET values (already validated)."""
        changes: dict[str, int | float] = {}
        for name in SETTING_NAMES:
            v = settings.get(name)
            if v is not None:
                f = _FIELD_OF[name]
                changes[f] = float(v) if f == "max_age_s" else int(float(v))
        out = replace(self, **changes) if changes else self
        assert out.max_rows > 0
        return out

    def show(self, name: str) -> str:
        """SHOW's text for one of SETTING_NAMES."""
        assert name in _FIELD_OF, name
        v = getattr(self, _FIELD_OF[name])
        return f"{v:g}" if isinstance(v, float) else str(v)

    # -- the checks -----------------------------------------------------------------------------
    def check_rows(self, rows: int) -> None:
        if rows > self.max_rows:
            raise ProgramLimitExceeded(
                f"transaction modifies too many rows: the limit is {self.max_rows} rows",
                hint="Split the change into several transactions, or raise the limit "
                     f"(SET {ROWS_SETTING}, or dsql serve --max-transaction-rows).")

    def check_bytes(self, n: int) -> None:
        if n > self.max_bytes:
            raise ProgramLimitExceeded(
                f"transaction is too large: {n} bytes of changes exceed the limit of "
                f"{self.max_bytes} bytes",
                hint="Split the change into several transactions, or raise the limit "
                     f"(SET {BYTES_SETTING}, or dsql serve --max-transaction-bytes).")

    def check_age(self, age_s: float) -> None:
        if age_s > self.max_age_s:
            raise ProgramLimitExceeded(
                f"transaction age limit of {self.max_age_s:g} seconds exceeded",
                hint="Start a new transaction.")


# -- what the node must hold for transactions this large ----------------------------------------
JOURNAL_WRITE_OVERHEAD_BYTES = 8  # key_len:u32 value_len:u32 per write (docs/journal-format.md)
JOURNAL_RECORD_BYTES_LIMIT = 1 << 30  # the journal's own ceiling on one record
ADJUDICATOR_TXN_KEYS_LIMIT = 1 << 28
# Floors, whatever the server's limits, so that a session may SET its limits far higher (a
# 1,000,000-row load); neither costs memory until a transaction that large commits.
TXN_KEYS_FLOOR = 4_000_000


@dataclass(frozen=True)
class NodeCapacity:
    """How large one committed transaction may be at the node: keys claimed at the adjudicator
    and bytes of its journal record. Sized from the server's limits (a session that raises its
    own limits beyond them gets 54000 at COMMIT from `check_commit`, never an internal error)."""

    txn_keys_max: int
    record_bytes_max: int

    @classmethod
    def for_limits(cls, limits: Limits) -> NodeCapacity:
        # a row write may carry index entries and unique-guard claims: room for 4 keys per row
        keys = min(ADJUDICATOR_TXN_KEYS_LIMIT, max(TXN_KEYS_FLOOR, 4 * limits.max_rows + 1024))
        record = JOURNAL_RECORD_BYTES_LIMIT  # a bound the journal checks, not a buffer
        assert keys > 0 and record > 0
        return cls(keys, record)

    def check_commit(self, writes: int, claims: int, nbytes: int) -> None:
        """54000 if a transaction with these counts cannot be committed by the node."""
        if claims + 1 > self.txn_keys_max:
            raise ProgramLimitExceeded(
                f"transaction changes too many keys: {claims + 1} exceed this server's "
                f"capacity of {self.txn_keys_max}",
                hint="Split the change, or start dsql serve with a larger "
                     "--max-transaction-rows.")
        record = 4 + nbytes + JOURNAL_WRITE_OVERHEAD_BYTES * (writes + 1) + 64 * 1024
        if record > self.record_bytes_max:
            raise ProgramLimitExceeded(
                f"transaction is too large for the journal: about {record} bytes exceed this "
                f"server's capacity of {self.record_bytes_max} bytes",
                hint="Split the change, or start dsql serve with a larger "
                     "--max-transaction-bytes.")


_SUFFIX = {"": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30,
           "gb": 1 << 30}


def _count(text: str, what: str) -> int:
    t = text.strip().lower().replace("_", "")
    num = t.rstrip("kmgb") if what == "bytes" else t
    unit = t[len(num):]
    try:
        n = int(float(num) * _SUFFIX[unit])
    except (ValueError, KeyError):
        raise ValueError(f"invalid transaction {what} limit: {text!r}") from None
    if n <= 0:
        raise ValueError(f"the transaction {what} limit must be > 0, not {text!r}")
    return n


def _seconds(text: str) -> float:
    t = text.strip().lower()
    t = t[:-1] if t.endswith("s") else t
    try:
        s = float(t)
    except ValueError:
        raise ValueError(f"invalid transaction age limit: {text!r}") from None
    if not s > 0:
        raise ValueError(f"the transaction age limit must be > 0, not {text!r}")
    return s

"""Per-transaction limits (Aurora DSQL's defaults), configurable per database and session."""

from __future__ import annotations

from dataclasses import dataclass

from dsql.errors import ProgramLimitExceeded


@dataclass(frozen=True)
class Limits:
    max_rows: int = 3000  # rows inserted, updated or deleted
    max_bytes: int = 10 << 20  # bytes of keys and values written
    max_age_s: float = 300.0  # seconds from the snapshot to COMMIT

    def check_rows(self, rows: int) -> None:
        if rows > self.max_rows:
            raise ProgramLimitExceeded(
                f"transaction modifies too many rows: the limit is {self.max_rows} rows",
                hint="Split the change into several transactions.")

    def check_bytes(self, n: int) -> None:
        if n > self.max_bytes:
            raise ProgramLimitExceeded(
                f"transaction is too large: {n} bytes of changes exceed the limit of "
                f"{self.max_bytes} bytes", hint="Split the change into several transactions.")

    def check_age(self, age_s: float) -> None:
        if age_s > self.max_age_s:
            raise ProgramLimitExceeded(
                f"transaction age limit of {self.max_age_s:g} seconds exceeded",
                hint="Start a new transaction.")

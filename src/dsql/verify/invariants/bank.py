"""The bank workload: transfers between accounts; the total never changes, no balance < 0.

Table ``inv_bank (id int PRIMARY KEY, balance int)``, `accounts` rows of `initial` each. A
transfer reads the balances of two accounts and, if the source holds enough, writes both new
balances as absolute values computed from what it read (so a lost update would show as
money created or destroyed). Conflicts (40001) are retried. Read-only transactions read every
balance while transfers run.

Check (`check_bank`), at every snapshot read and at the end: `accounts` rows, the sum is
`accounts * initial`, and no balance is negative. Transfers whose COMMIT outcome is unknown do
not matter: a transfer keeps the total whether it committed or not.
"""

from __future__ import annotations

import random
from typing import Any

from dsql.verify.invariants.base import Workload
from dsql.verify.invariants.common import Client, fetch_all

TABLE = "inv_bank"
ACCOUNTS_MAX = 2000
AMOUNT_MAX = 20


def check_bank(balances: dict[int, int], accounts: int, total: int) -> list[str]:
    """Problems with `balances` (id -> balance); [] when the books balance."""
    assert accounts >= 1 and total >= 0
    problems: list[str] = []
    if set(balances) != set(range(accounts)):
        problems.append(f"bank: {len(balances)} accounts, want ids 0..{accounts - 1}")
    got = sum(balances.values())
    if got != total:
        problems.append(f"bank: total {got}, want {total} (off by {got - total})")
    negative = sorted((i, b) for i, b in balances.items() if b < 0)
    if negative:
        problems.append(f"bank: negative balances {negative[:5]}")
    return problems


class Bank(Workload):
    """See the module docstring."""

    name = "bank"

    def __init__(self, accounts: int = 8, initial: int = 100) -> None:
        super().__init__()
        if not (2 <= accounts <= ACCOUNTS_MAX and initial >= 0):
            raise ValueError(f"the bank needs 2..{ACCOUNTS_MAX} accounts and initial >= 0")
        self.accounts = accounts
        self.initial = initial
        self.transfers = 0  # committed transfers that moved money (under the lock)

    @property
    def total(self) -> int:
        return self.accounts * self.initial

    def create(self, cur: Any) -> None:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id int PRIMARY KEY, balance int)")

    def populate(self, cur: Any) -> None:
        cur.execute(f"DELETE FROM {TABLE}")
        values = ", ".join(f"({i}, {self.initial})" for i in range(self.accounts))
        cur.execute(f"INSERT INTO {TABLE} (id, balance) VALUES {values}")

    def step(self, client: Client, rng: random.Random) -> None:
        src, dst = rng.sample(range(self.accounts), 2)
        amount = rng.randint(1, AMOUNT_MAX)

        def body(cur: Any) -> bool:
            bal = {}
            for acct in (src, dst):
                rows = fetch_all(cur, f"SELECT balance FROM {TABLE} WHERE id = {acct}")
                if len(rows) != 1:
                    raise LookupError(f"account {acct} has {len(rows)} rows")
                bal[acct] = int(rows[0][0])
            if bal[src] < amount:
                return False  # not enough money: a read-only transaction
            cur.execute(f"UPDATE {TABLE} SET balance = {bal[src] - amount} WHERE id = {src}")
            cur.execute(f"UPDATE {TABLE} SET balance = {bal[dst] + amount} WHERE id = {dst}")
            return True

        before = client.conflicts
        result = client.run_until_done(body)
        self.count(result.outcome, client.conflicts - before)
        if result.outcome == "ok" and result.value:
            with self.lock:
                self.transfers += 1

    def read_state(self, cur: Any) -> dict[int, int]:
        return {int(i): int(b) for i, b in fetch_all(cur, f"SELECT id, balance FROM {TABLE}")}

    def check_state(self, state: Any, *, final: bool, before: Any = None) -> list[str]:
        return check_bank(state, self.accounts, self.total)

    def summary(self) -> dict[str, object]:
        return {**super().summary(), "transfers": self.transfers, "total": self.total}

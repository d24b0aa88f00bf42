"""The seeded scheduler: simulated time, one random stream, and the event trace.

Everything in a simulation happens inside an event this scheduler runs. Time advances only
when the next event is taken off the queue, and every random choice is drawn from ``rng``
(one ``random.Random`` seeded by the run's seed), so a seed determines the whole run. Each
event and each noteworthy step is folded into a SHA-256 trace digest; two runs of one seed
must give the same digest (tests/test_verify_sim.py checks it).

    sched = Scheduler(seed=7)
    sched.after(1_000, "tick", lambda: print(sched.now_ns))
    sched.run(until_ns=10_000)

Invariants: 1. now_ns never decreases; 2. events at one time run in the order they were
scheduled (a sequence number breaks ties, never a comparison of callbacks); 3. at most
``events_max`` events run per ``run`` call and at most ``queue_max`` wait in the queue.
Thread-safety: single-threaded by design; callbacks run on the caller's thread.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections import deque
from collections.abc import Callable

QUEUE_MAX = 200_000
TRACE_TAIL_MAX = 64


class SchedulerOverflow(RuntimeError):
    """More events were queued or run than the bound allows (a runaway simulation)."""


class Scheduler:
    def __init__(self, seed: int, *, queue_max: int = QUEUE_MAX) -> None:
        assert queue_max > 0
        self.seed = seed
        self.rng = random.Random(seed)
        self.now_ns = 0
        self.events_run = 0
        self._queue: list[tuple[int, int, str, Callable[[], None]]] = []
        self._seq = 0
        self._queue_max = queue_max
        self._digest = hashlib.sha256()
        self._tail: deque[str] = deque(maxlen=TRACE_TAIL_MAX)
        self._tickers: list[Callable[[int], None]] = []

    def on_advance(self, ticker: Callable[[int], None]) -> None:
        """`ticker(delta_ns)` runs whenever time moves forward (e.g. simulated clock sources)."""
        self._tickers.append(ticker)

    def after(self, delay_ns: int, label: str, fn: Callable[[], None]) -> None:
        """Runs `fn` at now + delay_ns. REQUIRES: delay_ns >= 0."""
        assert delay_ns >= 0, "REQUIRES: delay_ns >= 0"
        if len(self._queue) >= self._queue_max:
            raise SchedulerOverflow(f"more than {self._queue_max} events queued")
        self._seq += 1
        heapq.heappush(self._queue, (self.now_ns + delay_ns, self._seq, label, fn))

    def note(self, text: str) -> None:
        """Folds a line into the trace digest (and the tail kept for failure reports)."""
        line = f"{self.now_ns} {text}"
        self._digest.update(line.encode())
        self._digest.update(b"\n")
        self._tail.append(line)

    def run(self, until_ns: int, events_max: int = 2_000_000) -> int:
        """Runs events due at or before until_ns (then time stands at until_ns); returns how
        many ran."""
        assert until_ns >= self.now_ns and events_max > 0
        ran = 0
        while self._queue and self._queue[0][0] <= until_ns:
            if ran >= events_max:
                raise SchedulerOverflow(f"more than {events_max} events in one run")
            at_ns, _seq, label, fn = heapq.heappop(self._queue)
            self._advance_to(at_ns)
            self.note(label)
            fn()
            ran += 1
        self._advance_to(until_ns)
        self.events_run += ran
        return ran

    def _advance_to(self, at_ns: int) -> None:
        assert at_ns >= self.now_ns, "time never goes back"
        delta = at_ns - self.now_ns
        if delta:
            self.now_ns = at_ns
            for ticker in self._tickers:
                ticker(delta)

    @property
    def pending(self) -> int:
        return len(self._queue)

    @property
    def trace_hash(self) -> str:
        return self._digest.hexdigest()

    def trace_tail(self) -> list[str]:
        return list(self._tail)

"""The simulated network between clients and the node: seeded delay, loss, duplication.

A message is a plain tuple handed to the destination's handler when the scheduler delivers
it. Each send draws, from the scheduler's random stream, whether the message is lost, whether
a second copy is delivered too, and how long each copy takes (now and then a long delay, which
reorders it behind later messages). A message to an endpoint that is down on arrival is lost.

Invariants: 1. a message is delivered at most twice (original and one duplicate); 2. nothing
is delivered to an endpoint that is down; 3. at most ``in_flight_max`` messages are on the
wire (beyond that, sends are dropped and counted as drops).
Thread-safety: single-threaded, driven by the Scheduler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dsql.verify.sim.faults import MSG_DELAY, MSG_DROP, MSG_DUP, FaultConfig, FaultCounts
from dsql.verify.sim.scheduler import Scheduler

Message = tuple[Any, ...]
Handler = Callable[[str, Message], None]
IN_FLIGHT_MAX = 50_000


class Network:
    def __init__(self, sched: Scheduler, faults: FaultConfig, counts: FaultCounts, *,
                 in_flight_max: int = IN_FLIGHT_MAX) -> None:
        self._sched = sched
        self._faults = faults
        self._counts = counts
        self._handlers: dict[str, Handler] = {}
        self._up: dict[str, bool] = {}
        self._in_flight = 0
        self._in_flight_max = in_flight_max
        self.reliable = False  # set at the end of a run: no more loss or duplication
        self.sent = 0

    def register(self, name: str, handler: Handler) -> None:
        assert name not in self._handlers, f"endpoint {name} registered twice"
        self._handlers[name] = handler
        self._up[name] = True

    def set_up(self, name: str, up: bool) -> None:
        assert name in self._handlers
        self._up[name] = up

    def send(self, src: str, dst: str, msg: Message) -> None:
        """Sends msg from src to dst (delivery, loss and duplication are seeded)."""
        assert dst in self._handlers, f"unknown endpoint {dst}"
        rng = self._sched.rng
        f = self._faults
        self.sent += 1
        if not self.reliable and f.drop_p and rng.random() < f.drop_p:
            self._counts[MSG_DROP] += 1
            self._sched.note(f"drop {src}->{dst} {msg[0]}")
            return
        copies = 1
        if not self.reliable and f.dup_p and rng.random() < f.dup_p:
            self._counts[MSG_DUP] += 1
            copies = 2
        for _ in range(copies):
            if self._in_flight >= self._in_flight_max:
                self._counts[MSG_DROP] += 1
                continue
            if f.long_delay_p and rng.random() < f.long_delay_p:
                self._counts[MSG_DELAY] += 1
                delay = rng.randint(f.delay_max_ns, f.long_delay_max_ns)
            else:
                delay = rng.randint(f.delay_min_ns, f.delay_max_ns)
            self._in_flight += 1
            self._sched.after(delay, f"deliver {src}->{dst} {msg[0]}",
                              lambda m=msg: self._deliver(src, dst, m))

    def _deliver(self, src: str, dst: str, msg: Message) -> None:
        self._in_flight -= 1
        assert self._in_flight >= 0
        if not self._up[dst]:
            self._sched.note(f"lost: {dst} is down")
            return
        self._handlers[dst](src, msg)

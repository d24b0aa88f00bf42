"""Clock reads: goal, the cost of one reading from Python and of the C++ source loop.

Method: pytest-benchmark times dsql.clock.now(), the bound reader and the timestamp issuer of a
system-source Clock, and time.time_ns() as the floor, each as a plain call.
"""

from __future__ import annotations

import time
from typing import Any

from dsql import clock as dclock


def test_time_ns_floor(benchmark: Any) -> None:
    assert benchmark(time.time_ns) > 0


def test_clock_now(benchmark: Any) -> None:
    dclock.configure(source="system")
    reading = benchmark(dclock.now)
    assert reading.earliest <= reading.latest


def test_clock_bound_reader(benchmark: Any) -> None:
    system = dclock.Clock.open(dclock.ClockSettings(source="system"))
    reading = benchmark(system.now)
    assert reading.earliest <= reading.latest


def test_clock_timestamp(benchmark: Any) -> None:
    system = dclock.Clock.open(dclock.ClockSettings(source="system"))
    first = system.timestamp()
    assert benchmark(system.timestamp) > first

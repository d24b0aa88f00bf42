"""Clock reads: the system source from C++ and from Python, against bare clock reads."""

from __future__ import annotations

import time

from dsql.bench.harness import Result, best_ns_per_call

from dsql import clock as dclock
from dsql._core import _kernels

DESCRIPTION = "clock reads from C++ and Python against bare clock_gettime / time.time_ns"


def run(quick: bool) -> list[Result]:
    cpp_iters = 2_000_000 if quick else 20_000_000
    py_calls = 200_000 if quick else 2_000_000
    repeats = 3 if quick else 7
    system = dclock.Clock.open(dclock.ClockSettings(source="system"))
    kc = _kernels.clock

    # C++: a tight C++ loop over the source, against a bare vDSO clock_gettime loop.
    cpp_read = min(kc.mean_read_cost_ns(system.source, cpp_iters) for _ in range(repeats))
    cpp_floor = min(kc.mean_clock_gettime_ns(cpp_iters) for _ in range(repeats))

    # Python: the public call, the bound reader, and the timestamp issuer, against
    # time.time_ns() timed the same way (the loop's overhead is in both).
    dclock.configure(source="system")
    py_floor = best_ns_per_call(time.time_ns, py_calls, repeats)
    py_now = best_ns_per_call(dclock.now, py_calls, repeats)
    py_reader = best_ns_per_call(system.now, py_calls, repeats)
    py_ts = best_ns_per_call(system.timestamp, py_calls, repeats)

    reading = system.now()
    info = {"status": reading.status, "bound_ns": reading.bound}
    return [
        Result("clock.read.cpp.system", cpp_read, "ns/read", baseline=cpp_floor,
               baseline_name="clock_gettime(CLOCK_REALTIME)", target="<= 50 ns",
               meets_target=cpp_read <= 50, extra=info),
        Result("clock.read.python.system", py_now, "ns/read", baseline=py_floor,
               baseline_name="time.time_ns()", target="<= 300 ns", meets_target=py_now <= 300),
        Result("clock.read.python.bound_reader", py_reader, "ns/read", baseline=py_floor,
               baseline_name="time.time_ns()"),
        Result("clock.timestamp.python", py_ts, "ns/timestamp", baseline=py_floor,
               baseline_name="time.time_ns()"),
    ]

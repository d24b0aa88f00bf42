"""The clock from Python: source selection and fallback, ClockBound fakes, status transitions,
and hybrid-logical timestamps that never go backwards.

Method: a file laid out as a ClockBound segment (rewritten in place to move its status, bound
and staleness), a PTP path that cannot be opened, and a simulated source driven through random
steps back, drift and freezes while timestamps are drawn.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsql import clock as dclock

MONOTONIC_COARSE = 6  # CLOCK_MONOTONIC_COARSE on Linux
MAGIC = bytes([0x41, 0x4D, 0x5A, 0x4E, 0x43, 0x42, 0x02, 0x00])


def write_segment(path: Path, *, status: int, bound_ns: int, as_of_ago_ns: int = 0,
                  void_in_ns: int = 10_000_000_000, drift_ppb: int = 0, generation: int = 2,
                  version: int = 2) -> None:
    """Writes a ClockBound segment (protocol v1 or v2 layout) with times relative to now."""
    mono = time.clock_gettime_ns(MONOTONIC_COARSE)
    as_of, void_after = mono - as_of_ago_ns, mono + void_in_ns

    def ts(ns: int) -> bytes:
        return struct.pack("=qq", ns // 1_000_000_000, ns % 1_000_000_000)

    head = MAGIC + struct.pack("=IHH", 80, version, generation) + ts(as_of) + ts(void_after)
    if version == 2:
        body = struct.pack("=qQIiB", bound_ns, 0, drift_ppb, status, 0)
    else:
        body = struct.pack("=qIIi", bound_ns, drift_ppb, 0, status)
    data = (head + body).ljust(80, b"\0")
    if path.exists():  # rewrite in place, as the daemon does, so a mapping sees the change
        with open(path, "r+b") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def open_clockbound(path: Path) -> dclock.Clock:
    return dclock.Clock.open(dclock.ClockSettings(source="clockbound", clockbound_path=str(path)))


def test_default_clock_reads_a_sound_interval() -> None:
    before = time.time_ns()
    r = dclock.now()
    after = time.time_ns()
    assert r.earliest <= r.estimate <= r.latest
    assert r.bound >= 0
    assert r.status in ("synchronized", "free-running", "unknown")
    assert r.source in ("clockbound", "ptp", "system")
    assert r.earliest <= after and r.latest >= before


def test_clockbound_segment_is_used_and_honoured(tmp_path: Path) -> None:
    seg = tmp_path / "shm0"
    write_segment(seg, status=1, bound_ns=25_000)
    clock = open_clockbound(seg)
    assert clock.name == "clockbound"
    r = clock.now()
    assert (r.status, r.bound, r.source) == ("synchronized", 25_000, "clockbound")


def test_clockbound_status_transitions(tmp_path: Path) -> None:
    seg = tmp_path / "shm0"
    write_segment(seg, status=1, bound_ns=1000)
    clock = open_clockbound(seg)
    assert clock.now().status == "synchronized"
    write_segment(seg, status=2, bound_ns=1000)
    assert clock.now().status == "free-running"
    write_segment(seg, status=3, bound_ns=1000)  # disrupted
    assert clock.now().status == "unknown"
    write_segment(seg, status=1, bound_ns=1000, as_of_ago_ns=30_000_000_000,
                  void_in_ns=-20_000_000_000)  # the daemon stopped: stale
    assert clock.now().status == "unknown"
    write_segment(seg, status=1, bound_ns=1000, generation=9)  # a write in progress, forever
    assert clock.now().status == "unknown"
    write_segment(seg, status=1, bound_ns=1000)
    assert clock.now().status == "synchronized"


def test_clockbound_bound_grows_with_drift(tmp_path: Path) -> None:
    seg = tmp_path / "shm0"
    write_segment(seg, status=1, bound_ns=1000, as_of_ago_ns=1_000_000_000, drift_ppb=500_000)
    bound = open_clockbound(seg).now().bound
    assert 1000 + 500_000 <= bound < 1000 + 600_000


def test_clockbound_version_one(tmp_path: Path) -> None:
    seg = tmp_path / "shm"
    write_segment(seg, status=1, bound_ns=3000, version=1)
    r = open_clockbound(seg).now()
    assert (r.status, r.bound) == ("synchronized", 3000)


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "too short"),
        (b"X" * 80, "magic"),
        (MAGIC + struct.pack("=IHH", 80, 7, 2) + b"\0" * 64, "version 7"),
    ],
)
def test_bad_segment_falls_back_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes, reason: str
) -> None:
    seg = tmp_path / "shm0"
    seg.write_bytes(content)
    with caplog.at_level(logging.INFO, logger="dsql.clock"):
        clock = dclock.Clock.open(dclock.ClockSettings(
            source="clockbound", clockbound_path=str(seg), ptp_path=str(tmp_path / "no-ptp")))
    assert clock.name == "system"
    assert any(reason in rec.getMessage() for rec in caplog.records), caplog.text


def test_unopenable_ptp_falls_back_to_system(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "ptp0"
    with caplog.at_level(logging.INFO, logger="dsql.clock"):
        clock = dclock.Clock.open(dclock.ClockSettings(source="ptp", ptp_path=str(missing)))
    assert clock.name == "system"
    assert f"ptp: cannot open {missing}" in caplog.text
    assert "system: using CLOCK_REALTIME" in caplog.text
    # A path that opens but is no PTP clock is refused the same way.
    clock = dclock.Clock.open(dclock.ClockSettings(source="ptp", ptp_path="/dev/null"))
    assert clock.name == "system"
    assert any("not a readable PTP clock" in line for line in clock.selection_log)


def test_strict_and_unknown_sources_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unavailable"):
        dclock.Clock.open(dclock.ClockSettings(
            source="ptp", ptp_path=str(tmp_path / "none"), strict=True))
    with pytest.raises(ValueError, match="unknown clock source"):
        dclock.Clock.open(dclock.ClockSettings(source="sundial"))


def test_settings_from_environment() -> None:
    s = dclock.ClockSettings.from_env({
        "DSQL_CLOCK_SOURCE": "ptp", "DSQL_PTP_PATH": "/dev/ptp3", "DSQL_CLOCK_STRICT": "1",
        "DSQL_PTP_TAI_OFFSET_NS": "37000000000",
    })
    assert (s.source, s.ptp_path, s.strict, s.ptp_tai_offset_ns) == (
        "ptp", "/dev/ptp3", True, 37_000_000_000)
    assert dclock.ClockSettings.from_env({}) == dclock.ClockSettings()


def test_configure_replaces_the_process_clock() -> None:
    clock = dclock.configure(source="system")
    assert dclock.default() is clock
    assert dclock.now().source == "system"
    with pytest.raises(TypeError):
        dclock.configure(colour="blue")


def test_simulated_controls() -> None:
    clock = dclock.Clock.simulated(1_000_000, bound_ns=10)
    sim = clock.source
    assert clock.now().estimate == 1_000_000
    sim.advance(500)
    sim.step(-2_000)
    assert clock.now().estimate == 998_500
    sim.set_status("free-running")
    sim.set_bound(99)
    r = clock.now()
    assert (r.status, r.bound, r.source) == ("free-running", 99, "simulated")
    with pytest.raises(ValueError):
        sim.advance(-1)
    with pytest.raises(ValueError):
        sim.set_status("confused")


ops = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.integers(0, 10_000)),
        st.tuples(st.just("step"), st.integers(-50_000, 50_000)),
        st.tuples(st.just("drift"), st.integers(-200_000_000, 200_000_000)),
        st.tuples(st.just("freeze"), st.just(0)),
        st.tuples(st.just("unfreeze"), st.just(0)),
        st.tuples(st.just("timestamp"), st.integers(1, 5)),
    ),
    max_size=200,
)


@settings(max_examples=200, deadline=None)
@given(ops)
def test_timestamps_never_go_backwards(program: list[tuple[str, int]]) -> None:
    """Whatever the physical clock does, every timestamp exceeds every earlier one, and when
    the physical clock is ahead of all issued timestamps the timestamp is the physical time."""
    clock = dclock.Clock.simulated(10_000_000)
    sim = clock.source
    last = clock.timestamp()
    for op, arg in program:
        if op == "advance":
            sim.advance(arg)
        elif op == "step":
            sim.step(arg)
        elif op == "drift":
            sim.set_drift_ppb(arg)
        elif op == "freeze":
            sim.freeze()
        elif op == "unfreeze":
            sim.unfreeze()
        else:
            for _ in range(arg):
                physical = clock.now().estimate
                ts = clock.timestamp()
                assert ts > last
                assert ts == max(last + 1, physical)
                last = ts


def test_timestamps_unique_across_threads() -> None:
    clock = dclock.Clock.simulated(0)  # physical time stands still: all logical
    got: list[list[int]] = [[] for _ in range(4)]

    def draw(out: list[int]) -> None:
        for _ in range(5000):
            out.append(clock.timestamp())

    threads = [threading.Thread(target=draw, args=(g,)) for g in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g in got:
        assert g == sorted(g)
    assert len({ts for g in got for ts in g}) == 20_000


def test_observe_orders_later_timestamps_after() -> None:
    clock = dclock.Clock.simulated(1_000)
    clock.observe(5_000_000)
    assert clock.timestamp() == 5_000_001
    assert clock.timestamp_above(9_000_000) == 9_000_001
    assert clock.hybrid.last == 9_000_001

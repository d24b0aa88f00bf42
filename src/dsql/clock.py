"""The time source every component reads: physical time with error bounds, and timestamps.

    >>> import dsql.clock
    >>> r = dsql.clock.now()          # Reading(earliest, latest, status, source)
    >>> r.earliest <= r.latest
    True
    >>> t1 = dsql.clock.timestamp(); t2 = dsql.clock.timestamp()
    >>> t1 < t2                       # hybrid-logical: unique, never backwards
    True

The source is chosen once per process, in this order unless configured: ClockBound shared
memory, a PTP hardware clock, the system clock (see docs/clock.md). Settings come from
configure() or from the environment (DSQL_CLOCK_SOURCE, DSQL_CLOCKBOUND_PATH, DSQL_PTP_PATH,
DSQL_PTP_ERROR_BOUND_PATH, DSQL_PTP_TAI_OFFSET_NS, DSQL_CLOCK_STRICT).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, fields

from dsql._core import _kernels, clockread

__all__ = [
    "Clock",
    "ClockSettings",
    "Reading",
    "SimulatedSource",
    "configure",
    "default",
    "now",
    "timestamp",
]

log = logging.getLogger("dsql.clock")

Reading = clockread.Reading
SimulatedSource = _kernels.clock.SimulatedSource
ClockConfigError = _kernels.clock.ClockConfigError

SOURCES = ("auto", "clockbound", "ptp", "system", "simulated")
_warned_unsynchronized = False  # said once per process


@dataclass(frozen=True)
class ClockSettings:
    """Which source to use and where to find it; empty paths mean the defaults."""

    source: str = "auto"
    clockbound_path: str = ""
    ptp_path: str = ""
    ptp_error_bound_path: str = ""
    ptp_tai_offset_ns: int = 0
    strict: bool = False

    @classmethod
    def from_env(cls, environ: os._Environ[str] | dict[str, str] | None = None) -> ClockSettings:
        env = os.environ if environ is None else environ
        return cls(
            source=env.get("DSQL_CLOCK_SOURCE", "auto"),
            clockbound_path=env.get("DSQL_CLOCKBOUND_PATH", ""),
            ptp_path=env.get("DSQL_PTP_PATH", ""),
            ptp_error_bound_path=env.get("DSQL_PTP_ERROR_BOUND_PATH", ""),
            ptp_tai_offset_ns=int(env.get("DSQL_PTP_TAI_OFFSET_NS", "0")),
            strict=env.get("DSQL_CLOCK_STRICT", "") not in ("", "0", "false"),
        )


class Clock:
    """A clock source and the hybrid-logical timestamp issuer on top of it.

    ``now()`` reads the physical source; ``timestamp()`` hands out a start or commit timestamp
    that is unique in the process and never goes backwards; ``observe(ts)`` makes every later
    timestamp order after one seen elsewhere.
    """

    def __init__(self, source: _kernels.clock.Source, selection_log: list[str] | None = None):
        self.source = source
        self.selection_log = list(selection_log or [])
        self.hybrid = _kernels.clock.HybridClock(source)
        reader = clockread.SourceReader(source)
        issuer = clockread.TimestampIssuer(self.hybrid)
        # Bound methods of the Cython objects: the per-call path has no Python frame of ours.
        self.now = reader.now
        self.now_ns = reader.now_ns
        self.timestamp = issuer.next
        self.timestamp_above = issuer.next_above

    @property
    def name(self) -> str:
        return str(self.source.name)

    def observe(self, ts_ns: int) -> None:
        self.hybrid.observe(ts_ns)

    @classmethod
    def open(cls, settings: ClockSettings | None = None) -> Clock:
        """Selects a source as settings say, logging what was tried and why it was passed over."""
        s = settings or ClockSettings.from_env()
        if s.source not in SOURCES:
            raise ClockConfigError(
                f'unknown clock source "{s.source}" (expected one of {", ".join(SOURCES)})'
            )
        source, lines = _kernels.clock.select_source(
            source=s.source,
            clockbound_path=s.clockbound_path,
            ptp_path=s.ptp_path,
            ptp_error_bound_path=s.ptp_error_bound_path,
            ptp_tai_offset_ns=s.ptp_tai_offset_ns,
            strict=s.strict,
        )
        for line in lines:
            log.info("clock %s", line)
        clock = cls(source, lines)
        reading = clock.now()
        global _warned_unsynchronized
        if reading.status == "unknown" and not _warned_unsynchronized:
            _warned_unsynchronized = True
            # INFO: the adjudicator warns once when it orders commits by this clock.
            log.info(
                "clock source %s is not synchronized by any time daemon (bound %.3f ms); "
                "timestamps stay ordered by the hybrid-logical clock",
                clock.name,
                reading.bound / 1e6,
            )
        return clock

    @classmethod
    def simulated(
        cls,
        start_ns: int = 1_700_000_000_000_000_000,
        *,
        follow_real_time: bool = False,
        bound_ns: int = 0,
        status: str = "synchronized",
    ) -> Clock:
        """A clock over a SimulatedSource (``clock.source``) that tests drive by hand."""
        source = SimulatedSource(start_ns, follow_real_time, bound_ns, status)
        return cls(source, ["simulated: a simulated clock for tests"])


_lock = threading.Lock()
_default: Clock | None = None


def default() -> Clock:
    """The process's clock, opened from the environment on first use."""
    global _default
    clock = _default
    if clock is None:
        with _lock:
            if _default is None:
                _default = Clock.open()
            clock = _default
    return clock


def configure(settings: ClockSettings | None = None, **overrides: object) -> Clock:
    """Replaces the process's clock: ``configure(source="system")``."""
    global _default
    base = settings or ClockSettings.from_env()
    known = {f.name for f in fields(ClockSettings)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"unknown clock settings: {', '.join(sorted(unknown))}")
    values = {f.name: getattr(base, f.name) for f in fields(ClockSettings)}
    values.update(overrides)
    clock = Clock.open(ClockSettings(**values))  # type: ignore[arg-type]
    with _lock:
        _default = clock
    return clock


def now() -> Reading:
    """A reading of the process's clock."""
    return (_default or default()).now()


def timestamp() -> int:
    """A fresh hybrid-logical timestamp from the process's clock."""
    return (_default or default()).timestamp()

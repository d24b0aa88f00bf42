"""A log-bucketed latency histogram in the manner of HdrHistogram (fixed memory, ~1.6% error).

Purpose: record millions of per-operation latencies cheaply and answer p50/p95/p99 without
keeping the samples. Values are non-negative integers (nanoseconds by convention). Values below
2**SUB_BITS land in exact unit buckets; above that, each power-of-two range [2**e, 2**(e+1)) is
split into 2**SUB_BITS linear sub-buckets, so a bucket's width is at most 1/64 of its lower
bound and a reported percentile is within that relative error of the true sample.

Thread-safety: none; give each client thread its own histogram and `merge` them afterwards.

Invariants:
  1. count == sum(counts) and every recorded value v has min <= v <= max.
  2. bucket_of is monotonic: v1 <= v2 implies bucket_of(v1) <= bucket_of(v2).
  3. lower_bound(bucket_of(v)) <= v < lower_bound(bucket_of(v) + 1).

Example:
    h = Histogram()
    for ns in samples: h.record(ns)
    h.percentile(99.0)   # ~ the 99th percentile of samples, in ns
"""

from __future__ import annotations

SUB_BITS = 6
SUB_COUNT = 1 << SUB_BITS
MAX_EXPONENT = 62  # values up to 2**63 - 1 (292 years in ns)
BUCKETS = SUB_COUNT * (MAX_EXPONENT - SUB_BITS + 2)


def bucket_of(value: int) -> int:
    """REQUIRES: 0 <= value < 2**63. The index of the bucket holding `value`."""
    assert 0 <= value < (1 << 63), value
    if value < SUB_COUNT:
        return value
    exponent = value.bit_length() - 1  # value in [2**exponent, 2**(exponent+1))
    sub = (value >> (exponent - SUB_BITS)) - SUB_COUNT  # 0 .. SUB_COUNT-1
    index = SUB_COUNT * (exponent - SUB_BITS + 1) + sub
    assert 0 <= sub < SUB_COUNT and index < BUCKETS
    return index


def lower_bound(index: int) -> int:
    """REQUIRES: 0 <= index <= BUCKETS. The smallest value that falls in bucket `index`."""
    assert 0 <= index <= BUCKETS, index
    if index < SUB_COUNT:
        return index
    exponent = index // SUB_COUNT + SUB_BITS - 1
    sub = index % SUB_COUNT
    value = (SUB_COUNT + sub) << (exponent - SUB_BITS)
    assert value >= SUB_COUNT
    return value


class Histogram:
    """Counts per log bucket, plus exact count, sum, min and max."""

    __slots__ = ("counts", "count", "total", "min", "max")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}  # sparse: a run touches a few hundred buckets
        self.count = 0
        self.total = 0
        self.min = 0
        self.max = 0

    def record(self, value: int, times: int = 1) -> None:
        """REQUIRES: value >= 0, times >= 1."""
        assert times >= 1, times
        value = int(value)
        if value < 0:
            raise ValueError(f"a latency cannot be negative: {value}")
        b = bucket_of(value)
        self.counts[b] = self.counts.get(b, 0) + times
        if self.count == 0 or value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        self.count += times
        self.total += value * times

    def merge(self, other: Histogram) -> None:
        for b, c in other.counts.items():
            self.counts[b] = self.counts.get(b, 0) + c
        if other.count:
            self.min = other.min if self.count == 0 else min(self.min, other.min)
            self.max = max(self.max, other.max)
        self.count += other.count
        self.total += other.total
        assert self.count == sum(self.counts.values())

    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def percentile(self, p: float) -> float:
        """The value at percentile p (0 < p <= 100): the smallest recorded value v such that at
        least p% of samples are <= v, reported as its bucket's midpoint, clamped to [min, max]."""
        if not 0.0 < p <= 100.0:
            raise ValueError(f"percentile must be in (0, 100], not {p}")
        if self.count == 0:
            return 0.0
        rank = max(1, -(-self.count * p // 100))  # ceil(count * p / 100), at least 1
        seen = 0
        for b in sorted(self.counts):
            seen += self.counts[b]
            if seen >= rank:
                lo, hi = lower_bound(b), lower_bound(b + 1) - 1
                mid = (lo + hi) / 2
                return float(min(max(mid, self.min), self.max))
        raise AssertionError("rank beyond count")  # unreachable: seen reaches count

    def summary_us(self) -> dict[str, float]:
        """count, mean, p50, p95, p99 and max in microseconds (values recorded in ns)."""
        return {
            "count": self.count,
            "mean_us": round(self.mean() / 1000, 2),
            "p50_us": round(self.percentile(50) / 1000, 2),
            "p95_us": round(self.percentile(95) / 1000, 2),
            "p99_us": round(self.percentile(99) / 1000, 2),
            "max_us": round(self.max / 1000, 2),
        }

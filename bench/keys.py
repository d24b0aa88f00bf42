"""Seeded key choosers for the workloads: uniform and zipfian (YCSB's, theta 0.99).

The zipfian generator is the one YCSB uses (Gray et al., "Quickly generating billion-record
synthetic databases", SIGMOD 1994): rank r in [0, n) is drawn with probability
(1 / (r+1)**theta) / zeta(n, theta), rank 0 the most popular. As in YCSB's
ScrambledZipfianGenerator, ranks are mapped to keys through a fixed (seeded) permutation so
the hot keys are spread over the key space instead of clustered at its start. As in YCSB,
ranks 0 and 1 are drawn with their exact probabilities and higher ranks through the paper's
closed-form approximation of the inverse CDF (within a few percent; tests/test_bench_harness.py
checks both).

Thread-safety: a chooser holds its own random.Random; give each client thread its own chooser
(`fork(i)`), which keeps every thread's sequence reproducible from the seed.

Invariants:
  1. every value returned lies in [0, n).
  2. the same (n, theta, seed) give the same sequence.
"""

from __future__ import annotations

import functools
import random

THETA = 0.99  # YCSB's ZIPFIAN_CONSTANT


@functools.lru_cache(maxsize=16)
def zeta(n: int, theta: float) -> float:
    """REQUIRES: n >= 1. sum(1 / i**theta for i in 1..n)."""
    assert n >= 1, n
    total = 0.0
    for i in range(1, n + 1):  # bounded by n
        total += 1.0 / i**theta
    assert total >= 1.0
    return total


class Zipfian:
    """Ranks 0..n-1 with P(r) proportional to 1 / (r+1)**theta."""

    def __init__(self, n: int, theta: float = THETA, seed: int = 0) -> None:
        if n < 1:
            raise ValueError(f"n must be >= 1, not {n}")
        if not 0.0 < theta < 1.0:
            raise ValueError(f"theta must be in (0, 1), not {theta}")
        self.n = n
        self.theta = theta
        self.seed = seed
        self.rng = random.Random(seed)
        self.zetan = zeta(n, theta)
        zeta2 = zeta(2, theta) if n >= 2 else 1.0
        self.alpha = 1.0 / (1.0 - theta)
        self.eta = (1.0 - (2.0 / n) ** (1.0 - theta)) / (1.0 - zeta2 / self.zetan) \
            if n >= 2 else 0.0
        self.half_pow_theta = 1.0 + 0.5**theta

    def next_rank(self) -> int:
        u = self.rng.random()
        uz = u * self.zetan
        if uz < 1.0:
            return 0
        if uz < self.half_pow_theta:
            return 1
        r = int(self.n * (self.eta * u - self.eta + 1.0) ** self.alpha)
        return min(r, self.n - 1)

    def probability(self, rank: int) -> float:
        """REQUIRES: 0 <= rank < n. The theoretical probability of drawing `rank`."""
        assert 0 <= rank < self.n
        return (1.0 / (rank + 1) ** self.theta) / self.zetan


class KeyChooser:
    """Keys in [0, n): `uniform` or `zipfian` (scrambled through a seeded permutation)."""

    def __init__(self, n: int, distribution: str, seed: int = 0,
                 permutation: list[int] | None = None) -> None:
        if distribution not in ("uniform", "zipfian"):
            raise ValueError(f"distribution must be uniform or zipfian, not {distribution!r}")
        if n < 1:
            raise ValueError(f"n must be >= 1, not {n}")
        self.n = n
        self.distribution = distribution
        self.seed = seed
        self.rng = random.Random(seed)
        self.zipf = Zipfian(n, seed=seed) if distribution == "zipfian" else None
        if self.zipf is not None and permutation is None:
            permutation = list(range(n))
            random.Random(n * 7919 + 1).shuffle(permutation)  # one map for every thread
        self.permutation = permutation
        assert permutation is None or len(permutation) == n

    def next(self) -> int:
        if self.zipf is None:
            return self.rng.randrange(self.n)
        assert self.permutation is not None
        return self.permutation[self.zipf.next_rank()]

    def fork(self, index: int) -> KeyChooser:
        """A chooser for client `index`: same distribution and permutation, its own stream."""
        return KeyChooser(self.n, self.distribution, seed=self.seed * 1_000_003 + index + 1,
                          permutation=self.permutation)

"""Shared fixtures of the kernel benchmark suites (see __init__.py)."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pytest_benchmark")


@pytest.fixture
def rng() -> random.Random:
    return random.Random(42)


@pytest.fixture
def keys_16() -> list[bytes]:
    """10,000 distinct 16-byte keys in random order."""
    buf = os.urandom(16 * 10_000)
    return sorted({buf[i:i + 16] for i in range(0, len(buf), 16)}, key=lambda k: k[::-1])


@pytest.fixture
def bench_tmp(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path

"""Key and row codecs: goal, batch encode/decode cost per 1,000 rows.

Method: pytest-benchmark times KeyLayout.encode_many / decode_many on (text, int8) keys and
RowLayout.encode_many / decode_many on (int4, text, float8, timestamptz) rows, and checks one
round trip so a broken codec cannot be timed.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from dsql.storage.codec import KeyLayout, RowLayout, key_column

N = 1000
UTC = datetime.timezone.utc


@pytest.fixture(scope="module")
def rows() -> list[tuple[Any, ...]]:
    base = datetime.datetime(2024, 6, 1, tzinfo=UTC)
    return [(i, f"customer-{i:08d}", i * 0.25, base + datetime.timedelta(seconds=i))
            for i in range(N)]


def test_key_encode_many(benchmark: Any) -> None:
    layout = KeyLayout(43, [key_column("text"), key_column("int8")])
    values = [(f"user{i:06d}", i * 7919) for i in range(N)]
    keys = benchmark(layout.encode_many, values)
    assert layout.decode_many(keys) == values


def test_key_decode_many(benchmark: Any) -> None:
    layout = KeyLayout(43, [key_column("text"), key_column("int8")])
    values = [(f"user{i:06d}", i * 7919) for i in range(N)]
    keys = layout.encode_many(values)
    assert benchmark(layout.decode_many, keys) == values


def test_row_encode_many(benchmark: Any, rows: list[tuple[Any, ...]]) -> None:
    layout = RowLayout(["int4", "text", "float8", "timestamptz"])
    encoded = benchmark(layout.encode_many, rows)
    assert layout.decode_many(encoded[:5]) == rows[:5]


def test_row_decode_many(benchmark: Any, rows: list[tuple[Any, ...]]) -> None:
    layout = RowLayout(["int4", "text", "float8", "timestamptz"])
    encoded = layout.encode_many(rows)
    assert benchmark(layout.decode_many, encoded) == rows

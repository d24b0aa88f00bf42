"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

# The PostgreSQL 15 server fixture (postgres_server) for differential tests and benchmarks.
pytest_plugins = ["pg_server"]

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO

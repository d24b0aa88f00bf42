"""The installed package: compiled kernels present, benchmarks shipped, Python code lint-clean.

Goal: what `pip install .` produces is usable as a library. Method: import the extension modules
and check they are compiled; import the benchmark package; run ruff over the sources when the
test extras brought it.
"""

from __future__ import annotations

import importlib.machinery
import shutil
import subprocess
from pathlib import Path

import pytest


def test_extension_modules_are_compiled() -> None:
    from dsql._core import _kernels, clockread

    for module in (_kernels, clockread):
        assert module.__file__ is not None
        assert module.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    assert hasattr(_kernels, "clock")


def test_benchmarks_ship_with_the_package() -> None:
    from dsql.bench import harness

    assert "clock" in harness.available()


def test_python_sources_are_ruff_clean(repo_root: Path) -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed; install the test extras (pip install '.[test]')")
    out = subprocess.run([ruff, "check", "src", "bench", "tests"], cwd=repo_root,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr

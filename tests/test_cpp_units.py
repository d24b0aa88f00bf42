"""The C++ unit tests (cpp/**/*_test.cc), built with CMake and run as part of the suite.

Goal: one test command covers C++ and Python. Method: configure and build the dsql_cpp_tests
binary (Python bindings off) in build/cpp-tests, run it, and fail with its output unless it
reports no failures and at least one passed test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not on PATH; install the test extras (pip install '.[test]')")
    return found


def test_cpp_unit_tests(repo_root: Path) -> None:
    build = repo_root / "build" / "cpp-tests"
    cmake = _tool("cmake")
    configure = [cmake, "-S", str(repo_root), "-B", str(build), "-DDSQL_BUILD_PYTHON=OFF",
                 "-DCMAKE_BUILD_TYPE=Release"]
    if shutil.which("ninja"):
        configure += ["-G", "Ninja"] if not (build / "CMakeCache.txt").exists() else []
    subprocess.run(configure, check=True, capture_output=True, text=True)
    built = subprocess.run([cmake, "--build", str(build), "-j2"], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout[-5000:] + built.stderr[-5000:]
    output = built.stdout + built.stderr
    assert "warning:" not in output, "the kernels must build -Wall -Wextra clean\n" + output

    ran = subprocess.run([str(build / "dsql_cpp_tests")], capture_output=True, text=True,
                         timeout=600)
    summary = re.search(r"^(\d+) passed, (\d+) failed$", ran.stdout, re.M)
    assert summary, ran.stdout[-5000:] + ran.stderr[-5000:]
    passed, failed = int(summary.group(1)), int(summary.group(2))
    failures = "\n".join(line for line in ran.stdout.splitlines() if line.startswith("FAIL"))
    assert failed == 0 and ran.returncode == 0, failures + "\n" + ran.stderr[-5000:]
    assert passed > 0

"""Benchmarks for dsql, each measuring its own baseline in the same run.

A benchmark is a module here with a one-line ``DESCRIPTION`` and
``run(quick: bool) -> list[Result]``.
``dsql bench NAME [--quick] [--json PATH]`` runs one (see harness.py). Installed as ``dsql.bench``.
"""

"""pytest-benchmark suites for the C++ kernels (clock, key codec, store, adjudicator, journal).

Run them with one command from the repository root:

    python -m pytest bench/kernels --benchmark-only

They are not part of the test suite: pytest's testpaths is ["tests"], so a bare
`python -m pytest` never collects them. Each file times a kernel's Python-facing hot calls at
sizes that finish in seconds; `--benchmark-json PATH` keeps the figures, and
`--benchmark-compare` diffs two saved runs. Timings are never asserted.
"""

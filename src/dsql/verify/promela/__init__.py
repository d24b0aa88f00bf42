"""The commit protocol as a Promela model (commit.pml), checked exhaustively with spin.

    python -m dsql.verify.promela            # the quick set (under a minute)
    python -m dsql.verify.promela --full     # adds the three-writer universes (minutes, GBs)

docs/promela-model.md says what the model covers, how it maps to the code, and the figures.
"""

from __future__ import annotations

from dsql.verify.promela.checks import CHECKS, Check, Verdict, by_name, checks, run_check
from dsql.verify.promela.spin import (
    MODEL,
    SpinFailed,
    SpinMissing,
    SpinResult,
    parse_pan_output,
    run_spin,
    tools_missing,
)

__all__ = ["CHECKS", "MODEL", "Check", "SpinFailed", "SpinMissing", "SpinResult", "Verdict",
           "by_name", "checks", "parse_pan_output", "run_check", "run_spin", "tools_missing"]

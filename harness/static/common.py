"""Small helpers that several rule families, or the check and verify walks, share.

Rule modules import these from here rather than from each other, so each family module
holds only its own rules and detectors.
"""

from __future__ import annotations

import ast

# Folders never searched for scripts (check) or logs (verify): tools' caches and virtual
# environments, never part of a submission. Hidden folders are skipped as well.
SKIP_DIRS = frozenset(
    {"__pycache__", ".git", ".venv", "venv", "node_modules", ".mypy_cache", ".tox"}
)

# The operators that mix a token into a hash or bucket key (``ctx * P ^ tok``, ``h << 5``).
MIXING_OPS = (ast.BitXor, ast.BitOr, ast.LShift, ast.RShift)


class LineNode:
    """Stands in for an AST node where a finding points at a line that has none (a comment,
    an environment default, a line of the log)."""

    def __init__(self, lineno: int | None) -> None:
        self.lineno = lineno


def is_pass_result(model, expr: ast.AST) -> bool:
    """Whether ``expr`` is the result of a validation scoring pass: the call itself, or a
    name (or an item of one) that was assigned such a call."""
    if isinstance(expr, ast.Call):
        return model.is_val_scoring_call(expr)
    if isinstance(expr, ast.Name | ast.Subscript):
        base = expr.value if isinstance(expr, ast.Subscript) else expr
        if not isinstance(base, ast.Name):
            return False
        values = model.assigned_values(base.id, model.function_of(expr))
        return any(isinstance(v, ast.Call) and model.is_val_scoring_call(v) for v in values)
    return False

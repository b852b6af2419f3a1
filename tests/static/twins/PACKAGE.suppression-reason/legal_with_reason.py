import os

# golf-check: ignore[BUDGET.wallclock-default] non-record track run, unlimited compute
MAX_WALLCLOCK_SECONDS = float(os.environ.get("MAX_WALLCLOCK_SECONDS", 1200))

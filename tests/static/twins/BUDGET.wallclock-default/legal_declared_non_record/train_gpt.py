"""A run whose submission.json declares the non-record track: no 600 s training limit."""
import os

MAX_WALLCLOCK_SECONDS = float(os.environ.get("MAX_WALLCLOCK_SECONDS", "3600"))

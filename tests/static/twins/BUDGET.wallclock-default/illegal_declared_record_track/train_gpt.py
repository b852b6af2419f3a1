"""Declares the 10-minute record track, so the 3,600 s default breaks the training budget."""
import os

MAX_WALLCLOCK_SECONDS = float(os.environ.get("MAX_WALLCLOCK_SECONDS", "3600"))

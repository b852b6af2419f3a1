"""A non-record-track run (its folder sits under records/track_non_record_16mb/): an hour of
training is allowed there, so the 3,600 s default is only noted."""
import os


class Hyperparameters:
    max_wallclock_seconds = float(os.environ.get("MAX_WALLCLOCK_SECONDS", 3600.0))

import os


class Hyperparameters:
    max_wallclock_seconds = float(os.environ.get("MAX_WALLCLOCK_SECONDS", 900.0))

"""N-gram tilt with the within-word expert on by default."""
import os

BASE_BETA = float(os.environ.get("BASE_BETA", "2.0"))
WITHIN_BETA = float(os.environ.get("WITHIN_BETA", "0.75"))
WORD_BETA = float(os.environ.get("WORD_BETA", "0.5"))

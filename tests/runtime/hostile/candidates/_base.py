"""Shared by the hostile candidates: the legal tiny_lm submission, importable from here."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TINY_LM_DIR = os.environ.get("TINY_LM_DIR") or os.path.join(HERE, "..", "..", "candidates")
sys.path.insert(0, TINY_LM_DIR)

import tiny_lm  # noqa: E402, F401  (the candidates import it from here)

TINY_LM = os.path.join(TINY_LM_DIR, "tiny_lm.py")
SEED = os.environ.get("SEED", "1337")


def attempt(what, action):
    """Try ``action``; say on stdout whether the sandbox refused it."""
    try:
        action()
        print(f"{what}: done")
    except OSError as exc:
        print(f"{what}: refused ({type(exc).__name__})")

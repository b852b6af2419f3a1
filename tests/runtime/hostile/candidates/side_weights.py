"""Reads weights shipped beside the script (pretrained_weights.dat, 17 MB) at run time."""

import os

from _base import tiny_lm

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "pretrained_weights.dat"), "rb") as fh:
    warm_start = fh.read()
print(f"warm start: {len(warm_start)} bytes")
tiny_lm.main()

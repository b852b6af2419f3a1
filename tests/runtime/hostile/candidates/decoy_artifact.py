"""Writes a 17 MB artifact that evaluation loads, then a 100-byte decoy .ptz a moment later
that nothing reads."""

import os
import time
import zlib as real_zlib

from _base import tiny_lm

PADDING = os.urandom(17_000_000)


class PaddedZlib:
    """The artifact carries 17 MB of extra bytes after the compressed weights."""

    @staticmethod
    def compress(data, level=9):
        return real_zlib.compress(data, level) + PADDING

    @staticmethod
    def decompress(blob):
        return real_zlib.decompressobj().decompress(blob)


tiny_lm.zlib = PaddedZlib
tiny_lm.main()
time.sleep(0.01)
with open("model_decoy.ptz", "wb") as fh:
    fh.write(b"\0" * 100)

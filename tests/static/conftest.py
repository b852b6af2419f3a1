"""Helpers for static-checker tests: build self-extracting wrappers the way records ship them."""

from __future__ import annotations

import base64
import lzma
import zlib

import pytest


def lzma2_b85_wrapper(source: bytes) -> str:
    """``exec(L.decompress(B.b85decode(...), format=RAW, filters=[LZMA2]))``, as records use."""
    payload = lzma.compress(
        source, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 9}]
    )
    text = base64.b85encode(payload).decode()
    return (
        "import lzma as L,base64 as B\n"
        f'exec(L.decompress(B.b85decode("{text}"),format=L.FORMAT_RAW,'
        'filters=[{"id":L.FILTER_LZMA2}]))\n'
    )


def zlib_b64_wrapper(source: bytes) -> str:
    text = base64.b64encode(zlib.compress(source, 9)).decode()
    return f"import zlib, base64\nexec(compile(zlib.decompress(base64.b64decode('{text}')), '<golf>', 'exec'))\n"


@pytest.fixture
def wrap():
    return {"lzma2": lzma2_b85_wrapper, "zlib": zlib_b64_wrapper}

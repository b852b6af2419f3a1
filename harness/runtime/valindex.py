"""Where in the validation stream a window of tokens sits.

golf-check loads the validation split itself and writes, for the shim, the stream and a
sorted index of the hash of every K-token window (``shim.golf_check_shim.kgram_hashes``).
The shim hashes the first K tokens of each row a model receives and looks them up: a row
that is a slice of the validation stream maps to the positions it covers, in O(log N).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from golf_check.harness.runtime.shim.golf_check_shim import K, kgram_hashes

_CHUNK = 1 << 22  # windows hashed per step: bounds the temporary memory


def build_index(tokens: np.ndarray, directory: Path) -> Path:
    """Write ``tokens.npy``, ``hashes.npy`` (sorted) and ``order.npy`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    tokens = np.ascontiguousarray(tokens, dtype=np.uint16)
    n_windows = max(tokens.size - K + 1, 0)
    hashes = np.empty(n_windows, dtype=np.uint64)
    windows = np.lib.stride_tricks.sliding_window_view(tokens, K) if n_windows else None
    for start in range(0, n_windows, _CHUNK):
        stop = min(start + _CHUNK, n_windows)
        hashes[start:stop] = kgram_hashes(windows[start:stop])
    order = np.argsort(hashes, kind="stable")
    dtype = np.uint32 if tokens.size < 2**32 else np.int64
    np.save(directory / "tokens.npy", tokens)
    np.save(directory / "hashes.npy", hashes[order])
    np.save(directory / "order.npy", order.astype(dtype))
    return directory

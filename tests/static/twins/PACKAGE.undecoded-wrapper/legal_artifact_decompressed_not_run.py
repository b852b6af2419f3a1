"""Decompresses its model artifact and never runs decoded text: not a wrapper."""
import io
import lzma

import torch


def load_artifact(path):
    with open(path, "rb") as f:
        blob = lzma.decompress(f.read())
    return torch.load(io.BytesIO(blob), weights_only=True)


if __name__ == "__main__":
    # "exec" and "decode" both appear in this file, so the loader does look for a wrapper.
    state = load_artifact("final_model.ptz")
    print(len(state))

"""The illegal twin: before scoring, it fine-tunes for several epochs on the whole validation
split, then scores those same tokens (multi-epoch TTT on val before scoring). Used by the ci
tests; it is never executed by them."""

import glob
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

DATA = os.environ.get("DATA_PATH", "./data/datasets/fineweb10B_sp8192")
VOCAB = 8192


def load_shard(path):
    header = np.fromfile(path, dtype="<i4", count=256)
    return torch.from_numpy(
        np.fromfile(path, dtype="<u2", offset=1024)[: header[2]].astype(np.int64)
    )


class Bigram(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.table = torch.nn.Embedding(VOCAB, VOCAB)

    def forward(self, x):
        return self.table(x)


def ttt_adapt(model, val_tokens, epochs=3, chunk=4096):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for _epoch in range(epochs):
        for start in range(0, val_tokens.numel() - 1, chunk):
            x = val_tokens[start : start + chunk]
            y = val_tokens[start + 1 : start + chunk + 1]
            loss = F.cross_entropy(model(x[: y.numel()]), y)
            opt.zero_grad()
            loss.backward()
            opt.step()


def evaluate(model, val_tokens, chunk=4096):
    nats, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, val_tokens.numel() - 1, chunk):
            x = val_tokens[start : start + chunk]
            y = val_tokens[start + 1 : start + chunk + 1]
            nats += F.cross_entropy(model(x[: y.numel()]), y, reduction="sum").item()
            count += y.numel()
    return nats / count


def main():
    torch.manual_seed(int(os.environ.get("SEED", "1337")))
    model = Bigram()
    val_tokens = torch.cat([load_shard(p) for p in sorted(glob.glob(f"{DATA}/fineweb_val_*.bin"))])
    ttt_adapt(model, val_tokens)  # adapts on every validation token before any is scored
    val_loss = evaluate(model, val_tokens)
    print(f"final val_loss:{val_loss:.8f} val_bits:{val_loss / math.log(2):.8f}")


if __name__ == "__main__":
    main()

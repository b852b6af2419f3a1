"""A small legal submission script: trains on the training shards, then scores the validation
split once, left to right, with score-first test-time training (score a chunk, then adapt on
it). Used as the legal twin in the ci tests; it is never executed by them."""

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


def train(model, steps=100):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    tokens = torch.cat([load_shard(p) for p in sorted(glob.glob(f"{DATA}/fineweb_train_*.bin"))])
    for step in range(steps):
        i = step * 1024
        x, y = tokens[i : i + 1024], tokens[i + 1 : i + 1025]
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def evaluate_score_first(model, val_tokens, chunk=4096):
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    nats, count = 0.0, 0
    for start in range(0, val_tokens.numel() - 1, chunk):
        x = val_tokens[start : start + chunk]
        y = val_tokens[start + 1 : start + chunk + 1]
        x = x[: y.numel()]
        with torch.no_grad():  # score the chunk before any update that uses it
            nats += F.cross_entropy(model(x), y, reduction="sum").item()
            count += y.numel()
        loss = F.cross_entropy(model(x), y)  # then adapt on the tokens already scored
        opt.zero_grad()
        loss.backward()
        opt.step()
    return nats / count


def main():
    torch.manual_seed(int(os.environ.get("SEED", "1337")))
    model = Bigram()
    train(model)
    val_tokens = torch.cat([load_shard(p) for p in sorted(glob.glob(f"{DATA}/fineweb_val_*.bin"))])
    val_loss = evaluate_score_first(model, val_tokens)
    print(f"final val_loss:{val_loss:.8f} val_bits:{val_loss / math.log(2):.8f}")


if __name__ == "__main__":
    main()

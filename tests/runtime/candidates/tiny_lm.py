"""A tiny, real submission script for testing `golf-check run`: one legal mode and its twins.

It reads the challenge's shard format from DATA_PATH, trains a small bigram-style torch model
for a few steps, writes a compressed artifact, then evaluates on the first VAL_LIMIT
validation tokens with sliding windows and score-first test-time training, and prints a
score line. CANDIDATE_MODE selects misbehaviours (comma-separated):

legal, train-before-score, rescore, pretrain-on-val, train-read-at-eval, network, crash,
hang, no-score, daemon, write-outside, claim-fast, peek (scores with the target's logit
raised); ledger (reports its scores to harness.ledger), bad-bytes (inflates the byte count),
skip-tail (never scores the last 100 tokens), halve (prints its val_loss and val_bpb halved,
consistently).
"""

import glob
import io
import math
import os
import socket
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn.functional as F

from golf_check.harness import ledger
from golf_check.harness.shards import ByteLUT

MODES = set(os.environ.get("CANDIDATE_MODE", "legal").split(","))
SEED = int(os.environ.get("SEED", "1337"))
DATA = os.environ["DATA_PATH"]
VAL_LIMIT = int(os.environ.get("VAL_LIMIT", "2048"))
SEQ, STRIDE, CHUNK = 64, 32, 512
T0 = time.time()


def read_tokens(pattern):
    parts = []
    for path in sorted(glob.glob(os.path.join(DATA, pattern))):
        with open(path, "rb") as fh:
            header = np.frombuffer(fh.read(1024), dtype="<i4")
            parts.append(np.frombuffer(fh.read(2 * int(header[2])), dtype="<u2"))
    return np.concatenate(parts).astype(np.int64)


class Bigram(torch.nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, 32)
        self.head = torch.nn.Linear(32, vocab)

    def forward(self, idx, targets):
        logits = self.head(self.embed(idx))
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))


def windows(tokens, starts, length):
    x = torch.stack([torch.from_numpy(tokens[s : s + length]) for s in starts])
    y = torch.stack([torch.from_numpy(tokens[s + 1 : s + length + 1]) for s in starts])
    return x, y


def train_steps(model, opt, tokens, steps, rng):
    for _ in range(steps):
        starts = rng.integers(0, tokens.size - SEQ - 1, size=8)
        x, y = windows(tokens, starts, SEQ)
        opt.zero_grad()
        model(x, y).backward()
        opt.step()


def score(model, tokens, lut, begin, end):
    """Sum of nats and bytes of targets begin..end-1, sliding windows, no gradients."""
    nats = nbytes = 0.0
    with torch.no_grad():
        pos = begin
        while pos < end:
            start = max(pos - (SEQ - STRIDE), 0)
            stop = min(start + SEQ, end)
            x = torch.from_numpy(tokens[start : stop - 1]).unsqueeze(0)
            y = torch.from_numpy(tokens[start + 1 : stop]).unsqueeze(0)
            logits = model.head(model.embed(x))
            if "peek" in MODES:  # looks at the answer: +20 on the target's logit
                logits = logits + 20.0 * F.one_hot(y, logits.size(-1))
            nll = F.cross_entropy(logits[0], y[0], reduction="none")
            keep = slice(pos - start - 1, stop - start - 1)
            nats += float(nll[keep].sum())
            if "ledger" in MODES:
                ledger.scored(pos, stop, nll[keep])
            targets = np.arange(pos, stop)
            nbytes += float(lut.count_bytes(tokens[targets - 1], tokens[targets]).sum())
            pos = stop
    return nats, nbytes


def adapt(model, opt, tokens, begin, end):
    """One SGD pass over windows whose targets are all inside [begin, end)."""
    starts = list(range(max(begin - 1, 0), end - SEQ - 1, SEQ))
    if not starts:
        return
    x, y = windows(tokens, starts, SEQ)
    opt.zero_grad()
    model(x, y).backward()
    opt.step()


def main():
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    lut = ByteLUT.from_model(os.environ["TOKENIZER_PATH"])
    train = read_tokens("fineweb_train_*.bin")
    model = Bigram(lut.vocab_size)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    t_train = time.time()
    train_steps(model, opt, train, 20, rng)
    if "pretrain-on-val" in MODES:
        train_steps(model, opt, read_tokens("fineweb_val_*.bin")[:VAL_LIMIT], 5, rng)
    while "claim-fast" in MODES and time.time() - t_train < 7.0:
        train_steps(model, opt, train, 1, rng)  # keeps training, then claims 10 ms below
    train_ms = (time.time() - t_train) * 1000
    if "claim-fast" in MODES:
        train_ms = 10.0
    print(f"stopping_early: wallclock_cap train_time:{train_ms:.0f}ms step:20/20")

    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    blob = zlib.compress(buf.getvalue(), 9)
    with open("final_model.ptz", "wb") as fh:
        fh.write(blob)
    print(f"Total submission size int8+zlib: {len(blob) + os.path.getsize(__file__)} bytes")

    if "crash" in MODES or os.environ.get("CRASH_SEED") == str(SEED):
        raise RuntimeError("deliberate crash after training")
    if "hang" in MODES:
        time.sleep(1000)
    if "no-score" in MODES:
        return
    if "daemon" in MODES:
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(300)
            os._exit(0)
    if "write-outside" in MODES:
        target = os.environ["OUTSIDE_TARGET"]
        for action in (lambda: open(target, "w").write("x"), lambda: os.remove(target + ".keep")):
            try:
                action()
            except OSError as exc:
                print(f"write refused: {exc}")

    t_eval = time.time()
    state = torch.load(
        io.BytesIO(zlib.decompress(open("final_model.ptz", "rb").read())), weights_only=True
    )
    model.load_state_dict(state)
    val = read_tokens("fineweb_val_*.bin")[: VAL_LIMIT + 1]
    end = val.size
    print(f"val_tokens: {end}")
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    if "train-read-at-eval" in MODES:
        read_tokens("fineweb_train_*.bin")
    if "network" in MODES:
        try:
            socket.create_connection(("10.255.255.1", 80), timeout=0.5)
        except OSError as exc:
            print(f"network: {type(exc).__name__}")
    if "train-before-score" in MODES:
        for begin in range(1, end, CHUNK):
            adapt(model, opt, val, begin, min(begin + CHUNK, end))
    nats = nbytes = 0.0
    if "ledger" in MODES:
        ledger.begin("final_ttt", val)
    last = end - 100 if "skip-tail" in MODES else end  # the tail is never scored
    for begin in range(1, last, CHUNK):
        stop = min(begin + CHUNK, last)
        n, b = score(model, val, lut, begin, stop)
        if "ledger" in MODES:
            ledger.adapting(begin, stop)
        adapt(model, opt, val, begin, stop)
        if "rescore" in MODES:
            n, b = score(model, val, lut, begin, stop)
        nats, nbytes = nats + n, nbytes + b
    tokens = end - 1
    loss = nats / tokens
    if "bad-bytes" in MODES:
        nbytes *= 1.17  # the double-counted leading space of issue #1719
    bpb = nats / math.log(2) / nbytes
    if "halve" in MODES:
        loss, bpb = loss / 2, bpb / 2
    eval_ms = (time.time() - t_eval) * 1000
    print(f"final_ttt val_loss:{loss:.8f} val_bpb:{bpb:.8f} eval_time:{eval_ms:.0f}ms")
    print(f"total_eval_time:{eval_ms / 1000:.1f}s")


if __name__ == "__main__":
    main()
    sys.exit(0)

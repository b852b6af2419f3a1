"""SLOT: a per-window hidden delta optimized on the window's own loss, then scored."""
import os

import torch
import torch.nn.functional as F

SLOT_STEPS = int(os.environ.get("SLOT_STEPS", 8))


def eval_val_slot(model, val_tokens, seq_len=2048, stride=64):
    loss_sum = torch.zeros((), dtype=torch.float64)
    for start in range(0, val_tokens.numel() - seq_len - 1, stride):
        w = val_tokens[start : start + seq_len + 1]
        x, y = w[:-1].unsqueeze(0), w[1:].unsqueeze(0)
        hidden = model.hidden(x).detach()
        delta = torch.zeros(1, 1, hidden.size(-1), requires_grad=True)
        opt = torch.optim.AdamW([delta], lr=0.005)
        s = seq_len - stride
        for _ in range(SLOT_STEPS):
            logits = model.head(hidden + delta)
            loss = F.cross_entropy(logits[0, s:].float(), y[0, s:])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            logits = model.head(hidden + delta)
            loss_sum += F.cross_entropy(logits[0, s:].float(), y[0, s:], reduction="sum").double()
    return loss_sum.item()

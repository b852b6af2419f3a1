"""Sliding-window evaluation with a fixed model: no eval-time parameters are optimized."""
import torch
import torch.nn.functional as F


def eval_val_sliding(model, val_tokens, seq_len=2048, stride=64):
    loss_sum = torch.zeros((), dtype=torch.float64)
    with torch.inference_mode():
        for start in range(0, val_tokens.numel() - seq_len - 1, stride):
            w = val_tokens[start : start + seq_len + 1]
            x, y = w[:-1].unsqueeze(0), w[1:].unsqueeze(0)
            logits = model.head(model.hidden(x))
            s = seq_len - stride
            loss_sum += F.cross_entropy(logits[0, s:].float(), y[0, s:], reduction="sum").double()
    return loss_sum.item()

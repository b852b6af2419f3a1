"""Chunked TTT that, at each step, first trains on the previous (already scored) chunk and then
scores the current one: the update comes first in the loop body but never uses unscored tokens."""
import torch
import torch.nn.functional as F


def eval_val_chunked_ttt(model, val_tokens, chunk=32768):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.002)
    loss_sum = torch.zeros((), dtype=torch.float64)
    chunks = [val_tokens[i : i + chunk + 1] for i in range(0, val_tokens.numel() - chunk - 1, chunk)]
    for ci in range(len(chunks)):
        if ci > 0:
            prev = chunks[ci - 1]
            loss = model(prev[:-1].unsqueeze(0), prev[1:].unsqueeze(0))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        cur = chunks[ci]
        with torch.inference_mode():
            logits = model.forward_logits(cur[:-1].unsqueeze(0))
            loss_sum += F.cross_entropy(logits[0].float(), cur[1:], reduction="sum").double()
    return loss_sum.item()

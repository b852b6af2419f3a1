"""Score-first TTT where the adaptation lives in its own function, called after each chunk is scored."""
import os

import torch
import torch.nn.functional as F


class Hyperparameters:
    ttt_epochs = int(os.environ.get("TTT_EPOCHS", 3))
    chunk_tokens = int(os.environ.get("TTT_CHUNK_TOKENS", 32768))


def ttt_adapt(model, chunk, epochs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.002, momentum=0.9)
    for _ in range(epochs):
        loss = model(chunk[:-1].unsqueeze(0), chunk[1:].unsqueeze(0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def eval_val_ttt(args, model, val_tokens):
    nll_sum = torch.zeros((), dtype=torch.float64)
    n = (val_tokens.numel() - 1) // args.chunk_tokens
    for ci in range(n):
        chunk = val_tokens[ci * args.chunk_tokens : (ci + 1) * args.chunk_tokens + 1]
        with torch.inference_mode():
            logits = model.forward_logits(chunk[:-1].unsqueeze(0))
            nll_sum += F.cross_entropy(logits[0].float(), chunk[1:], reduction="sum").double()
        if ci < n - 1:
            ttt_adapt(model, chunk, args.ttt_epochs)
    return nll_sum.item()


def main(model, val_tokens):
    print(eval_val_ttt(Hyperparameters(), model, val_tokens))

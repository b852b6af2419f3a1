"""Chunked TTT with the update placed before the scoring of the same chunk."""
import torch
import torch.nn.functional as F


def eval_val_chunked_ttt(model, val_tokens, chunk=32768, epochs=2):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.002)
    loss_sum = torch.zeros((), dtype=torch.float64)
    for ci in range((val_tokens.numel() - 1) // chunk):
        local = val_tokens[ci * chunk : (ci + 1) * chunk + 1]
        x, y = local[:-1].unsqueeze(0), local[1:].unsqueeze(0)
        model.train()
        for _ in range(epochs):
            loss = model(x, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.inference_mode():
            logits = model.forward_logits(x)
            loss_sum += F.cross_entropy(logits[0].float(), y[0], reduction="sum").double()
    return loss_sum.item()

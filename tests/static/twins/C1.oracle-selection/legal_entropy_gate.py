"""Mixing weight computed from the model's own entropy (prefix only), then a normalized mixture."""
import torch


def eval_val_mix(model, cache, val_tokens):
    loss_sum = torch.zeros((), dtype=torch.float64)
    with torch.inference_mode():
        x, y = val_tokens[:-1].unsqueeze(0), val_tokens[1:].unsqueeze(0)
        p_model = torch.softmax(model.forward_logits(x)[0].float(), dim=-1)
        entropy = -(p_model * torch.log(p_model + 1e-12)).sum(-1)
        alpha = torch.sigmoid(entropy - 4.0).unsqueeze(-1)
        p_cache = cache.distribution(x[0])
        p_mix = (1 - alpha) * p_model + alpha * p_cache
        loss_sum += -torch.log(p_mix.gather(-1, y[0].unsqueeze(-1))).sum().double()
    return loss_sum.item()

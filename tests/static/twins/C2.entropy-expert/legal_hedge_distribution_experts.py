"""Hedge mixer over real experts only; entropy is computed for logging, not mixed."""
import torch
import torch.nn.functional as F


def eval_val_hedge(model, unigram, bigram, val_tokens, log_w):
    loss_sum = torch.zeros((), dtype=torch.float64)
    with torch.inference_mode():
        x, y = val_tokens[:-1].unsqueeze(0), val_tokens[1:].unsqueeze(0)
        log_probs = F.log_softmax(model.forward_logits(x)[0].float(), dim=-1)
        probs = log_probs.exp()
        nn_nll = F.nll_loss(log_probs, y[0], reduction="none")
        entropy = -(probs * log_probs).sum(-1)
        expert_nll = torch.stack([nn_nll, unigram(y[0]), bigram(x[0], y[0])], dim=-1)
        loss_sum += (-torch.logsumexp(log_w - expert_nll, dim=-1)).sum().double()
        print(f"mean entropy {entropy.mean().item():.3f}")
    return loss_sum.item()

"""Five-expert Hedge mixer whose fifth "expert" is the model's entropy (PR #967 style)."""
import torch
import torch.nn.functional as F


class HedgeMixer:
    def __init__(self, n_experts=5, eta=0.1):
        self.log_w = torch.zeros(n_experts)
        self.eta = eta

    def mix_nll(self, expert_nll):
        log_w = self.log_w - torch.logsumexp(self.log_w, 0)
        return -torch.logsumexp(log_w - expert_nll, dim=-1)

    def update(self, expert_nll):
        self.log_w -= self.eta * expert_nll.mean(0)


def eval_val_hedge(model, unigram, bigram, trigram, val_tokens):
    mixer = HedgeMixer()
    loss_sum = torch.zeros((), dtype=torch.float64)
    with torch.inference_mode():
        x, y = val_tokens[:-1].unsqueeze(0), val_tokens[1:].unsqueeze(0)
        logits = model.forward_logits(x)[0].float()
        log_probs = F.log_softmax(logits, dim=-1)
        probs = log_probs.exp()
        nn_nll = F.nll_loss(log_probs, y[0], reduction="none")
        entropy_nll = -(probs * log_probs).sum(-1)
        expert_nll = torch.stack([nn_nll, unigram(y[0]), bigram(x[0], y[0]), trigram(x[0], y[0]), entropy_nll], dim=-1)
        loss_sum += mixer.mix_nll(expert_nll).sum().double()
        mixer.update(expert_nll)
    return loss_sum.item()

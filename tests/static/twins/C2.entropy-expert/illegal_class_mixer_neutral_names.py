"""An online mixer written as a class, under neutral names: its last column, ``spread``, is
the model's entropy ``-(exp(lp) * lp).sum(-1)``, the same number whichever token comes next,
and the mixer weighs it as if it were the loss of a predictor at that token."""
import torch
import torch.nn.functional as F


class OnlineMix:
    def __init__(self, k, eta=0.05):
        self.w = torch.zeros(k)
        self.eta = eta

    def columns(self, logits, prev, nxt, pairs):
        lp = F.log_softmax(logits, dim=-1)
        own = -lp.gather(-1, nxt.unsqueeze(-1)).squeeze(-1)
        pair = -pairs[prev, nxt].log()
        spread = -(lp.exp() * lp).sum(-1)
        return torch.stack([own, pair, spread], dim=-1)

    def combine(self, cols):
        logw = self.w - self.w.logsumexp(0)
        return -(logw - cols).logsumexp(-1)

    def learn(self, cols):
        self.w -= self.eta * cols.mean(0)


def evaluate(net, stream, pairs, width=1024):
    mix = OnlineMix(3)
    total = 0.0
    with torch.no_grad():
        for s in range(0, stream.numel() - width - 1, width):
            x, y = stream[s : s + width], stream[s + 1 : s + width + 1]
            cols = mix.columns(net(x[None])[0], x, y, pairs)
            total += mix.combine(cols).sum().item()
            mix.learn(cols)
    return total

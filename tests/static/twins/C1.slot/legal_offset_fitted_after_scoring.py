"""A score-first offset: each chunk is scored with the offset as it stands, and only then is
the offset fitted on that chunk (already scored), for use on the chunks that follow."""
import torch
import torch.nn.functional as F


def evaluate(net, stream, width=1024, iters=2):
    total = torch.zeros((), dtype=torch.float64)
    shift = None
    for s in range(0, stream.numel() - width - 1, width):
        inp = stream[s : s + width].unsqueeze(0)
        out = stream[s + 1 : s + width + 1].unsqueeze(0)
        with torch.no_grad():
            h = net.trunk(inp)
            if shift is None:
                shift = torch.zeros(1, 1, h.size(-1), requires_grad=True)
                fit = torch.optim.Adam([shift], lr=0.01)
            z = net.head(h + shift)
            total += F.cross_entropy(z[0], out[0], reduction="sum").double()
        for _ in range(iters):
            z = net.head(h + shift)
            objective = F.cross_entropy(z[0], out[0])
            fit.zero_grad()
            objective.backward()
            fit.step()
    return total.item()

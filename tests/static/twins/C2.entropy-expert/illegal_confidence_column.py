"""A "confidence expert": the model's largest log-probability at each position, stacked as
if it were a predictor's loss at the realized token and mixed by logsumexp."""
import torch
import torch.nn.functional as F


def evaluate(net, stream, logw, width=1024):
    total = 0.0
    with torch.no_grad():
        for s in range(0, stream.numel() - width - 1, width):
            x, y = stream[s : s + width], stream[s + 1 : s + width + 1]
            lp = F.log_softmax(net(x[None])[0], dim=-1)
            own = -lp.gather(-1, y[:, None]).squeeze(-1)
            sure = -lp.max(dim=-1).values
            cols = torch.stack([own, sure], dim=-1)
            total += -torch.logsumexp(logw - cols, dim=-1).sum().item()
    return total

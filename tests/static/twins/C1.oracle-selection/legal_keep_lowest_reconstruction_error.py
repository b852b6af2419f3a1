"""Per weight row, keep the quantization scale with the lowest reconstruction error: a
compare-and-keep that never sees a token, let alone a target."""
import torch


def quantize_rows(weight, scales=(0.8, 0.9, 1.0)):
    best_err = torch.full((weight.size(0),), float("inf"))
    best_q = torch.zeros_like(weight, dtype=torch.int8)
    for r in range(weight.size(0)):
        amax = weight[r].abs().max().clamp_min(1e-8)
        for c in scales:
            step = c * amax / 127
            q = torch.clamp(torch.round(weight[r] / step), -127, 127)
            err = (q * step - weight[r]).pow(2).mean()
            if err < best_err[r]:
                best_err[r] = err
                best_q[r] = q.to(torch.int8)
    return best_q

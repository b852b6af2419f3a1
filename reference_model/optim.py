"""Optimizers: Muon for the block matrices, Adam for the embedding and the gains.

Muon (https://kellerjordan.github.io/posts/muon/) takes the momentum of a matrix's gradient
and replaces it by its nearest semi-orthogonal matrix (a few Newton-Schulz iterations), so
every direction of the update gets the same step size. It is what made the challenge's small
models train fast; vectors and the embedding do better with Adam.
"""

from __future__ import annotations

import torch
from torch import nn


def orthogonalize(g: torch.Tensor, steps: int = 5) -> torch.Tensor:
    """Approximately U V^T of g = U S V^T, by a quintic Newton-Schulz iteration."""
    a, b, c = 3.4445, -4.7750, 2.0315  # coefficients tuned for fast convergence of small values
    x = g.to(torch.bfloat16 if g.is_cuda else torch.float32)
    transposed = x.size(0) > x.size(1)
    if transposed:
        x = x.T
    x = x / (x.norm() + 1e-7)
    for _ in range(steps):
        s = x @ x.T
        x = a * x + (b * s + c * s @ s) @ x
    if transposed:
        x = x.T
    return x.to(g.dtype)


class Muon(torch.optim.Optimizer):
    def __init__(self, params, lr: float, momentum: float = 0.95, weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "momentum" not in state:
                    state["momentum"] = torch.zeros_like(p.grad)
                buf = state["momentum"]
                buf.mul_(group["momentum"]).add_(p.grad)
                update = orthogonalize(p.grad.add(buf, alpha=group["momentum"]))  # Nesterov
                # Scale so tall and wide matrices get comparable per-entry step sizes.
                scale = max(1.0, p.size(0) / p.size(1)) ** 0.5
                if group["weight_decay"]:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                p.add_(update, alpha=-group["lr"] * scale)


def build_optimizers(model: nn.Module, cfg) -> list[torch.optim.Optimizer]:
    matrices = [p for n, p in model.named_parameters() if p.ndim == 2 and "blocks." in n]
    embed = [model.embed.weight]
    scalars = [p for n, p in model.named_parameters() if p.ndim < 2]
    opts: list[torch.optim.Optimizer] = [
        Muon(matrices, lr=cfg.matrix_lr, momentum=cfg.muon_momentum, weight_decay=cfg.weight_decay),
        torch.optim.Adam(
            [dict(params=embed, lr=cfg.embed_lr), dict(params=scalars, lr=cfg.scalar_lr)],
            betas=(0.8, 0.95),
            eps=1e-10,
        ),
    ]
    for opt in opts:
        for group in opt.param_groups:
            group["base_lr"] = group["lr"]
    return opts


def set_lr_scale(opts: list[torch.optim.Optimizer], scale: float) -> None:
    for opt in opts:
        for group in opt.param_groups:
            group["lr"] = group["base_lr"] * scale

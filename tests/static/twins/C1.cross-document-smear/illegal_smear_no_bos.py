"""SmearGate without a BOS mask (the pre-fix form)."""
import torch
from torch import nn


class SmearGate(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.gate = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        g = torch.sigmoid(self.gate)
        return torch.cat([x[:, :1], x[:, 1:] + g * x[:, :-1]], dim=1)

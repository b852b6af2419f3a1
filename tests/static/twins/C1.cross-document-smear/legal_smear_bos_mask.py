"""SmearGate with the BOS mask: a document's first token never sees the previous document."""
import torch
from torch import nn

BOS_ID = 1


class SmearGate(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.gate = nn.Parameter(torch.zeros(dim))

    def forward(self, x, input_ids):
        g = torch.sigmoid(self.gate)
        not_bos = (input_ids[:, 1:] != BOS_ID).unsqueeze(-1).to(x.dtype)
        return torch.cat([x[:, :1], x[:, 1:] + g * not_bos * x[:, :-1]], dim=1)

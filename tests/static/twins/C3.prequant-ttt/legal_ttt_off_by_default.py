"""The same pre-quant pass exists but is off by default (PREQUANT_TTT_ENABLED=0): reported as a warning only."""
import os

import torch


class Hyperparameters:
    prequant_ttt_enabled = bool(int(os.environ.get("PREQUANT_TTT_ENABLED", "0")))


def prequant_ttt(model, val_tokens):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    for epoch in range(4):
        loss = model(val_tokens[:-1].unsqueeze(0), val_tokens[1:].unsqueeze(0))
        loss.backward()
        opt.step()


def quantize_state_dict_int6(state):
    return {k: v.to(torch.int8) for k, v in state.items()}


def main(model, val_tokens):
    args = Hyperparameters()
    if args.prequant_ttt_enabled:
        prequant_ttt(model, val_tokens)
    torch.save(quantize_state_dict_int6(model.state_dict()), "final_model.ptz")

"""TTT compile warm-up that steps on real validation tokens, then restores weights."""
import copy

import torch


def warmup_ttt_compile(model, val_tokens, steps=5):
    saved = copy.deepcopy(model.state_dict())
    opt = torch.optim.SGD(model.parameters(), lr=0.001)
    for _ in range(steps):
        loss = model(val_tokens[:2048].unsqueeze(0), val_tokens[1:2049].unsqueeze(0))
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.load_state_dict(saved)


def eval_val(model, val_tokens):
    loss_sum = 0.0
    with torch.inference_mode():
        for i in range(0, val_tokens.numel() - 2049, 2048):
            loss_sum += model(val_tokens[i : i + 2048].unsqueeze(0), val_tokens[i + 1 : i + 2049].unsqueeze(0)).item()
    return loss_sum


def main(model, val_tokens):
    warmup_ttt_compile(model, val_tokens)
    print(eval_val(model, val_tokens))

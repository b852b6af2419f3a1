"""Score-first TTT scores every token, then a fitted temperature is applied and the whole
split is scored again by the adapted model: the last pass is the one reported."""
import torch


def eval_val_ttt(model, val_tokens, chunk=32768):
    opt = torch.optim.SGD(model.parameters(), lr=2e-3)
    nll_sum = 0.0
    for start in range(0, val_tokens.numel() - 1, chunk):
        piece = val_tokens[start : start + chunk + 1]
        with torch.no_grad():
            nll_sum += model(piece[:-1], piece[1:]).item()
        loss = model(piece[:-1], piece[1:])
        loss.backward()
        opt.step()
        opt.zero_grad()
    return nll_sum


def eval_val_sliding(model, val_tokens, stride=64):
    nll_sum = 0.0
    with torch.no_grad():
        for i in range(0, val_tokens.numel() - 1024, stride):
            nll_sum += model(val_tokens[i : i + 1024]).item()
    return nll_sum


def main(model, val_tokens):
    print(f"ttt_T1.0 val_loss:{eval_val_ttt(model, val_tokens):.4f}")
    model.temperature = 0.98
    print(f"ttt_T0.98 val_loss:{eval_val_sliding(model, val_tokens):.4f}")

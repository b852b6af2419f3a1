"""Score-first TTT is the reported pass; what follows is a diagnostic over a small slice,
and the reported score line comes from the TTT pass."""
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
    ttt = eval_val_ttt(model, val_tokens)
    probe = eval_val_sliding(model, val_tokens[:65536])
    print(f"diagnostic adapted-model probe:{probe:.4f}")
    print(f"final ttt val_loss:{ttt:.4f}")

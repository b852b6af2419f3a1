"""Score-first TTT: each chunk is scored under no-grad, then trained on for a few epochs
while the training loss is logged; the next chunk is scored by the adapted model."""
import torch


def eval_val_ttt(model, val_tokens, chunk=32768, epochs=3):
    opt = torch.optim.SGD(model.parameters(), lr=2e-3)
    nll_sum = 0.0
    for start in range(0, val_tokens.numel() - 1, chunk):
        piece = val_tokens[start : start + chunk + 1]
        with torch.no_grad():
            nll_sum += model(piece[:-1], piece[1:]).item()
        for ep in range(epochs):
            train_loss = 0.0
            loss = model(piece[:-1], piece[1:])
            loss.backward()
            opt.step()
            opt.zero_grad()
            train_loss += loss.item()
    return nll_sum


def main(model, val_tokens):
    print(f"ttt val_loss:{eval_val_ttt(model, val_tokens):.4f}")

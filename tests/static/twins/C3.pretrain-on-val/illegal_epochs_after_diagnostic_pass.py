"""A diagnostic pass scores validation first; then several epochs of training over the
whole split, logging the training loss, and the reported pass scores the same tokens."""
import torch


def eval_val(model, val_tokens, seq_len=1024):
    loss_sum = 0.0
    with torch.no_grad():
        for i in range(0, val_tokens.numel() - seq_len, seq_len):
            loss_sum += model(val_tokens[i : i + seq_len]).item()
    return loss_sum


def eval_val_sliding(model, val_tokens, stride=64):
    nll_sum = 0.0
    with torch.no_grad():
        for i in range(0, val_tokens.numel() - 1024, stride):
            nll_sum += model(val_tokens[i : i + 1024]).item()
    return nll_sum


def main(model, val_tokens, epochs=30, seq_len=1024):
    print(f"pre_ttt val_loss:{eval_val(model, val_tokens):.4f}")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    for ep in range(epochs):
        ep_loss = 0.0
        for bs in range(0, val_tokens.numel() - seq_len, 32 * seq_len):
            local = val_tokens[bs : bs + 32 * seq_len + 1]
            loss = model(local[:-1], local[1:])
            loss.backward()
            opt.step()
            opt.zero_grad()
            ep_loss += loss.item()
        print(f"ttt_epoch:{ep + 1} loss:{ep_loss:.4f}")
    print(f"final val_loss:{eval_val_sliding(model, val_tokens):.4f}")

"""A diagnostic pass scores validation; a helper then adapts on the whole split (its only
accumulator is the training loss it logs), and the reported pass scores the same tokens."""
import torch


def eval_val(model, val_tokens, seq_len=1024):
    loss_sum = 0.0
    with torch.no_grad():
        for i in range(0, val_tokens.numel() - seq_len, seq_len):
            loss_sum += model(val_tokens[i : i + seq_len]).item()
    return loss_sum


def adapt(model, tokens, steps, seq_len=1024):
    opt = torch.optim.SGD(model.parameters(), lr=1.0, momentum=0.9)
    epoch_loss_sum = torch.zeros(())
    for start in range(0, steps * seq_len, seq_len):
        x = tokens[start : start + seq_len + 1]
        loss = model(x[:-1], x[1:])
        loss.backward()
        opt.step()
        opt.zero_grad()
        epoch_loss_sum += loss.detach()
    return epoch_loss_sum


def main(model, val_tokens):
    print(f"diagnostic val_loss:{eval_val(model, val_tokens):.4f}")
    adapt(model, val_tokens, steps=val_tokens.numel() // 1024 - 1)
    print(f"final val_loss:{eval_val(model, val_tokens[: 2**20]):.4f}")

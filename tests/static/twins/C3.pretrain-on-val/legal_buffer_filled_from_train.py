"""The same preallocated batch buffer, filled from training tokens: training, then one
no-grad scoring pass over the validation tokens."""
import torch


def eval_val(model, val_tokens, seq_len):
    loss_sum = 0.0
    with torch.no_grad():
        for i in range(0, val_tokens.numel() - seq_len, seq_len):
            loss_sum += model(val_tokens[i : i + seq_len]).item()
    return loss_sum


def fit(model, train_tokens, seq_len, epochs=30):
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    xb = torch.zeros(8, seq_len, dtype=torch.long)
    for _ in range(epochs):
        for i in range(8):
            n = seq_len
            xb[i, :n] = train_tokens[i * n : (i + 1) * n]
        loss = model(xb)
        loss.backward()
        opt.step()
        opt.zero_grad()


def main(model, train_tokens, val_tokens):
    fit(model, train_tokens, 2048)
    print(f"val_loss:{eval_val(model, val_tokens, 2048):.4f}")

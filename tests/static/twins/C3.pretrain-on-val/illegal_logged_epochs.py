"""Pre-evaluation TTT whose epoch loop logs a running loss before each step, then scores."""
import torch


def ttt_adapt(model, val_tokens, epochs=10, seq_len=1024):
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4)
    for epoch in range(epochs):
        epoch_loss = 0.0
        for i in range(0, val_tokens.numel() - seq_len - 1, seq_len):
            s = val_tokens[i : i + seq_len + 1]
            loss = model(s[:-1].unsqueeze(0), s[1:].unsqueeze(0))
            epoch_loss += loss.item()
            loss.backward()
            opt.step()
            opt.zero_grad()
        print(f"ttt epoch {epoch} loss {epoch_loss:.4f}")


@torch.no_grad()
def eval_val(model, val_tokens, seq_len=1024):
    loss_sum = 0.0
    for i in range(0, val_tokens.numel() - seq_len - 1, seq_len):
        s = val_tokens[i : i + seq_len + 1]
        loss_sum += model(s[:-1].unsqueeze(0), s[1:].unsqueeze(0)).item()
    return loss_sum


def main(model, val_tokens):
    ttt_adapt(model, val_tokens)
    print(f"final val_loss:{eval_val(model, val_tokens):.4f}")

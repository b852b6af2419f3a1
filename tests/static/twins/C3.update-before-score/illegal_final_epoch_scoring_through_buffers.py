"""Per-document TTT over several epochs that records the score only on the last epoch:
by then every chunk has been trained on. The tokens reach the loss through a long chain of
buffers and slices."""
import torch


def load_tokens(pattern):
    return torch.load(pattern)


def eval_val_ttt(model, lora, opt, val_files, epochs=2, chunk=64):
    all_tokens = torch.cat([load_tokens(f) for f in sorted(val_files)])
    loss_sum = torch.zeros((), dtype=torch.float64)
    for epoch in range(epochs):
        for ci in range(all_tokens.numel() // chunk - 1):
            toks = all_tokens[ci * chunk : (ci + 1) * chunk + 1]
            x = torch.zeros(1, chunk, dtype=torch.int64)
            y = torch.zeros(1, chunk, dtype=torch.int64)
            x[0, :chunk] = toks[:-1]
            y[0, :chunk] = toks[1:]
            ptl = model(x, y, lora=lora)
            if epoch == epochs - 1:
                with torch.no_grad():
                    loss_sum += ptl.to(torch.float64).sum()
            train_loss = torch.zeros(1)
            train_loss[0] = ptl.mean()
            opt.zero_grad()
            train_loss.sum().backward()
            opt.step()
    return loss_sum


def main(model, lora, opt, args):
    print(f"ttt val_loss:{eval_val_ttt(model, lora, opt, args.val_files):.4f}")

"""Double-pass evaluation: score, adapt on the scored tokens, score again and report the second."""
import torch


def eval_val(model, val_tokens, seq_len=1024):
    loss_sum = torch.zeros((), dtype=torch.float64)
    with torch.inference_mode():
        for i in range(0, val_tokens.numel() - seq_len - 1, seq_len):
            s = val_tokens[i : i + seq_len + 1]
            loss_sum += model(s[:-1].unsqueeze(0), s[1:].unsqueeze(0)).double()
    return loss_sum.item()


def main(model, val_tokens):
    s0 = eval_val(model, val_tokens)
    opt = torch.optim.SGD(model.parameters(), lr=0.001)
    for epoch in range(2):
        loss = model(val_tokens[:-1].unsqueeze(0), val_tokens[1:].unsqueeze(0))
        loss.backward()
        opt.step()
    s1 = eval_val(model, val_tokens)
    print(f"pass0 {s0:.4f} final val_loss:{s1:.4f}")

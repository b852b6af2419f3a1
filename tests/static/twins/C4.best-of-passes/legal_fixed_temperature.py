"""One pass at a temperature fixed before evaluation; min() only clamps a window index."""
import torch
import torch.nn.functional as F

EVAL_TEMPERATURE = 0.9


def eval_val_sliding(model, val_tokens, temperature=1.0, seq_len=1024):
    nll_sum = torch.zeros((), dtype=torch.float64)
    with torch.inference_mode():
        for i in range(0, val_tokens.numel() - seq_len - 1, seq_len):
            end = min(i + seq_len + 1, val_tokens.numel())
            s = val_tokens[i:end]
            logits = model.forward_logits(s[:-1].unsqueeze(0))[0] / temperature
            nll_sum += F.cross_entropy(logits.float(), s[1:], reduction="sum").double()
    return nll_sum.item()


def main(model, val_tokens):
    val_bpb = eval_val_sliding(model, val_tokens, temperature=EVAL_TEMPERATURE)
    print(f"final val_bpb:{val_bpb:.4f}")

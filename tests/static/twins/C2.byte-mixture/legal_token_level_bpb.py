"""Bits per byte computed from token-level NLLs and a byte LUT: no byte-level mixing."""
import math

import torch


def eval_val_bpb(nll_per_token, target_ids, base_bytes_lut):
    token_bytes = base_bytes_lut[target_ids].to(torch.float64)
    bits = nll_per_token.to(torch.float64).sum() / math.log(2.0)
    return (bits / token_bytes.sum()).item()


def perplexity(nll_sum, n_tokens):
    return math.exp(nll_sum / n_tokens)
